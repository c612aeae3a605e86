import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RuntimeSettings, RuntimeSettingSource } from '../conventions';
import { PropValidationError, validateDnsSubdomain, validateOneOf } from '../core/validate';
import { Environments } from '../platform/environments';
import { SecretEnvVar } from '../workload/http-service';

/**
 * The non-secret part of the guide's `.env.production`: one field per row of
 * the table of runtime settings (`RuntimeSettings.ALL`) whose source is the
 * ConfigMap. Defaults, bounds and the grammar come from that table; a test
 * checks that every row with a `prop` has its field here.
 */
export interface AppConfigSettings {
  /**
   * Least severe log level written (trace, debug, info, warn, error, fatal, silent). `LOG_LEVEL`.
   * @default - the table's per-environment value: 'debug' in dev, 'info' elsewhere
   */
  readonly logLevel?: string;
  /**
   * Connections each replica's pool opens (at most `databaseMaxConnections`). `DATABASE_POOL_SIZE`.
   * @default 20 (RuntimeSettings: `DATABASE_POOL_SIZE`)
   */
  readonly databasePoolSize?: number;
  /**
   * Timeout to open a database connection, and of the startup ping. `DATABASE_CONNECT_TIMEOUT`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '5s' (RuntimeSettings: `DATABASE_CONNECT_TIMEOUT`)
   */
  readonly databaseConnectTimeout?: string;
  /**
   * Idle pooled database connections close after this. `DATABASE_IDLE_TIMEOUT`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '30s' (RuntimeSettings: `DATABASE_IDLE_TIMEOUT`)
   */
  readonly databaseIdleTimeout?: string;
  /**
   * Access token lifetime. `JWT_EXPIRES_IN`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '24h' (RuntimeSettings: `JWT_EXPIRES_IN`)
   */
  readonly jwtExpiresIn?: string;
  /**
   * Refresh token lifetime; longer than `jwtExpiresIn`. `JWT_REFRESH_EXPIRES_IN`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '7d' (RuntimeSettings: `JWT_REFRESH_EXPIRES_IN`)
   */
  readonly jwtRefreshExpiresIn?: string;
  /**
   * `iss` claim signed and required. `JWT_ISSUER`.
   * @default 'rauli-vision' (RuntimeSettings: `JWT_ISSUER`)
   */
  readonly jwtIssuer?: string;
  /**
   * `aud` claim signed and required. `JWT_AUDIENCE`.
   * @default 'rauli-vision' (RuntimeSettings: `JWT_AUDIENCE`)
   */
  readonly jwtAudience?: string;
  /**
   * bcrypt cost of services that hash passwords (10 to 31). `BCRYPT_ROUNDS`.
   * @default 12 (RuntimeSettings: `BCRYPT_ROUNDS`)
   */
  readonly bcryptRounds?: number;
  /**
   * Upper bound on one request. `HTTP_TIMEOUT`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '30s' (RuntimeSettings: `HTTP_TIMEOUT`)
   */
  readonly httpTimeout?: string;
  /**
   * Concurrency cap per process. `MAX_CONCURRENT_REQUESTS`.
   * @default 1000 (RuntimeSettings: `MAX_CONCURRENT_REQUESTS`)
   */
  readonly maxConcurrentRequests?: number;
  /**
   * Largest request body in bytes. `MAX_BODY_SIZE`.
   * @default 1048576 (RuntimeSettings: `MAX_BODY_SIZE`)
   */
  readonly maxBodySize?: number;
  /**
   * Requests per client per window. `RATE_LIMIT_REQUESTS`.
   * @default 100 (RuntimeSettings: `RATE_LIMIT_REQUESTS`)
   */
  readonly rateLimitRequests?: number;
  /**
   * Rate-limit window. `RATE_LIMIT_WINDOW`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '1m' (RuntimeSettings: `RATE_LIMIT_WINDOW`)
   */
  readonly rateLimitWindow?: string;
  /**
   * Requests per client per window on the login routes. `LOGIN_RATE_LIMIT_REQUESTS`.
   * @default 5 (RuntimeSettings: `LOGIN_RATE_LIMIT_REQUESTS`)
   */
  readonly loginRateLimitRequests?: number;
  /**
   * How often the platform probes; readiness checks finish within it. `HEALTH_CHECK_INTERVAL`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '30s' (RuntimeSettings: `HEALTH_CHECK_INTERVAL`)
   */
  readonly healthCheckInterval?: string;
  /**
   * Timeout of each readiness dependency check; shorter than `healthCheckInterval`. `HEALTH_CHECK_TIMEOUT`; durations use the one grammar (`Durations`): '1m30s' works.
   * @default '2s' (RuntimeSettings: `HEALTH_CHECK_TIMEOUT`)
   */
  readonly healthCheckTimeout?: string;
  /**
   * Extra non-secret variables for services' own settings (not the ones in
   * the table: those have their own fields, so they are validated).
   * @default - none
   */
  readonly extra?: { [name: string]: string };
}

