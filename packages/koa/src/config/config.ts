import { RuntimeDefaults, ServiceConventions } from '../conventions.generated';
import { parseClusterNodes } from '../redis';
import { DURATION_EXPECTATION, parseDuration } from '../util/duration';

export type NodeEnv = 'production' | 'development' | 'test';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'text';
export type LogOutput = 'stdout' | 'stderr';

/** Everything a service reads from its environment, validated and typed. Durations are in milliseconds. */
export interface ServiceConfig {
  readonly serviceName: string;
  readonly nodeEnv: NodeEnv;
  readonly port: number;
  readonly database: {
    /** Unset: the service runs without PostgreSQL. */
    readonly url?: string;
    readonly poolSize: number;
    readonly maxConnections: number;
    readonly connectTimeoutMs: number;
    readonly idleTimeoutMs: number;
  };
  readonly redis: {
    readonly url?: string;
    /** `host:port` entries; when set, Redis Cluster is used and `url` is ignored. */
    readonly clusterNodes?: readonly string[];
    /** AUTH password of every node (single or cluster); overrides the one in `url`. */
    readonly password?: string;
  };
  readonly security: {
    /** Unset only outside production (the service then signs with an ephemeral random secret). */
    readonly jwtSecret?: string;
    readonly jwtExpiresInMs: number;
    readonly jwtRefreshExpiresInMs: number;
    readonly jwtIssuer: string;
    readonly jwtAudience: string;
    readonly bcryptRounds: number;
    /** Proxy hops trusted to append X-Forwarded-For; 0 means the socket address is the client. */
    readonly trustedProxyHops: number;
  };
  readonly performance: {
    readonly httpTimeoutMs: number;
    readonly maxConcurrentRequests: number;
    readonly rateLimitRequests: number;
    readonly rateLimitWindowMs: number;
    readonly loginRateLimitRequests: number;
    readonly maxBodyBytes: number;
  };
  readonly monitoring: {
    readonly prometheusEnabled: boolean;
    readonly metricsPort: number;
    readonly healthCheckIntervalMs: number;
    readonly healthCheckTimeoutMs: number;
    readonly shutdownDrainMs: number;
    readonly terminationGraceMs: number;
  };
  readonly logging: {
    readonly level: LogLevel;
    readonly format: LogFormat;
    readonly output: LogOutput;
  };
}

/** One invalid variable: its name, the value as safe to print, and what was expected. */
export interface ConfigProblem {
  readonly name: string;
  readonly value: string;
  readonly expected: string;
}

/** Thrown by {@link loadConfig} with every problem found, never just the first one. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`
      + problems.map((p) => `  - ${p.name}=${p.value}: expected ${p.expected}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Description of one variable, for the README table and `describeConfig()`. */
export interface ConfigVariable {
  readonly name: string;
  readonly default: string;
  readonly meaning: string;
}

const MIN_JWT_SECRET_BYTES = 32;

/** Hides a URL's password: `postgresql://app:***@db:5432/x`. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

function redactSecret(value: string): string {
  return `<redacted, ${Buffer.byteLength(value)} bytes>`;
}

type Env = { readonly [name: string]: string | undefined };

/** Reads variables, remembering every problem instead of stopping at the first. */
class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  problem(name: string, value: string, expected: string): void {
    this.problems.push({ name, value, expected });
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problem(name, v, `one of ${allowed.join(', ')}`);
    return fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (/^\d+$/.test(v) && n >= min && n <= max) return n;
    this.problem(name, v, `an integer from ${min} to ${max}`);
    return fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    this.problem(name, v, 'true or false');
    return fallback;
  }

  duration(name: string, fallback: string, minMs = 1): number {
    const v = this.raw(name) ?? fallback;
    try {
      const ms = parseDuration(v);
      if (ms >= minMs) return ms;
    } catch {
      // reported below
    }
    this.problem(name, v, `${DURATION_EXPECTATION}, at least ${minMs} ms`);
    return parseDuration(fallback);
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (protocols.includes(u.protocol) && u.hostname) return v;
    } catch {
      // reported below
    }
    this.problem(name, redactUrl(v), `a URL like ${protocols[0]}//user:password@host:port/...`);
    return undefined;
  }
}

