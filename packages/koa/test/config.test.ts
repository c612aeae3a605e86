import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig, parseDuration, RuntimeDefaults, ServiceConventions } from '../src';
import { RuntimeSettings } from '../src/generated/runtime-settings';

const SECRET = 'a'.repeat(32);

describe('parseDuration', () => {
  test.each([['500ms', 500], ['30s', 30_000], ['1m', 60_000], ['24h', 86_400_000], ['7d', 604_800_000], ['1m30s', 90_000], ['1h30m', 5_400_000], ['1d12h', 129_600_000], ['2s500ms', 2500]])('%s', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });
  test.each(['30', '', '1 m', 'm', '-1s', '10y', '1.5s', '30s1m', '1m1m'])('refuses %p', (input) => {
    expect(() => parseDuration(input)).toThrow(/duration/);
  });
});

describe('loadConfig', () => {
  test('defaults come from the conventions', () => {
    const c = loadConfig({ JWT_SECRET: SECRET });
    expect(c.nodeEnv).toBe('production');
    expect(c.port).toBe(ServiceConventions.HTTP_PORT);
    expect(c.monitoring.metricsPort).toBe(ServiceConventions.METRICS_PORT);
    expect(c.database.url).toBeUndefined();
    expect(c.database.poolSize).toBe(RuntimeDefaults.DATABASE_POOL_SIZE);
    expect(c.performance.httpTimeoutMs).toBe(parseDuration(RuntimeDefaults.HTTP_TIMEOUT));
    expect(c.performance.maxConcurrentRequests).toBe(RuntimeDefaults.MAX_CONCURRENT_REQUESTS);
    expect(c.performance.rateLimitRequests).toBe(RuntimeDefaults.RATE_LIMIT_REQUESTS);
    expect(c.performance.rateLimitWindowMs).toBe(60_000);
    expect(c.security.jwtExpiresInMs).toBe(24 * 3_600_000);
    expect(c.monitoring.shutdownDrainMs).toBe(RuntimeDefaults.SHUTDOWN_DRAIN_SECONDS * 1000);
    expect(c.monitoring.terminationGraceMs).toBe(RuntimeDefaults.TERMINATION_GRACE_SECONDS * 1000);
    expect(c.logging).toEqual({ level: 'info', format: 'json', output: 'stdout' });
  });

  test('reads the guide\'s .env.production', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://user:pass@postgres:5432/rauli_production',
      DATABASE_POOL_SIZE: '20',
      DATABASE_MAX_CONNECTIONS: '100',
      REDIS_URL: 'redis://redis:6379',
      REDIS_CLUSTER_NODES: 'redis-1:6379,redis-2:6379,redis-3:6379',
      JWT_SECRET: 'super-secure-jwt-secret-256-bits',
      JWT_EXPIRES_IN: '24h',
      BCRYPT_ROUNDS: '12',
      HTTP_TIMEOUT: '30s',
      MAX_CONCURRENT_REQUESTS: '1000',
      RATE_LIMIT_REQUESTS: '100',
      RATE_LIMIT_WINDOW: '1m',
      PROMETHEUS_ENABLED: 'true',
      METRICS_PORT: '9090',
      HEALTH_CHECK_INTERVAL: '30s',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      LOG_OUTPUT: 'stdout',
    });
    expect(c.redis.clusterNodes).toEqual(['redis-1:6379', 'redis-2:6379', 'redis-3:6379']);
    expect(c.redis.password).toBeUndefined();
    expect(c.database.url).toContain('rauli_production');
    expect(c.security.bcryptRounds).toBe(12);
    expect(c.monitoring.healthCheckIntervalMs).toBe(30_000);
  });

  test('reports every problem at once, with name, value and expectation', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://root:hunter2@db/x',
        DATABASE_POOL_SIZE: '200',
        DATABASE_MAX_CONNECTIONS: '100',
        REDIS_URL: 'http://redis',
        REDIS_CLUSTER_NODES: 'redis-1,redis-2:6379',
        JWT_SECRET: 'short-secret-value',
        JWT_EXPIRES_IN: '24 hours',
        BCRYPT_ROUNDS: '4',
        HTTP_TIMEOUT: '30',
        MAX_CONCURRENT_REQUESTS: '-5',
        RATE_LIMIT_REQUESTS: 'many',
        RATE_LIMIT_WINDOW: '1x',
        PROMETHEUS_ENABLED: 'maybe',
        METRICS_PORT: '70000',
        HEALTH_CHECK_INTERVAL: 'soon',
        LOG_LEVEL: 'verbose',
        LOG_FORMAT: 'xml',
        LOG_OUTPUT: 'file',
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = error!.problems.map((p) => p.name).sort();
    expect(names).toEqual([
      'BCRYPT_ROUNDS', 'DATABASE_POOL_SIZE', 'DATABASE_URL', 'HEALTH_CHECK_INTERVAL', 'HTTP_TIMEOUT', 'JWT_EXPIRES_IN', 'JWT_SECRET',
      'LOG_FORMAT', 'LOG_LEVEL', 'LOG_OUTPUT', 'MAX_CONCURRENT_REQUESTS', 'METRICS_PORT', 'PROMETHEUS_ENABLED',
      'RATE_LIMIT_REQUESTS', 'RATE_LIMIT_WINDOW', 'REDIS_CLUSTER_NODES', 'REDIS_URL',
    ]);
    for (const p of error!.problems) {
      expect(p.expected.length).toBeGreaterThan(0);
      expect(error!.message).toContain(`${p.name}=`);
    }
    expect(error!.problems.find((p) => p.name === 'HTTP_TIMEOUT')).toMatchObject({ value: '30', expected: expect.stringContaining('30s') });
    expect(error!.problems.find((p) => p.name === 'LOG_LEVEL')!.expected).toContain('debug');
    // Secrets never reach the message.
    expect(error!.message).not.toContain('short-secret-value');
    expect(error!.message).not.toContain('hunter2');
    expect(error!.message).toContain('mysql://root:***@db/x');
    expect(error!.message).toMatch(/JWT_SECRET=<redacted, 18 bytes>: expected at least 32 bytes/);
  });

  test('JWT_SECRET is required in production only; cross-variable rules', () => {
    expect(() => loadConfig({})).toThrow(/JWT_SECRET=\(unset\)/);
    expect(loadConfig({ NODE_ENV: 'development' }).security.jwtSecret).toBeUndefined();
    const err = (() => {
      try {
        loadConfig({ JWT_SECRET: SECRET, PORT: '9090', SHUTDOWN_DRAIN_DELAY: '60s', JWT_REFRESH_EXPIRES_IN: '1h' });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(err!.problems.map((p) => p.name).sort()).toEqual(['JWT_REFRESH_EXPIRES_IN', 'METRICS_PORT', 'TERMINATION_GRACE_PERIOD']);
  });

  test('REDIS_PASSWORD (the platform Secret\'s key) is read for a cluster and never printed', () => {
    const env = { NODE_ENV: 'development', REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6379', REDIS_PASSWORD: 'cluster-password-value' };
    expect(loadConfig(env).redis).toEqual({ url: undefined, clusterNodes: ['redis-0:6379', 'redis-1:6379'], password: 'cluster-password-value' });
    let error: ConfigError | undefined;
    try {
      loadConfig({ ...env, HTTP_TIMEOUT: 'soon' });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error!.problems.map((p) => p.name)).toEqual(['HTTP_TIMEOUT']);
    expect(error!.message).not.toContain('cluster-password-value');
  });

  test('every variable read is documented in the README table', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const source = readFileSync(join(__dirname, '..', 'src', 'config', 'config.ts'), 'utf8');
    const read = new Set([...source.matchAll(/r\.(?:raw|string|oneOf|int|bool|duration|url)(?:<\w+>)?\('([A-Z_]+)'/g)].map((m) => m[1]));
    expect(new Set(CONFIG_VARIABLES.map((v) => v.name))).toEqual(read);
    for (const v of CONFIG_VARIABLES) expect(readme).toContain(`| \`${v.name}\` |`);
    // Defaults, bounds and rules live in the table only: no reader call carries a second argument.
    expect(source).not.toMatch(/r\.(?:string|oneOf|int|bool|duration)(?:<\w+>)?\('[A-Z_]+',/);
  });

  test('the README shows the table of runtime settings as generated (npx projen readme:settings)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const start = '<!-- runtime-settings:start -->\n';
    const section = readme.slice(readme.indexOf(start) + start.length, readme.indexOf('\n<!-- runtime-settings:end -->'));
    expect(section).toBe(RuntimeSettings.markdownTable());
  });

  test('SECURITY_HEADERS: service unless set to edge; anything else refused, naming the allowed values', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).security.securityHeaders).toBe('service');
    expect(loadConfig({ JWT_SECRET: SECRET, SECURITY_HEADERS: 'edge' }).security.securityHeaders).toBe('edge');
    expect(() => loadConfig({ JWT_SECRET: SECRET, SECURITY_HEADERS: 'nginx' })).toThrow(/SECURITY_HEADERS=nginx.*service.*edge/s);
  });

  test('TRUSTED_PROXY_CIDRS: a list of addresses and CIDRs, anything else refused', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).security.trustedProxyCidrs).toEqual([]);
    expect(loadConfig({ JWT_SECRET: SECRET, TRUSTED_PROXY_CIDRS: '10.0.0.0/8, ::1,2001:db8::/32' }).security.trustedProxyCidrs).toEqual(['10.0.0.0/8', '::1', '2001:db8::/32']);
    for (const bad of ['10.0.0.0/33', '1', 'proxy.local', '10.0.0.0/8,,', '300.1.1.1']) {
      expect(() => loadConfig({ JWT_SECRET: SECRET, TRUSTED_PROXY_CIDRS: bad })).toThrow(/TRUSTED_PROXY_CIDRS=/);
    }
  });
});
