/**
 * The one table of runtime settings: every environment variable a
 * RAULI-VISION service reads, with its type, default, allowed values,
 * per-environment value and meaning. The Koa package's `loadConfig` reads its
 * defaults and bounds from here and validates with `RuntimeSettings.check`;
 * the platform's ConfigMap writes and validates its keys with the same
 * function; the scaffold's `.env.example` and both READMEs are generated from
 * it. Self-contained but for the duration grammar: projen copies both files
 * into the Koa package, which cannot depend on the platform.
 */
import { isCidr } from './cidr';
import { Durations } from './duration';

/** How a setting's value is spelled. */
export enum RuntimeSettingType {
  /** A whole number within `min`..`max`. */
  INTEGER = 'integer',
  /** A duration of the one grammar (`Durations`), at least `min` milliseconds. */
  DURATION = 'duration',
  /** One of `allowed`. */
  ENUM = 'enum',
  /** true/false (also 1/0, yes/no). */
  BOOLEAN = 'boolean',
  /** Free text. */
  STRING = 'string',
  /** Comma-separated IPv4/IPv6 addresses or CIDRs. */
  CIDR_LIST = 'cidr-list',
  /** A URL; its schemes are checked by the reader. */
  URL = 'url',
  /** Comma-separated `host:port` entries; checked by the reader. */
  HOST_PORT_LIST = 'host-port-list',
  /** A credential: read from a Secret, never printed; checked by the reader. */
  SECRET = 'secret',
}

/** Who writes a setting in a deployment made by the platform. */
export enum RuntimeSettingSource {
  /** The platform's ConfigMap; `prop` names the `AppConfigSettings` field that sets it. */
  CONFIG_MAP = 'config-map',
  /** The platform's ConfigMap, computed from other constructs (data tier, conventions); not settable. */
  PLATFORM = 'platform',
  /** The application Secret (created outside the manifests). */
  SECRET = 'secret',
  /** Each Deployment's own environment, written per service by the chart. */
  SERVICE = 'service',
  /** Not written by the platform: the process uses the default. */
  PROCESS = 'process',
}

/** How two settings must relate. */
export enum RuntimeSettingRelation {
  /** The setting must be strictly less than the other. */
  LESS_THAN = 'less-than',
  /** The setting must be strictly greater than the other. */
  GREATER_THAN = 'greater-than',
  /** The setting must not exceed the other. */
  AT_MOST = 'at-most',
  /** The setting must differ from the other. */
  DIFFERENT = 'different',
}

/** One row of the table. */
export interface RuntimeSetting {
  /** Environment variable. */
  readonly name: string;
  /** Section of `.env.example` and of the README table. */
  readonly group: string;
  /** How the value is spelled. */
  readonly type: RuntimeSettingType;
  /**
   * Value used when the variable is unset.
   * @default - unset: see `unset`
   */
  readonly defaultValue?: string;
  /**
   * What an unset variable without a default means.
   * @default - no meaning given
   */
  readonly unset?: string;
  /**
   * Smallest value (INTEGER; DURATION in milliseconds).
   * @default - no bound
   */
  readonly min?: number;
  /**
   * Largest value (INTEGER; DURATION in milliseconds).
   * @default - no bound
   */
  readonly max?: number;
  /**
   * Allowed values (ENUM; URL: allowed schemes such as 'redis:').
   * @default - any
   */
  readonly allowed?: string[];
  /** Who writes it in a deployment made by the platform. */
  readonly source: RuntimeSettingSource;
  /**
   * Field of `AppConfigSettings` that sets it (CONFIG_MAP settings).
   * @default - not settable through the platform
   */
  readonly prop?: string;
  /**
   * Value per platform environment ('dev', 'staging', 'production') where it differs from the default.
   * @default - the default in every environment
   */
  readonly environments?: { [environment: string]: string };
  /**
   * Value the scaffold's `.env.example` proposes for local development.
   * @default - the default
   */
  readonly local?: string;
  /** What it does. */
  readonly description: string;
}

