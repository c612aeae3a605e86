import { RuntimeSetting, RuntimeSettings, RuntimeSettingType } from '../generated/runtime-settings';
import { parseClusterNodes } from '../redis';
import { parseDuration } from '../util/duration';

export type NodeEnv = 'production' | 'development' | 'test';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'text';
export type LogOutput = 'stdout' | 'stderr';

/** Who sends the security headers (`SECURITY_HEADERS`). */
export type SecurityHeadersSender = 'service' | 'edge';

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
    /** Proxies (addresses or CIDRs) whose X-Forwarded-For entries are believed, from the right; empty: the socket address is the client. */
    readonly trustedProxyCidrs: readonly string[];
    /** `edge`: the proxy in front sets the security headers (and replaces the service's copies), so the service sends only what it does not. */
    readonly securityHeaders: SecurityHeadersSender;
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

/** Hides a URL's password: `postgresql://app:***@db:5432/x`. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

function redactSecret(value: string): string {
  return `<redacted, ${Buffer.byteLength(value)} bytes>`;
}

type Env = { readonly [name: string]: string | undefined };

/** How a refused value may be printed: secrets by their size, URLs without their password. */
function shown(setting: RuntimeSetting, value: string): string {
  if (setting.type === RuntimeSettingType.SECRET) return redactSecret(value);
  if (setting.type === RuntimeSettingType.URL || setting.type === RuntimeSettingType.HOST_PORT_LIST) return redactUrl(value);
  return value;
}

/**
 * Reads the variables of the table of runtime settings (`RuntimeSettings`,
 * the platform's `src/conventions/runtime-settings.ts`): defaults, bounds and
 * the rules between settings all come from there, checked by the same
 * `RuntimeSettings.check` the platform runs at synth time. Every problem is
 * remembered instead of stopping at the first; a refused value reads as its
 * default so the others can still be checked.
 */
class Reader {
  readonly problems: ConfigProblem[] = [];
  private readonly values: { [name: string]: string } = {};
  private readonly refused = new Set<string>();

  constructor(env: Env) {
    for (const setting of RuntimeSettings.ALL) {
      const v = env[setting.name];
      if (v !== undefined && v.trim() !== '') this.values[setting.name] = v.trim();
    }
    for (const p of RuntimeSettings.check(this.values)) {
      this.problem(p.name, shown(RuntimeSettings.get(p.name), p.value), p.expected);
      this.refused.add(p.name);
    }
  }

  /** The value set in the environment, if any (no default). */
  raw(name: string): string | undefined {
    RuntimeSettings.get(name);
    return this.values[name];
  }

  problem(name: string, value: string, expected: string): void {
    this.problems.push({ name, value, expected });
  }

  /** The value, or the table's default when unset or refused. */
  string(name: string): string {
    const setting = RuntimeSettings.get(name);
    const value = this.refused.has(name) ? undefined : this.values[name];
    return value ?? setting.defaultValue!;
  }

  oneOf<T extends string>(name: string): T {
    return this.string(name) as T;
  }

  int(name: string): number {
    return Number(this.string(name));
  }

  bool(name: string): boolean {
    return /^(true|1|yes)$/i.test(this.string(name));
  }

  duration(name: string): number {
    return parseDuration(this.string(name));
  }

  url(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const setting = RuntimeSettings.get(name);
    try {
      const u = new URL(v);
      if ((setting.allowed ?? []).includes(u.protocol) && u.hostname) return v;
    } catch {
      // reported below
    }
    this.problem(name, redactUrl(v), RuntimeSettings.expectation(setting));
    return undefined;
  }
}

/** Every variable read by {@link loadConfig}: name, default and meaning, from the table of runtime settings (rendered in the README). */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = RuntimeSettings.ALL.map((s) => ({
  name: s.name,
  default: s.defaultValue ?? `(unset: ${s.unset ?? 'none'})`,
  meaning: s.description,
}));

/**
 * Reads and validates the guide's `.env.production` variables (and the few this
 * package adds). Throws a {@link ConfigError} listing every problem at once;
 * secret values never appear in it.
 */