/** Every variable read by {@link loadConfig}: name, default and meaning (rendered in the README). */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'NODE_ENV', default: 'production', meaning: 'production, development or test. development drops HSTS and allows an unset JWT_SECRET (ephemeral random secret).' },
  { name: 'SERVICE_NAME', default: 'rauli-service', meaning: 'Name written in every log line.' },
  { name: 'PORT', default: String(ServiceConventions.HTTP_PORT), meaning: 'HTTP port of the application.' },
  { name: 'DATABASE_URL', default: '(unset: no database)', meaning: 'postgresql:// URL; when set, a pg-pool pool is created, pinged at startup and checked by /readyz.' },
  { name: 'DATABASE_POOL_SIZE', default: String(RuntimeDefaults.DATABASE_POOL_SIZE), meaning: 'Maximum connections in this process\'s pool (at most DATABASE_MAX_CONNECTIONS).' },
  { name: 'DATABASE_MAX_CONNECTIONS', default: String(RuntimeDefaults.DATABASE_MAX_CONNECTIONS), meaning: 'The server\'s max_connections budget; the pool size may not exceed it.' },
  { name: 'DATABASE_CONNECT_TIMEOUT', default: '5s', meaning: 'Timeout to open a connection and of the startup ping.' },
  { name: 'DATABASE_IDLE_TIMEOUT', default: '30s', meaning: 'Idle pooled connections are closed after this.' },
  { name: 'REDIS_URL', default: '(unset: in-memory fallbacks)', meaning: 'redis:// or rediss:// URL of a single Redis for rate limits and cache.' },
  { name: 'REDIS_CLUSTER_NODES', default: '(unset)', meaning: 'host:port,host:port seed nodes of a Redis Cluster; takes precedence over REDIS_URL.' },
  { name: 'REDIS_PASSWORD', default: '(unset)', meaning: 'AUTH password of every Redis node (the platform\'s Redis Cluster requires one); overrides the password in REDIS_URL. Never printed.' },
  { name: 'JWT_SECRET', default: '(required in production)', meaning: 'HS256 secret, at least 256 bits (32 bytes). Never printed.' },
  { name: 'JWT_EXPIRES_IN', default: RuntimeDefaults.JWT_EXPIRES_IN, meaning: 'Access token lifetime.' },
  { name: 'JWT_REFRESH_EXPIRES_IN', default: '7d', meaning: 'Refresh token lifetime (longer than JWT_EXPIRES_IN).' },
  { name: 'JWT_ISSUER', default: 'rauli-vision', meaning: '`iss` claim signed and required.' },
  { name: 'JWT_AUDIENCE', default: 'rauli-vision', meaning: '`aud` claim signed and required.' },
  { name: 'BCRYPT_ROUNDS', default: String(RuntimeDefaults.BCRYPT_ROUNDS), meaning: 'Cost for services that hash passwords (10 to 31).' },
  { name: 'TRUSTED_PROXY_HOPS', default: '0', meaning: 'Proxies in front of the service allowed to set X-Forwarded-For; 0 = the socket address identifies the client.' },
  { name: 'HTTP_TIMEOUT', default: RuntimeDefaults.HTTP_TIMEOUT, meaning: 'Longest a request may take: past it the client gets 503 and the handler\'s signal aborts.' },
  { name: 'MAX_CONCURRENT_REQUESTS', default: String(RuntimeDefaults.MAX_CONCURRENT_REQUESTS), meaning: 'Requests handled at once by this process; more get 503 with Retry-After.' },
  { name: 'MAX_BODY_SIZE', default: '1048576', meaning: 'Largest request body in bytes; larger bodies get 413.' },
  { name: 'RATE_LIMIT_REQUESTS', default: String(RuntimeDefaults.RATE_LIMIT_REQUESTS), meaning: 'Requests per client per window.' },
  { name: 'RATE_LIMIT_WINDOW', default: RuntimeDefaults.RATE_LIMIT_WINDOW, meaning: 'Rate-limit window.' },
  { name: 'LOGIN_RATE_LIMIT_REQUESTS', default: String(RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS), meaning: 'Stricter per-client limit for login routes (same window).' },
  { name: 'PROMETHEUS_ENABLED', default: 'true', meaning: 'Serve /metrics on METRICS_PORT.' },
  { name: 'METRICS_PORT', default: String(ServiceConventions.METRICS_PORT), meaning: 'Port of the separate metrics server (must differ from PORT).' },
  { name: 'HEALTH_CHECK_INTERVAL', default: '30s', meaning: 'How often the platform probes; /readyz dependency checks must finish within it (with HEALTH_CHECK_TIMEOUT).' },
  { name: 'HEALTH_CHECK_TIMEOUT', default: '2s', meaning: 'Timeout of each /readyz dependency check (PostgreSQL, Redis).' },
  { name: 'SHUTDOWN_DRAIN_DELAY', default: `${RuntimeDefaults.SHUTDOWN_DRAIN_SECONDS}s`, meaning: 'After SIGTERM, /readyz fails and the server keeps serving this long before closing.' },
  { name: 'TERMINATION_GRACE_PERIOD', default: `${RuntimeDefaults.TERMINATION_GRACE_SECONDS}s`, meaning: 'The pod\'s grace period; the process exits before it (must exceed SHUTDOWN_DRAIN_DELAY).' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'trace, debug, info, warn, error, fatal or silent.' },
  { name: 'LOG_FORMAT', default: 'json', meaning: 'json (one object per line) or text.' },
  { name: 'LOG_OUTPUT', default: 'stdout', meaning: 'stdout or stderr.' },
];

