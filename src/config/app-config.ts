import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RuntimeDefaults, ServiceConventions } from '../conventions';
import { validateDnsSubdomain, validateDuration, validateInteger, validateOneOf } from '../core/validate';
import { SecretEnvVar } from '../workload/http-service';

/** The non-secret part of the seed's `.env.production`. */
export interface AppConfigSettings {
  /**
   * Log level.
   * @default 'info'
   */
  readonly logLevel?: string;
  /**
   * Connections each replica's pool opens.
   * @default RuntimeDefaults.DATABASE_POOL_SIZE
   */
  readonly databasePoolSize?: number;
  /**
   * Requests per client per window.
   * @default RuntimeDefaults.RATE_LIMIT_REQUESTS
   */
  readonly rateLimitRequests?: number;
  /**
   * Rate-limit window.
   * @default RuntimeDefaults.RATE_LIMIT_WINDOW
   */
  readonly rateLimitWindow?: string;
  /**
   * Upper bound on one request.
   * @default RuntimeDefaults.HTTP_TIMEOUT
   */
  readonly httpTimeout?: string;
  /**
   * Concurrency cap per process.
   * @default RuntimeDefaults.MAX_CONCURRENT_REQUESTS
   */
  readonly maxConcurrentRequests?: number;
  /**
   * JWT lifetime.
   * @default RuntimeDefaults.JWT_EXPIRES_IN
   */
  readonly jwtExpiresIn?: string;
  /**
   * Extra non-secret variables.
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

/**
 * The seed's `.env.production` split in two: a ConfigMap for plain settings,
 * and references into an existing Secret for credentials. No secret value is
 * ever written into a manifest.
 */
export class AppConfig extends Construct {
  /** Default of `existingSecret`: the Secret the platform's services (and services deployed beside them) read credentials from. */
  public static readonly DEFAULT_SECRET_NAME = 'rauli-vision-app';
  /** Keys the application Secret must hold. */
  public static readonly SECRET_KEYS = ['DATABASE_URL', 'JWT_SECRET', 'REDIS_PASSWORD'];

  /** Name of the ConfigMap. */
  public readonly configMapName: string;
  /** Name of the Secret the services read credentials from. */
  public readonly secretName: string;
  /** Environment variables to read from the Secret. */
  public readonly secretEnv: SecretEnvVar[];

  constructor(scope: Construct, id: string, props: AppConfigProps) {
    super(scope, id);
    this.configMapName = validateDnsSubdomain('name', props.name);
    this.secretName = validateDnsSubdomain('existingSecret', props.existingSecret ?? AppConfig.DEFAULT_SECRET_NAME);
    const logLevel = validateOneOf('logLevel', props.logLevel ?? 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    const poolSize = validateInteger('databasePoolSize', props.databasePoolSize ?? RuntimeDefaults.DATABASE_POOL_SIZE, 1, 1000);
    const maxConnections = validateInteger('databaseMaxConnections', props.databaseMaxConnections ?? RuntimeDefaults.DATABASE_MAX_CONNECTIONS, 1, 100000);
    if (poolSize > maxConnections) {
      throw new Error(`Invalid databasePoolSize: ${poolSize}. Expected at most databaseMaxConnections (${maxConnections}).`);
    }
    for (const key of Object.keys(props.extra ?? {})) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`Invalid extra key: "${key}". Expected an environment variable name (A-Z, 0-9, _).`);
      if (AppConfig.SECRET_KEYS.includes(key)) throw new Error(`Invalid extra key: "${key}". It is a secret: put it in the Secret "${this.secretName}", not in the ConfigMap.`);
    }

    const data: { [key: string]: string } = {
      DATABASE_POOL_SIZE: String(poolSize),
      DATABASE_MAX_CONNECTIONS: String(maxConnections),
      BCRYPT_ROUNDS: String(RuntimeDefaults.BCRYPT_ROUNDS),
      JWT_EXPIRES_IN: validateDuration('jwtExpiresIn', props.jwtExpiresIn ?? RuntimeDefaults.JWT_EXPIRES_IN),
      HTTP_TIMEOUT: validateDuration('httpTimeout', props.httpTimeout ?? RuntimeDefaults.HTTP_TIMEOUT),
      MAX_CONCURRENT_REQUESTS: String(validateInteger('maxConcurrentRequests', props.maxConcurrentRequests ?? RuntimeDefaults.MAX_CONCURRENT_REQUESTS, 1)),
      RATE_LIMIT_REQUESTS: String(validateInteger('rateLimitRequests', props.rateLimitRequests ?? RuntimeDefaults.RATE_LIMIT_REQUESTS, 1)),
      RATE_LIMIT_WINDOW: validateDuration('rateLimitWindow', props.rateLimitWindow ?? RuntimeDefaults.RATE_LIMIT_WINDOW),
      PROMETHEUS_ENABLED: 'true',
      METRICS_PORT: String(ServiceConventions.METRICS_PORT),
      LOG_LEVEL: logLevel,
      LOG_FORMAT: 'json',
      LOG_OUTPUT: 'stdout',
      HEALTH_CHECK_INTERVAL: '30s',
      ...props.redisClusterNodes ? { REDIS_CLUSTER_NODES: props.redisClusterNodes } : {},
      ...props.extra,
    };
    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata: { name: this.configMapName }, data });
    this.secretEnv = AppConfig.SECRET_KEYS.map(key => ({ name: key, secretName: this.secretName, key }));
  }
}