/** A rule between two settings. */
export interface RuntimeSettingRule {
  /** The setting the rule constrains (and the one a problem names). */
  readonly name: string;
  /** How it must relate to `other`. */
  readonly relation: RuntimeSettingRelation;
  /** The setting it is compared with. */
  readonly other: string;
}

/** One invalid value. */
export interface RuntimeSettingProblem {
  /** Environment variable. */
  readonly name: string;
  /** The value refused. */
  readonly value: string;
  /** What was expected. */
  readonly expected: string;
}

const S = RuntimeSettingType;
const SRC = RuntimeSettingSource;
const SECOND = 1000;

const ALL: RuntimeSetting[] = [
  { name: 'NODE_ENV', group: 'Service', type: S.ENUM, allowed: ['production', 'development', 'test'], defaultValue: 'production', local: 'development', source: SRC.PROCESS, description: 'production, development or test. development drops HSTS and allows an unset JWT_SECRET (ephemeral random secret).' },
  { name: 'SERVICE_NAME', group: 'Service', type: S.STRING, defaultValue: 'rauli-service', source: SRC.PROCESS, description: 'Name written in every log line and used as the prefix of its Redis keys.' },
  { name: 'PORT', group: 'Service', type: S.INTEGER, min: 1, max: 65535, defaultValue: '8080', source: SRC.PROCESS, description: 'HTTP port of the application (ServiceConventions.HTTP_PORT).' },

  { name: 'DATABASE_URL', group: 'Database', type: S.URL, allowed: ['postgresql:', 'postgres:'], unset: 'no database', source: SRC.SECRET, description: 'postgresql:// URL; when set, a pool is created, pinged at startup and checked by /readyz.' },
  { name: 'DATABASE_POOL_SIZE', group: 'Database', type: S.INTEGER, min: 1, max: 10_000, defaultValue: '20', source: SRC.CONFIG_MAP, prop: 'databasePoolSize', description: 'Connections this process\'s pool may open (at most DATABASE_MAX_CONNECTIONS). The platform derives it from max_connections and the replicas at the autoscalers\' maximum.' },
  { name: 'DATABASE_MAX_CONNECTIONS', group: 'Database', type: S.INTEGER, min: 1, max: 100_000, defaultValue: '100', source: SRC.PLATFORM, description: 'The server\'s max_connections budget (from the PostgreSQL cluster); the pool size may not exceed it.' },
  { name: 'DATABASE_CONNECT_TIMEOUT', group: 'Database', type: S.DURATION, min: 1, defaultValue: '5s', source: SRC.CONFIG_MAP, prop: 'databaseConnectTimeout', description: 'Timeout to open a connection, and of the startup ping.' },
  { name: 'DATABASE_IDLE_TIMEOUT', group: 'Database', type: S.DURATION, min: 1, defaultValue: '30s', source: SRC.CONFIG_MAP, prop: 'databaseIdleTimeout', description: 'Idle pooled connections are closed after this.' },

  { name: 'REDIS_URL', group: 'Redis', type: S.URL, allowed: ['redis:', 'rediss:'], unset: 'in-memory fallbacks', source: SRC.PROCESS, description: 'redis:// or rediss:// URL of a single Redis for rate limits and cache.' },
  { name: 'REDIS_CLUSTER_NODES', group: 'Redis', type: S.HOST_PORT_LIST, unset: 'no cluster', source: SRC.PLATFORM, description: 'host:port,host:port seed nodes of a Redis Cluster (from the platform\'s Redis Cluster); takes precedence over REDIS_URL.' },
  { name: 'REDIS_PASSWORD', group: 'Redis', type: S.SECRET, unset: 'no AUTH', source: SRC.SECRET, description: 'AUTH password of every Redis node (the platform\'s cluster requires one); overrides the password in REDIS_URL. Never printed.' },

  { name: 'JWT_SECRET', group: 'Security', type: S.SECRET, min: 32, unset: 'required in production', local: '', source: SRC.SECRET, description: 'HS256 secret, at least 32 bytes (256 bits): openssl rand -base64 48. Never printed, never in git.' },
  { name: 'JWT_EXPIRES_IN', group: 'Security', type: S.DURATION, min: SECOND, defaultValue: '24h', source: SRC.CONFIG_MAP, prop: 'jwtExpiresIn', description: 'Access token lifetime.' },
  { name: 'JWT_REFRESH_EXPIRES_IN', group: 'Security', type: S.DURATION, min: SECOND, defaultValue: '7d', source: SRC.CONFIG_MAP, prop: 'jwtRefreshExpiresIn', description: 'Refresh token lifetime (longer than JWT_EXPIRES_IN).' },
  { name: 'JWT_ISSUER', group: 'Security', type: S.STRING, defaultValue: 'rauli-vision', source: SRC.CONFIG_MAP, prop: 'jwtIssuer', description: '`iss` claim signed and required.' },
  { name: 'JWT_AUDIENCE', group: 'Security', type: S.STRING, defaultValue: 'rauli-vision', source: SRC.CONFIG_MAP, prop: 'jwtAudience', description: '`aud` claim signed and required.' },
  { name: 'BCRYPT_ROUNDS', group: 'Security', type: S.INTEGER, min: 10, max: 31, defaultValue: '12', source: SRC.CONFIG_MAP, prop: 'bcryptRounds', description: 'Cost for services that hash passwords.' },
  { name: 'TRUSTED_PROXY_CIDRS', group: 'Security', type: S.CIDR_LIST, unset: 'the socket address is the client', source: SRC.SERVICE, description: 'Proxies (addresses or CIDRs) whose X-Forwarded-For entries are believed, read from the right: the first untrusted entry is the client. The chart writes the edge\'s proxies (and a declared CDN) for services the edge routes to, nothing for the others.' },
  { name: 'SECURITY_HEADERS', group: 'Security', type: S.ENUM, allowed: ['service', 'edge'], defaultValue: 'service', source: SRC.SERVICE, description: 'Who sends the security headers (SecurityHeaders.HEADERS): service (this process) or edge (the proxy in front, which replaces the service\'s copies on every response it forwards; the service then sends only headers outside that list). The chart writes edge for services the edge routes to while it sets the headers, nothing for the others.' },

  { name: 'HTTP_TIMEOUT', group: 'Performance', type: S.DURATION, min: 10, defaultValue: '30s', source: SRC.CONFIG_MAP, prop: 'httpTimeout', description: 'Longest a request may take: past it the client gets 503 and the handler\'s signal aborts.' },
  { name: 'MAX_CONCURRENT_REQUESTS', group: 'Performance', type: S.INTEGER, min: 1, max: 1_000_000, defaultValue: '1000', source: SRC.CONFIG_MAP, prop: 'maxConcurrentRequests', description: 'Requests handled at once by this process; more get 503 with Retry-After.' },
  { name: 'MAX_BODY_SIZE', group: 'Performance', type: S.INTEGER, min: 0, max: 1_073_741_824, defaultValue: '1048576', source: SRC.CONFIG_MAP, prop: 'maxBodySize', description: 'Largest request body in bytes; larger bodies get 413.' },
  { name: 'RATE_LIMIT_REQUESTS', group: 'Performance', type: S.INTEGER, min: 1, max: 1_000_000_000, defaultValue: '100', source: SRC.CONFIG_MAP, prop: 'rateLimitRequests', description: 'Requests per client per window.' },
  { name: 'RATE_LIMIT_WINDOW', group: 'Performance', type: S.DURATION, min: SECOND, defaultValue: '1m', source: SRC.CONFIG_MAP, prop: 'rateLimitWindow', description: 'Rate-limit window.' },
  { name: 'LOGIN_RATE_LIMIT_REQUESTS', group: 'Performance', type: S.INTEGER, min: 1, max: 1_000_000_000, defaultValue: '5', source: SRC.CONFIG_MAP, prop: 'loginRateLimitRequests', description: 'Stricter per-client limit of the login routes (same window).' },

  { name: 'PROMETHEUS_ENABLED', group: 'Monitoring', type: S.BOOLEAN, defaultValue: 'true', source: SRC.PLATFORM, description: 'Serve /metrics on METRICS_PORT (the ServiceMonitors scrape it).' },
  { name: 'METRICS_PORT', group: 'Monitoring', type: S.INTEGER, min: 1, max: 65535, defaultValue: '9090', source: SRC.PLATFORM, description: 'Port of the separate metrics server (ServiceConventions.METRICS_PORT; must differ from PORT).' },
  { name: 'HEALTH_CHECK_INTERVAL', group: 'Monitoring', type: S.DURATION, min: SECOND, defaultValue: '30s', source: SRC.CONFIG_MAP, prop: 'healthCheckInterval', description: 'How often the platform probes; /readyz dependency checks finish within it.' },
  { name: 'HEALTH_CHECK_TIMEOUT', group: 'Monitoring', type: S.DURATION, min: 10, defaultValue: '2s', source: SRC.CONFIG_MAP, prop: 'healthCheckTimeout', description: 'Timeout of each /readyz dependency check (PostgreSQL, Redis); shorter than HEALTH_CHECK_INTERVAL.' },
  { name: 'SHUTDOWN_DRAIN_DELAY', group: 'Monitoring', type: S.DURATION, min: 0, defaultValue: '10s', source: SRC.PROCESS, description: 'After SIGTERM, /readyz fails and the server keeps serving this long before closing.' },
  { name: 'TERMINATION_GRACE_PERIOD', group: 'Monitoring', type: S.DURATION, min: SECOND, defaultValue: '45s', source: SRC.PROCESS, description: 'The pod\'s grace period; the process exits before it (longer than SHUTDOWN_DRAIN_DELAY).' },

  { name: 'LOG_LEVEL', group: 'Logging', type: S.ENUM, allowed: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], defaultValue: 'info', environments: { dev: 'debug' }, local: 'debug', source: SRC.CONFIG_MAP, prop: 'logLevel', description: 'Least severe level written: trace, debug, info, warn, error, fatal or silent.' },
  { name: 'LOG_FORMAT', group: 'Logging', type: S.ENUM, allowed: ['json', 'text'], defaultValue: 'json', local: 'text', source: SRC.PLATFORM, description: 'json (one object per line, what the log pipeline parses) or text.' },
  { name: 'LOG_OUTPUT', group: 'Logging', type: S.ENUM, allowed: ['stdout', 'stderr'], defaultValue: 'stdout', source: SRC.PLATFORM, description: 'stdout or stderr.' },
];

