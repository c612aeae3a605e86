/**
 * The platform and this package agree on every runtime setting, in both
 * directions: whatever the constructs write into the ConfigMap (every preset,
 * overrides of every key, compound durations) `loadConfig` accepts, and
 * whatever `loadConfig` would refuse the constructs refuse at synth time,
 * naming the prop. The real constructs (the platform's source, one folder up)
 * against the real loadConfig: nothing is re-implemented here.
 */
import * as fc from 'fast-check';
import { ConfigError, loadConfig } from '../src';
import { RuntimeSetting, RuntimeSettings, RuntimeSettingSource, RuntimeSettingType } from '../src/generated/runtime-settings';

// The platform's source (and its cdk8s) is required untyped: this package's
// tsconfig (rootDir) and dependencies cannot take it in.
interface AppConfigClass {
  readonly SETTING_KEYS: string[];
  new (scope: unknown, id: string, props: { readonly [key: string]: unknown }): { readonly data: { [key: string]: string } };
}
interface ChartClass {
  readonly CONFIG_MAP_NAME: string;
  new (scope: unknown, id: string, props: { readonly [key: string]: unknown }): never;
}
/* eslint-disable @typescript-eslint/no-require-imports, import/no-extraneous-dependencies */
const { Testing } = require('cdk8s') as { Testing: { app(): unknown; chart(): unknown; synth(chart: unknown): any[] } };
const { AppConfig } = require('../../../src/config/app-config') as { AppConfig: AppConfigClass };
const { RauliVisionChart } = require('../../../src/platform/rauli-vision-chart') as { RauliVisionChart: ChartClass };
/* eslint-enable @typescript-eslint/no-require-imports, import/no-extraneous-dependencies */

const IMAGES = {
  frontend: 'ghcr.io/rauli-vision/frontend:1.0.0',
  backendGo: 'ghcr.io/rauli-vision/backend:1.0.0',
  backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0',
};
/** The Secret's keys with fake values: the platform never writes them. */
const FAKE_SECRET = {
  DATABASE_URL: 'postgresql://app:fake-password@postgres-rw:5432/rauli',
  JWT_SECRET: 'fake-jwt-secret-of-at-least-thirty-two-bytes',
  REDIS_PASSWORD: 'fake-redis-password',
};
const SETTABLE = RuntimeSettings.ALL.filter((s) => s.source === RuntimeSettingSource.CONFIG_MAP && s.prop !== undefined);

const UNITS: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];

/** Durations of the grammar, compound ones included ('1m30s', '2h0m5s', '7d'), from `min` to `max` ms. */
function duration(min = 0, max = 400 * 86_400_000): fc.Arbitrary<string> {
  return fc.tuple(...UNITS.map(([, ms]) => fc.option(fc.nat({ max: ms === 1 ? 999 : 40 }), { nil: undefined })))
    .map((amounts) => ({ text: amounts.map((n, i) => (n === undefined ? '' : `${n}${UNITS[i][0]}`)).join(''), ms: amounts.reduce<number>((t, n, i) => t + (n ?? 0) * UNITS[i][1], 0) }))
    .filter((d) => d.text !== '' && d.ms >= min && d.ms <= max)
    .map((d) => d.text);
}

/**
 * Where the rules between settings would refuse most random pairs, the first
 * direction draws from ranges that keep them true whichever of the pair is
 * overridden (so its runs reach loadConfig); the second direction covers the
 * rules themselves.
 */
const RULE_SAFE: { [prop: string]: { min?: number; max?: number } } = {
  databasePoolSize: { max: 50 },
  jwtExpiresIn: { max: 86_400_000 },
  jwtRefreshExpiresIn: { min: 7 * 86_400_000 + 1 },
  healthCheckTimeout: { max: 2000 },
  healthCheckInterval: { min: 30_001 },
};

/** Values the table allows for `setting`, typed as the prop takes them. */
function validValue(setting: RuntimeSetting, ruleSafe = false): fc.Arbitrary<string | number> {
  const range = ruleSafe ? RULE_SAFE[setting.prop!] ?? {} : {};
  switch (setting.type) {
    case RuntimeSettingType.INTEGER: return fc.integer({ min: range.min ?? setting.min ?? 0, max: Math.min(range.max ?? setting.max ?? 1e9, 1e9) });
    case RuntimeSettingType.DURATION: return duration(range.min ?? setting.min ?? 0, range.max);
    case RuntimeSettingType.ENUM: return fc.constantFrom(...setting.allowed!);
    default: return fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s);
  }
}

