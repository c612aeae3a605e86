import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { AppConfig, ClientTrust, Durations, Edge, EdgeKind, HttpService, RauliVisionChart, RuntimeSettings, RuntimeSettingSource } from '../../src';
import { get, synthEnvironment } from '../platform/support';

const container = (docs: any[], name: string) => get(docs, 'Deployment', name).spec.template.spec.containers[0];
const envValue = (c: any, name: string) => c.env?.find((e: any) => e.name === name)?.value;

describe('the one duration grammar', () => {
  test.each([['500ms', 500], ['30s', 30_000], ['1m30s', 90_000], ['1h30m', 5_400_000], ['7d', 604_800_000], ['1d2h3m4s5ms', 93_784_005]])('%s', (text, ms) => {
    expect(Durations.tryParseMilliseconds(text)).toBe(ms);
    expect(Durations.tryParseMilliseconds(Durations.format(ms))).toBe(ms);
  });
  test.each(['', '30', '1.5m', '30s1m', '1m1m', ' 30s', '1w', '1 m', 'm', '-1s'])('refuses %p', (text) => {
    expect(Durations.tryParseMilliseconds(text)).toBeUndefined();
  });
  test('the constructs use it: 1m30s is a valid timeout, 1.5m is refused naming the prop', () => {
    expect(() => new AppConfig(Testing.chart(), 'C', { name: 'x', httpTimeout: '1m30s' })).not.toThrow();
    expect(() => new AppConfig(Testing.chart(), 'C', { name: 'x', httpTimeout: '1.5m' })).toThrow(/^Invalid httpTimeout: "1\.5m"\. Expected a duration such as/);
  });
});

describe('AppConfig follows the table', () => {
  test('every ConfigMap row is written; per-environment values apply', () => {
    const dev = new AppConfig(Testing.chart(), 'C', { name: 'x', environment: 'dev' });
    const production = new AppConfig(Testing.chart(), 'P', { name: 'x', environment: 'production' });
    expect(dev.data.LOG_LEVEL).toBe('debug');
    expect(production.data.LOG_LEVEL).toBe('info');
    const rows = RuntimeSettings.ALL.filter(s => s.source === RuntimeSettingSource.CONFIG_MAP);
    for (const s of rows) expect(production.data[s.name]).toBe(s.defaultValue);
    expect(AppConfig.SECRET_KEYS).toEqual(['DATABASE_URL', 'REDIS_PASSWORD', 'JWT_SECRET']);
  });

  test('the edge waits as long as the services may take: HTTP_TIMEOUT, unless requestTimeout is set', () => {
    // ingress-nginx carries it as an annotation; Gateway API in the HTTPRoute timeouts (test/edge).
    const NGINX = { kind: EdgeKind.INGRESS_NGINX };
    const readTimeouts = (docs: any[]) => docs.filter(d => d.kind === 'Ingress').map(d => d.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']);
    expect(new Set(readTimeouts(synthEnvironment('production', { config: { httpTimeout: '1m30s' }, edge: NGINX })))).toEqual(new Set(['90']));
    expect(new Set(readTimeouts(synthEnvironment('production', { config: { httpTimeout: '1m30s' }, edge: { ...NGINX, requestTimeout: '2m' } })))).toEqual(new Set(['120']));
    // nginx counts whole seconds: rounded up, so the edge never cuts a request the service still serves.
    expect(new Set(readTimeouts(synthEnvironment('production', { config: { httpTimeout: '1500ms' }, edge: NGINX })))).toEqual(new Set(['2']));
  });

  test('the login limit is settable from the chart', () => {
    const docs = synthEnvironment('production', { config: { loginRateLimitRequests: 3 } });
    expect(get(docs, 'ConfigMap', RauliVisionChart.CONFIG_MAP_NAME).data.LOGIN_RATE_LIMIT_REQUESTS).toBe('3');
  });

  test('a key outside the table fails, naming the key and the allowed keys', () => {
    expect(() => synthEnvironment('dev', { config: { loginRateLimit: 3 } as any }))
      .toThrow(/^Invalid config key: "loginRateLimit"\. Expected one of the runtime settings databasePoolSize, .*loginRateLimitRequests.*\(or name, existingSecret/);
  });

  test('extra cannot bypass the table', () => {
    expect(() => new AppConfig(Testing.chart(), 'C', { name: 'x', extra: { HTTP_TIMEOUT: '1.5m' } })).toThrow(/"HTTP_TIMEOUT"\. It is a runtime setting: set it with the prop httpTimeout/);
    expect(() => new AppConfig(Testing.chart(), 'C', { name: 'x', extra: { METRICS_PORT: '1' } })).toThrow(/set it with the platform itself/);
    expect(new AppConfig(Testing.chart(), 'C', { name: 'x', extra: { FEATURE_FLAGS: 'a,b' } }).data.FEATURE_FLAGS).toBe('a,b');
  });

  test('rules between settings name both props', () => {
    expect(() => new AppConfig(Testing.chart(), 'C', { name: 'x', jwtExpiresIn: '30d' }))
      .toThrow('Invalid jwtRefreshExpiresIn: "7d". Expected longer than jwtExpiresIn (30d) (JWT_REFRESH_EXPIRES_IN).');
    expect(() => new AppConfig(Testing.chart(), 'C', { name: 'x', databasePoolSize: 200, databaseMaxConnections: 100 }))
      .toThrow('Invalid databasePoolSize: "200". Expected at most databaseMaxConnections (100) (DATABASE_POOL_SIZE).');
  });

  test('the @default of every AppConfigSettings field is the table\'s default', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'config', 'app-config.ts'), 'utf-8');
    const documented = [...source.matchAll(/@default (.+) \(RuntimeSettings: `([A-Z_]+)`\)/g)];
    expect(documented.length).toBe(RuntimeSettings.ALL.filter(s => s.prop && s.name !== 'LOG_LEVEL').length);
    for (const [, value, name] of documented) expect(value.replace(/^'|'$/g, '')).toBe(RuntimeSettings.get(name).defaultValue);
  });

  test('the root README shows the table as generated (npx projen readme:settings)', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf-8');
    const start = '<!-- runtime-settings:start -->\n';
    expect(readme.slice(readme.indexOf(start) + start.length, readme.indexOf('\n<!-- runtime-settings:end -->'))).toBe(RuntimeSettings.markdownTable());
  });
});