export interface AppConfigProps extends AppConfigSettings {
  /** Name of the ConfigMap. */
  readonly name: string;
  /**
   * Secret (created outside the manifests, e.g. by External Secrets or Sealed
   * Secrets) that holds `DATABASE_URL`, `JWT_SECRET` and `REDIS_PASSWORD`.
   * @default AppConfig.DEFAULT_SECRET_NAME ('rauli-vision-app')
   */
  readonly existingSecret?: string;
  /**
   * Platform environment whose per-environment values apply ('dev', 'staging', 'production').
   * @default - the table's defaults
   */
  readonly environment?: string;
  /**
   * `max_connections` of the PostgreSQL server the pools share.
   * @default RuntimeDefaults.DATABASE_MAX_CONNECTIONS
   */
  readonly databaseMaxConnections?: number;
  /**
   * `host:port` list of the Redis Cluster nodes.
   * @default - none (single Redis from REDIS_URL in the Secret, or in-memory)
   */
  readonly redisClusterNodes?: string;
}

/** Props of AppConfig that are not runtime settings. */
const STRUCTURAL_KEYS = ['name', 'existingSecret', 'environment', 'databaseMaxConnections', 'redisClusterNodes', 'extra'];
/** Settings the platform computes, and the prop that carries each. */
const PLATFORM_PROPS: { [name: string]: string } = { DATABASE_MAX_CONNECTIONS: 'databaseMaxConnections', REDIS_CLUSTER_NODES: 'redisClusterNodes' };
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * The guide's `.env.production` split in two: a ConfigMap for plain settings,
 * and references into an existing Secret for credentials. No secret value is
 * ever written into a manifest. Every ConfigMap setting of the table of
 * runtime settings is written, with its override, per-environment value or
 * default, and validated by the same `RuntimeSettings.check` the Koa
 * package's `loadConfig` runs, so a value that would stop the service at
 * start stops the synthesis instead, naming the prop.
 */
export class AppConfig extends Construct {
  /** Default of `existingSecret`: the Secret the platform's services (and services deployed beside them) read credentials from. */
  public static readonly DEFAULT_SECRET_NAME = 'rauli-vision-app';
  /** Keys the application Secret must hold. */
  public static readonly SECRET_KEYS: string[] = RuntimeSettings.ALL.filter(s => s.source === RuntimeSettingSource.SECRET).map(s => s.name);
  /** Keys AppConfig (and RauliVisionChart's `config`) accepts. */
  public static readonly SETTING_KEYS: string[] = RuntimeSettings.ALL.filter(s => s.prop !== undefined).map(s => s.prop!);

  /** Name of the ConfigMap. */
  public readonly configMapName: string;
  /** Name of the Secret the services read credentials from. */
  public readonly secretName: string;
  /** Environment variables to read from the Secret. */
  public readonly secretEnv: SecretEnvVar[];
  /** The ConfigMap's data. */
  public readonly data: { [key: string]: string };