const RULES: RuntimeSettingRule[] = [
  { name: 'DATABASE_POOL_SIZE', relation: RuntimeSettingRelation.AT_MOST, other: 'DATABASE_MAX_CONNECTIONS' },
  { name: 'JWT_REFRESH_EXPIRES_IN', relation: RuntimeSettingRelation.GREATER_THAN, other: 'JWT_EXPIRES_IN' },
  { name: 'HEALTH_CHECK_TIMEOUT', relation: RuntimeSettingRelation.LESS_THAN, other: 'HEALTH_CHECK_INTERVAL' },
  { name: 'TERMINATION_GRACE_PERIOD', relation: RuntimeSettingRelation.GREATER_THAN, other: 'SHUTDOWN_DRAIN_DELAY' },
  { name: 'METRICS_PORT', relation: RuntimeSettingRelation.DIFFERENT, other: 'PORT' },
];

const RELATION_TEXT: { [relation: string]: string } = {
  [RuntimeSettingRelation.LESS_THAN]: 'shorter than',
  [RuntimeSettingRelation.GREATER_THAN]: 'longer than',
  [RuntimeSettingRelation.AT_MOST]: 'at most',
  [RuntimeSettingRelation.DIFFERENT]: 'other than',
};

/** The table, its rules, and the one validation every layer runs. */
export class RuntimeSettings {
  /** Every runtime setting. */
  public static readonly ALL: RuntimeSetting[] = ALL;
  /** Rules between settings. */
  public static readonly RULES: RuntimeSettingRule[] = RULES;