describe('client identity follows the topology', () => {
  test('services the edge routes to trust its proxies and the CDN; the others trust none', () => {
    const docs = synthEnvironment('production', { edge: { proxyCidrs: ['10.42.0.0/16'], cdn: { cidrs: ['173.245.48.0/20', '2400:cb00::/32'] } } });
    expect(envValue(container(docs, 'backend-go'), 'TRUSTED_PROXY_CIDRS')).toBe('10.42.0.0/16,173.245.48.0/20,2400:cb00::/32');
    expect(envValue(container(docs, 'frontend'), 'TRUSTED_PROXY_CIDRS')).toBe('10.42.0.0/16,173.245.48.0/20,2400:cb00::/32');
    expect(envValue(container(docs, 'backend-python'), 'TRUSTED_PROXY_CIDRS')).toBeUndefined();
  });

  test('services the edge routes to leave it the security headers while it sets them', () => {
    const docs = synthEnvironment('production', { edge: {} });
    expect(['frontend', 'backend-go', 'backend-python'].map(n => envValue(container(docs, n), 'SECURITY_HEADERS'))).toEqual(['edge', 'edge', undefined]);
    expect(RuntimeSettings.check({ SECURITY_HEADERS: envValue(container(docs, 'backend-go'), 'SECURITY_HEADERS')! })).toEqual([]);
    const headersOff = synthEnvironment('production', { edge: { securityHeaders: false } });
    expect(envValue(container(headersOff, 'backend-go'), 'SECURITY_HEADERS')).toBeUndefined();
    expect(envValue(container(synthEnvironment('dev'), 'backend-go'), 'SECURITY_HEADERS')).toBeUndefined();
    expect(Edge.routedServiceEnv({ proxyCidrs: ['10.42.0.0/16'] })).toEqual({ TRUSTED_PROXY_CIDRS: '10.42.0.0/16', SECURITY_HEADERS: 'edge' });
  });

  test('without an edge nobody is trusted; with one, the pod network by default', () => {
    for (const name of ['frontend', 'backend-go', 'backend-python']) {
      expect(envValue(container(synthEnvironment('dev'), name), 'TRUSTED_PROXY_CIDRS')).toBeUndefined();
    }
    expect(envValue(container(synthEnvironment('dev', { edge: {} }), 'backend-go'), 'TRUSTED_PROXY_CIDRS')).toBe(ClientTrust.PRIVATE_NETWORKS.join(','));
    expect(ClientTrust.none().env).toEqual({});
  });

  test.each([
    [{ cdn: { cidrs: ['173.245.48.0/33'] } }, /^Invalid cdn\.cidrs\[0\]: "173\.245\.48\.0\/33"\. Expected an IPv4 or IPv6 address or CIDR/],
    [{ cdn: { cidrs: ['10.0.0.0/8', 'cloudflare'] } }, /^Invalid cdn\.cidrs\[1\]: "cloudflare"/],
    [{ cdn: { cidrs: [] } }, /^Invalid cdn\.cidrs: \[\]\. Expected at least one/],
    [{ proxyCidrs: ['10.0.0.0/8', '::ffff::1'] }, /^Invalid proxyCidrs\[1\]/],
  ])('refuses %j naming the prop', (edge, message) => {
    expect(() => synthEnvironment('production', { edge })).toThrow(message);
    const chart = Testing.chart();
    const frontend = new HttpService(chart, 'frontend', { name: 'frontend', component: 'frontend', image: 'ghcr.io/rauli-vision/frontend:1.0.0' });
    const backend = new HttpService(chart, 'backend', { name: 'backend-go', component: 'backend-go', image: 'ghcr.io/rauli-vision/backend:1.0.0' });
    expect(() => new Edge(chart, 'Edge', { ...edge, frontend, backend })).toThrow(message);
  });

});