  constructor(scope: Construct, id: string, props: AppConfigProps) {
    super(scope, id);
    this.configMapName = validateDnsSubdomain('name', props.name);
    this.secretName = validateDnsSubdomain('existingSecret', props.existingSecret ?? AppConfig.DEFAULT_SECRET_NAME);
    refuseUnknownKeys(props);
    const settings = settingValues(props);
    refuseInvalidSettings(settings);
    this.data = { ...settings, ...validExtra(props.extra ?? {}, this.secretName) };
    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata: { name: this.configMapName }, data: this.data });
    this.secretEnv = AppConfig.SECRET_KEYS.map(key => ({ name: key, secretName: this.secretName, key }));
  }
}

/** A key outside the table (a typo, a setting from another version) fails instead of being ignored. */
function refuseUnknownKeys(props: AppConfigProps): void {
  const allowed = [...AppConfig.SETTING_KEYS, ...STRUCTURAL_KEYS];
  for (const key of Object.keys(props)) {
    if (!allowed.includes(key)) {
      throw new PropValidationError('config key', key, `one of the runtime settings ${AppConfig.SETTING_KEYS.join(', ')} (or ${STRUCTURAL_KEYS.join(', ')})`);
    }
  }
}

/** Every ConfigMap and platform row of the table: override, else per-environment value, else default. */
function settingValues(props: AppConfigProps): { [name: string]: string } {
  const values: { [name: string]: string } = {};
  const given = props as unknown as { [key: string]: unknown };
  if (props.environment !== undefined) validateOneOf('environment', props.environment, Environments.NAMES);
  for (const setting of RuntimeSettings.ALL) {
    if (setting.source !== RuntimeSettingSource.CONFIG_MAP && setting.source !== RuntimeSettingSource.PLATFORM) continue;
    const prop = setting.prop ?? PLATFORM_PROPS[setting.name];
    const override = prop === undefined ? undefined : given[prop];
    const value = override !== undefined ? String(override)
      : props.environment !== undefined ? RuntimeSettings.valueIn(setting.name, props.environment) : setting.defaultValue;
    if (value !== undefined) values[setting.name] = value;
  }
  return values;
}

function refuseInvalidSettings(values: { [name: string]: string }): void {
  const [problem] = RuntimeSettings.check(values);
  if (problem) {
    const setting = RuntimeSettings.get(problem.name);
    const prop = setting.prop ?? PLATFORM_PROPS[setting.name] ?? setting.name;
    throw new PropValidationError(prop, problem.value, `${problem.expected.replace(/[A-Z][A-Z_]+[A-Z]/g, n => propOf(n))} (${setting.name})`);
  }
}

/** The prop that sets a variable, for messages about rules between settings. */
function propOf(name: string): string {
  const setting = RuntimeSettings.ALL.find(s => s.name === name);
  return setting?.prop ?? PLATFORM_PROPS[name] ?? name;
}

function validExtra(extra: { [name: string]: string }, secretName: string): { [name: string]: string } {
  for (const key of Object.keys(extra)) {
    if (!ENV_NAME.test(key)) throw new PropValidationError('extra key', key, 'an environment variable name (A-Z, 0-9, _)');
    const setting = RuntimeSettings.ALL.find(s => s.name === key);
    if (setting?.source === RuntimeSettingSource.SECRET) {
      throw new Error(`Invalid extra key: "${key}". It is a secret: put it in the Secret "${secretName}", not in the ConfigMap.`);
    }
    if (setting) {
      const where = setting.prop ? `the prop ${setting.prop}, which validates it` : 'the platform itself';
      throw new Error(`Invalid extra key: "${key}". It is a runtime setting: set it with ${where}.`);
    }
  }
  return extra;
}