  /** The row of `name`; throws naming the allowed names for an unknown one. */
  public static get(name: string): RuntimeSetting {
    const setting = ALL.find(s => s.name === name);
    if (!setting) {
      throw new Error(`Unknown runtime setting: "${name}". Expected one of ${ALL.map(s => s.name).join(', ')}.`);
    }
    return setting;
  }

  /** The value of `name` in a platform environment: its per-environment value, else its default. */
  public static valueIn(name: string, environment: string): string | undefined {
    const setting = RuntimeSettings.get(name);
    return setting.environments?.[environment] ?? setting.defaultValue;
  }

  /** What a valid value of `setting` looks like, for error messages and the README. */
  public static expectation(setting: RuntimeSetting): string {
    switch (setting.type) {
      case RuntimeSettingType.INTEGER:
        return `an integer from ${setting.min ?? 0} to ${setting.max ?? Number.MAX_SAFE_INTEGER}`;
      case RuntimeSettingType.DURATION:
        return setting.min ? `${Durations.EXPECTATION}, at least ${Durations.format(setting.min)}` : Durations.EXPECTATION;
      case RuntimeSettingType.ENUM:
        return `one of ${(setting.allowed ?? []).join(', ')}`;
      case RuntimeSettingType.BOOLEAN:
        return 'true or false';
      case RuntimeSettingType.CIDR_LIST:
        return "a comma-separated list of IP addresses or CIDRs such as '10.0.0.0/8,2001:db8::/32'";
      case RuntimeSettingType.URL:
        return `a URL like ${(setting.allowed ?? ['scheme:'])[0]}//user:password@host:port/...`;
      case RuntimeSettingType.HOST_PORT_LIST:
        return 'a comma-separated list of host:port';
      case RuntimeSettingType.SECRET:
        return setting.min ? `a secret of at least ${setting.min} bytes` : 'a secret';
      default:
        return 'a value without surrounding spaces';
    }
  }