export function loadConfig(env: Env = process.env): ServiceConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf<NodeEnv>('NODE_ENV');
  const database = {
    url: r.url('DATABASE_URL'),
    poolSize: r.int('DATABASE_POOL_SIZE'),
    maxConnections: r.int('DATABASE_MAX_CONNECTIONS'),
    connectTimeoutMs: r.duration('DATABASE_CONNECT_TIMEOUT'),
    idleTimeoutMs: r.duration('DATABASE_IDLE_TIMEOUT'),
  };

  let clusterNodes: string[] | undefined;
  const nodes = r.raw('REDIS_CLUSTER_NODES');
  if (nodes !== undefined) {
    try {
      clusterNodes = parseClusterNodes(nodes).map((n) => `${n.host}:${n.port}`);
      if (clusterNodes.length === 0) throw new Error('empty');
    } catch {
      clusterNodes = undefined;
      r.problem('REDIS_CLUSTER_NODES', redactUrl(nodes), RuntimeSettings.expectation(RuntimeSettings.get('REDIS_CLUSTER_NODES')));
    }
  }
  // A cluster has no URL to carry its password: the platform's Secret holds it as REDIS_PASSWORD.
  const redis = { url: r.url('REDIS_URL'), clusterNodes, password: r.raw('REDIS_PASSWORD') };

  const jwtSecret = r.raw('JWT_SECRET');
  const minSecretBytes = RuntimeSettings.get('JWT_SECRET').min!;
  if (jwtSecret === undefined && nodeEnv === 'production') {
    r.problem('JWT_SECRET', '(unset)', `a secret of at least ${minSecretBytes} bytes (256 bits); required when NODE_ENV=production`);
  } else if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < minSecretBytes) {
    r.problem('JWT_SECRET', redactSecret(jwtSecret), `at least ${minSecretBytes} bytes (256 bits)`);
  }
  const trusted = r.raw('TRUSTED_PROXY_CIDRS');
  const security = {
    jwtSecret,
    jwtExpiresInMs: r.duration('JWT_EXPIRES_IN'),
    jwtRefreshExpiresInMs: r.duration('JWT_REFRESH_EXPIRES_IN'),
    jwtIssuer: r.string('JWT_ISSUER'),
    jwtAudience: r.string('JWT_AUDIENCE'),
    bcryptRounds: r.int('BCRYPT_ROUNDS'),
    trustedProxyCidrs: trusted === undefined ? [] : trusted.split(',').map((c) => c.trim()),
    securityHeaders: r.oneOf<SecurityHeadersSender>('SECURITY_HEADERS'),
  };

  const performance = {
    httpTimeoutMs: r.duration('HTTP_TIMEOUT'),
    maxConcurrentRequests: r.int('MAX_CONCURRENT_REQUESTS'),
    rateLimitRequests: r.int('RATE_LIMIT_REQUESTS'),
    rateLimitWindowMs: r.duration('RATE_LIMIT_WINDOW'),
    loginRateLimitRequests: r.int('LOGIN_RATE_LIMIT_REQUESTS'),
    maxBodyBytes: r.int('MAX_BODY_SIZE'),
  };

  const monitoring = {
    prometheusEnabled: r.bool('PROMETHEUS_ENABLED'),
    metricsPort: r.int('METRICS_PORT'),
    healthCheckIntervalMs: r.duration('HEALTH_CHECK_INTERVAL'),
    healthCheckTimeoutMs: r.duration('HEALTH_CHECK_TIMEOUT'),
    shutdownDrainMs: r.duration('SHUTDOWN_DRAIN_DELAY'),
    terminationGraceMs: r.duration('TERMINATION_GRACE_PERIOD'),
  };

  const logging = {
    level: r.oneOf<LogLevel>('LOG_LEVEL'),
    format: r.oneOf<LogFormat>('LOG_FORMAT'),
    output: r.oneOf<LogOutput>('LOG_OUTPUT'),
  };

  if (r.problems.length > 0) {
    throw new ConfigError(r.problems);
  }
  return {
    serviceName: r.string('SERVICE_NAME'),
    nodeEnv,
    port: r.int('PORT'),
    database,
    redis,
    security,
    performance,
    monitoring,
    logging,
  };
}