/**
 * Reads and validates the seed's `.env.production` variables (and the few this
 * package adds). Throws a {@link ConfigError} listing every problem at once;
 * secret values never appear in it.
 */
export function loadConfig(env: Env = process.env): ServiceConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf<NodeEnv>('NODE_ENV', ['production', 'development', 'test'], 'production');
  const port = r.int('PORT', ServiceConventions.HTTP_PORT, 1, 65535);

  const poolSize = r.int('DATABASE_POOL_SIZE', RuntimeDefaults.DATABASE_POOL_SIZE, 1, 10_000);
  const maxConnections = r.int('DATABASE_MAX_CONNECTIONS', RuntimeDefaults.DATABASE_MAX_CONNECTIONS, 1, 100_000);
  if (poolSize > maxConnections) {
    r.problem('DATABASE_POOL_SIZE', String(poolSize), `at most DATABASE_MAX_CONNECTIONS (${maxConnections})`);
  }
  const database = {
    url: r.url('DATABASE_URL', ['postgresql:', 'postgres:']),
    poolSize,
    maxConnections,
    connectTimeoutMs: r.duration('DATABASE_CONNECT_TIMEOUT', '5s'),
    idleTimeoutMs: r.duration('DATABASE_IDLE_TIMEOUT', '30s'),
  };

  let clusterNodes: string[] | undefined;
  const nodes = r.raw('REDIS_CLUSTER_NODES');
  if (nodes !== undefined) {
    try {
      clusterNodes = parseClusterNodes(nodes).map((n) => `${n.host}:${n.port}`);
      if (clusterNodes.length === 0) throw new Error('empty');
    } catch {
      clusterNodes = undefined;
      r.problem('REDIS_CLUSTER_NODES', redactUrl(nodes), 'a comma-separated list of host:port');
    }
  }
  // A cluster has no URL to carry its password: the platform's Secret holds it as REDIS_PASSWORD.
  const redis = { url: r.url('REDIS_URL', ['redis:', 'rediss:']), clusterNodes, password: r.raw('REDIS_PASSWORD') };

  const jwtSecret = r.raw('JWT_SECRET');
  if (jwtSecret === undefined && nodeEnv === 'production') {
    r.problem('JWT_SECRET', '(unset)', `a secret of at least ${MIN_JWT_SECRET_BYTES} bytes (256 bits); required when NODE_ENV=production`);
  } else if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < MIN_JWT_SECRET_BYTES) {
    r.problem('JWT_SECRET', redactSecret(jwtSecret), `at least ${MIN_JWT_SECRET_BYTES} bytes (256 bits)`);
  }
  const jwtExpiresInMs = r.duration('JWT_EXPIRES_IN', RuntimeDefaults.JWT_EXPIRES_IN, 1000);
  const jwtRefreshExpiresInMs = r.duration('JWT_REFRESH_EXPIRES_IN', '7d', 1000);
  if (jwtRefreshExpiresInMs <= jwtExpiresInMs) {
    r.problem('JWT_REFRESH_EXPIRES_IN', r.string('JWT_REFRESH_EXPIRES_IN', '7d'), `longer than JWT_EXPIRES_IN (${r.string('JWT_EXPIRES_IN', RuntimeDefaults.JWT_EXPIRES_IN)})`);
  }
  const security = {
    jwtSecret,
    jwtExpiresInMs,
    jwtRefreshExpiresInMs,
    jwtIssuer: r.string('JWT_ISSUER', 'rauli-vision'),
    jwtAudience: r.string('JWT_AUDIENCE', 'rauli-vision'),
    bcryptRounds: r.int('BCRYPT_ROUNDS', RuntimeDefaults.BCRYPT_ROUNDS, 10, 31),
    trustedProxyHops: r.int('TRUSTED_PROXY_HOPS', 0, 0, 10),
  };

  const performance = {
    httpTimeoutMs: r.duration('HTTP_TIMEOUT', RuntimeDefaults.HTTP_TIMEOUT, 10),
    maxConcurrentRequests: r.int('MAX_CONCURRENT_REQUESTS', RuntimeDefaults.MAX_CONCURRENT_REQUESTS, 1, 1_000_000),
    rateLimitRequests: r.int('RATE_LIMIT_REQUESTS', RuntimeDefaults.RATE_LIMIT_REQUESTS, 1, 1_000_000_000),
    rateLimitWindowMs: r.duration('RATE_LIMIT_WINDOW', RuntimeDefaults.RATE_LIMIT_WINDOW, 1000),
    loginRateLimitRequests: r.int('LOGIN_RATE_LIMIT_REQUESTS', RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS, 1, 1_000_000_000),
    maxBodyBytes: r.int('MAX_BODY_SIZE', 1_048_576, 0, 1_073_741_824),
  };

  const metricsPort = r.int('METRICS_PORT', ServiceConventions.METRICS_PORT, 1, 65535);
  if (metricsPort === port) {
    r.problem('METRICS_PORT', String(metricsPort), `a port other than PORT (${port})`);
  }
  const shutdownDrainMs = r.duration('SHUTDOWN_DRAIN_DELAY', `${RuntimeDefaults.SHUTDOWN_DRAIN_SECONDS}s`, 0);
  const terminationGraceMs = r.duration('TERMINATION_GRACE_PERIOD', `${RuntimeDefaults.TERMINATION_GRACE_SECONDS}s`, 1000);
  if (terminationGraceMs <= shutdownDrainMs) {
    r.problem('TERMINATION_GRACE_PERIOD', r.string('TERMINATION_GRACE_PERIOD', `${RuntimeDefaults.TERMINATION_GRACE_SECONDS}s`),
      `longer than SHUTDOWN_DRAIN_DELAY (${r.string('SHUTDOWN_DRAIN_DELAY', `${RuntimeDefaults.SHUTDOWN_DRAIN_SECONDS}s`)})`);
  }
  const healthCheckIntervalMs = r.duration('HEALTH_CHECK_INTERVAL', '30s', 1000);
  const healthCheckTimeoutMs = r.duration('HEALTH_CHECK_TIMEOUT', '2s', 10);
  if (healthCheckTimeoutMs >= healthCheckIntervalMs) {
    r.problem('HEALTH_CHECK_TIMEOUT', r.string('HEALTH_CHECK_TIMEOUT', '2s'), `shorter than HEALTH_CHECK_INTERVAL (${r.string('HEALTH_CHECK_INTERVAL', '30s')})`);
  }
  const monitoring = {
    prometheusEnabled: r.bool('PROMETHEUS_ENABLED', true),
    metricsPort,
    healthCheckIntervalMs,
    healthCheckTimeoutMs,
    shutdownDrainMs,
    terminationGraceMs,
  };

  const logging = {
    level: r.oneOf<LogLevel>('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
    format: r.oneOf<LogFormat>('LOG_FORMAT', ['json', 'text'], 'json'),
    output: r.oneOf<LogOutput>('LOG_OUTPUT', ['stdout', 'stderr'], 'stdout'),
  };

  if (r.problems.length > 0) {
    throw new ConfigError(r.problems);
  }
  return {
    serviceName: r.string('SERVICE_NAME', 'rauli-service'),
    nodeEnv,
    port,
    database,
    redis,
    security,
    performance,
    monitoring,
    logging,
  };
}