  /**
   * Every problem of `values` (variable -> value; a missing variable takes its
   * default): type, bounds and the rules between settings. Variables outside
   * the table are ignored here (the environment holds others); URL,
   * HOST_PORT_LIST and SECRET values are checked by their readers.
   */
  public static check(values: { [name: string]: string }): RuntimeSettingProblem[] {
    const problems: RuntimeSettingProblem[] = [];
    const numbers: { [name: string]: number } = {};
    for (const setting of ALL) {
      const value = values[setting.name] ?? setting.defaultValue;
      if (value === undefined) continue;
      const n = RuntimeSettings.numberOf(setting, value);
      if (n === undefined) {
        problems.push({ name: setting.name, value, expected: RuntimeSettings.expectation(setting) });
      } else {
        numbers[setting.name] = n;
      }
    }
    for (const rule of RULES) {
      const a = numbers[rule.name];
      const b = numbers[rule.other];
      if (a === undefined || b === undefined) continue;
      const ok = rule.relation === RuntimeSettingRelation.LESS_THAN ? a < b
        : rule.relation === RuntimeSettingRelation.GREATER_THAN ? a > b
          : rule.relation === RuntimeSettingRelation.AT_MOST ? a <= b : a !== b;
      if (!ok) {
        const other = values[rule.other] ?? RuntimeSettings.get(rule.other).defaultValue;
        problems.push({ name: rule.name, value: values[rule.name] ?? RuntimeSettings.get(rule.name).defaultValue ?? '', expected: `${RELATION_TEXT[rule.relation]} ${rule.other} (${other})` });
      }
    }
    return problems;
  }