/** Anything a user might write: valid values, near misses and garbage. */
function anyValue(setting: RuntimeSetting): fc.Arbitrary<string | number> {
  if (setting.type === RuntimeSettingType.INTEGER) {
    return fc.oneof(
      validValue(setting),
      fc.integer({ min: -100, max: 2_000_000_000 }),
      fc.double({ noNaN: false }),
      fc.constantFrom(0, -1, (setting.max ?? 0) + 1, 1.5),
    );
  }
  return fc.oneof(
    validValue(setting),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('1.5m', '1s1m', '1m1m', ' 30s', '30s ', '', '30', '-1s', '1w', '5 m', '0s', '0ms', '9ms', 'INFO', 'Debug', '1M', '90S'),
    fc.tuple(fc.nat({ max: 99 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'x', '')).map(([n, u]) => `${n}${u}`),
  );
}

/** The environment a backend pod starts with: its ConfigMap, its own env, the Secret's keys. */
function podEnvironment(docs: any[], deployment: string): { [name: string]: string } {
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === RauliVisionChart.CONFIG_MAP_NAME);
  const pod = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === deployment);
  const container = pod.spec.template.spec.containers[0];
  const own = Object.fromEntries((container.env ?? [])
    .filter((e: any) => e.value !== undefined)
    .map((e: any) => [e.name, e.value]));
  const secretKeys = (container.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
  expect(secretKeys.sort()).toEqual(Object.keys(FAKE_SECRET).sort());
  return { ...configMap.data, ...own, ...FAKE_SECRET };
}

function refusal(run: () => unknown): Error | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

test('every row with a prop is a field AppConfig accepts, and every ConfigMap row is written', () => {
  expect(SETTABLE.map((s) => s.prop).sort()).toEqual([...AppConfig.SETTING_KEYS].sort());
  const config = new AppConfig(Testing.chart(), 'Config', { name: 'x' });
  const written = RuntimeSettings.ALL
    .filter((s) => [RuntimeSettingSource.CONFIG_MAP, RuntimeSettingSource.PLATFORM].includes(s.source) && s.defaultValue !== undefined);
  for (const s of written) expect(config.data[s.name]).toBe(s.defaultValue);
});

test.each(['dev', 'staging', 'production'])('every value the %s preset can write is accepted by loadConfig', (environment) => {
  let started = 0;
  fc.assert(fc.property(
    fc.record(Object.fromEntries(SETTABLE.map((s) => [s.prop!, validValue(s, true)])), { requiredKeys: [] }),
    fc.boolean(),
    (overrides, cdn) => {
      let docs: any[];
      try {
        const chart = new RauliVisionChart(Testing.app(), 'rv', {
          environment,
          images: IMAGES,
          config: overrides,
          edge: { cdn: cdn ? { cidrs: ['173.245.48.0/20', '2400:cb00::/32'] } : undefined },
        });
        docs = Testing.synth(chart);
      } catch (err) {
        // A combination breaking a rule between settings (refresh shorter than access token...) is refused, naming a prop.
        expect((err as Error).name).toBe('PropValidationError');
        return;
      }
      for (const deployment of ['backend-go', 'backend-python']) {
        const env = podEnvironment(docs, deployment);
        const config = loadConfig(env);
        expect(config.performance.rateLimitRequests).toBe(Number(env.RATE_LIMIT_REQUESTS));
        expect(config.performance.loginRateLimitRequests).toBe(Number(env.LOGIN_RATE_LIMIT_REQUESTS));
        // Only the service the edge routes to believes proxies.
        expect(config.security.trustedProxyCidrs.length > 0).toBe(deployment === 'backend-go');
      }
      started++;
    },
  ), { numRuns: 40 });
  // Most runs reach loadConfig, not the rules' refusal.
  expect(started).toBeGreaterThan(30);
});

test('every value loadConfig refuses, the construct refuses at synth time, naming the prop', () => {
  let refusedByBoth = 0;
  fc.assert(fc.property(
    fc.constantFrom(...SETTABLE).chain((s) => fc.tuple(fc.constant(s), anyValue(s))),
    ([setting, value]) => {
      const base = new AppConfig(Testing.chart(), 'Base', { name: 'x', environment: 'production' }).data;
      const koa = refusal(() => loadConfig({ ...base, ...FAKE_SECRET, [setting.name]: String(value) }));
      const platform = refusal(() => new AppConfig(Testing.chart(), 'Config', { name: 'x', environment: 'production', [setting.prop!]: value }));
      if (koa) {
        expect(koa).toBeInstanceOf(ConfigError);
        expect(platform).toBeDefined();
        // The prop itself, or for a rule between two settings the rule's message naming both.
        expect(platform!.message).toMatch(/^Invalid [a-zA-Z]+: /);
        expect(platform!.message).toContain(setting.prop);
        refusedByBoth++;
      }
      if (!platform) {
        expect(koa).toBeUndefined();
      }
    },
  ), { numRuns: 600 });
  // The generators reach the refusals, not just valid values.
  expect(refusedByBoth).toBeGreaterThan(100);
});

test('the breaks of issue 14 stay fixed: 1m30s works everywhere, 1.5m is refused at synth time naming the prop', () => {
  const docs = Testing.synth(new RauliVisionChart(Testing.app(), 'rv', { environment: 'production', images: IMAGES, config: { httpTimeout: '1m30s' }, edge: {} }));
  expect(loadConfig(podEnvironment(docs, 'backend-go')).performance.httpTimeoutMs).toBe(90_000);
  expect(() => new RauliVisionChart(Testing.app(), 'rv', { environment: 'production', images: IMAGES, config: { httpTimeout: '1.5m' } }))
    .toThrow(/Invalid httpTimeout: "1.5m"\. Expected a duration/);
  expect(() => new RauliVisionChart(Testing.app(), 'rv', { environment: 'production', images: IMAGES, config: { loginRateLimit: 3 } }))
    .toThrow(/Invalid config key: "loginRateLimit".*loginRateLimitRequests/);
});