  /**
   * The table as Markdown, as both READMEs show it between
   * `<!-- runtime-settings:start -->` and `<!-- runtime-settings:end -->`
   * (`npx projen readme:settings` rewrites them; a test of each package compares).
   */
  public static markdownTable(): string {
    const code = (v: string) => `\`${v}\``;
    const setBy: { [source: string]: (s: RuntimeSetting) => string } = {
      [RuntimeSettingSource.CONFIG_MAP]: s => `ConfigMap, \`config.${s.prop}\``,
      [RuntimeSettingSource.PLATFORM]: () => 'ConfigMap, computed by the platform',
      [RuntimeSettingSource.SECRET]: () => 'Secret',
      [RuntimeSettingSource.SERVICE]: () => 'Deployment, per service',
      [RuntimeSettingSource.PROCESS]: () => 'default',
    };
    const rows = ALL.map(s => [
      code(s.name),
      s.type,
      s.defaultValue !== undefined ? code(s.defaultValue) : `(unset: ${s.unset ?? 'none'})`,
      s.type === RuntimeSettingType.ENUM || s.type === RuntimeSettingType.URL ? (s.allowed ?? []).map(code).join(', ')
        : s.type === RuntimeSettingType.INTEGER ? `${s.min} to ${s.max}`
          : s.type === RuntimeSettingType.DURATION && s.min ? `at least ${code(Durations.format(s.min))}` : '',
      Object.entries(s.environments ?? {}).map(([env, v]) => `${env}: ${code(v)}`).join(', '),
      setBy[s.source](s),
      s.description,
    ].join(' | '));
    const rules = RULES.map(r => `${code(r.name)} ${RELATION_TEXT[r.relation]} ${code(r.other)}`).join('; ');
    return [
      '| variable | type | default | allowed | per environment | set by | meaning |',
      '|---|---|---|---|---|---|---|',
      ...rows.map(r => `| ${r} |`),
      '',
      `Durations: ${Durations.EXPECTATION}. Rules between settings: ${rules}.`,
    ].join('\n');
  }

  /** An IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`, `::1`, `2001:db8::/32`. */
  public static isCidr(entry: string): boolean {
    return isCidr(entry);
  }

  /**
   * The value as a number (INTEGER: itself, DURATION: milliseconds, others: 0)
   * when valid for its row; undefined when not.
   */
  private static numberOf(setting: RuntimeSetting, value: string): number | undefined {
    if (value.length === 0 || value.trim() !== value) {
      return undefined;
    }
    switch (setting.type) {
      case RuntimeSettingType.INTEGER: {
        if (!/^\d{1,15}$/.test(value)) return undefined;
        return RuntimeSettings.inBounds(setting, Number(value));
      }
      case RuntimeSettingType.DURATION: {
        const ms = Durations.tryParseMilliseconds(value);
        return ms === undefined ? undefined : RuntimeSettings.inBounds(setting, ms);
      }
      case RuntimeSettingType.ENUM:
        return (setting.allowed ?? []).includes(value) ? 0 : undefined;
      case RuntimeSettingType.BOOLEAN:
        return /^(true|false|1|0|yes|no)$/i.test(value) ? 0 : undefined;
      case RuntimeSettingType.CIDR_LIST:
        return value.split(',').every(entry => RuntimeSettings.isCidr(entry.trim())) ? 0 : undefined;
      default:
        return 0;
    }
  }

  private static inBounds(setting: RuntimeSetting, n: number): number | undefined {
    return (setting.min === undefined || n >= setting.min) && (setting.max === undefined || n <= setting.max) ? n : undefined;
  }

}
