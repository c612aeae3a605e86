import { Component, Project, TextFile } from 'projen';
import { RuntimeDefaults } from '../conventions';
import { DevCompose } from './dev-compose';
import { ServiceSettings } from './service-settings';

/** One variable of `.env.example`: a safe value for local development and why it exists. */
interface EnvVariable {
  readonly name: string;
  readonly value: (s: ServiceSettings) => string;
  readonly comment: string;
  /** Written commented out unless this returns true. */
  readonly enabled?: (s: ServiceSettings) => boolean;
}

/**
 * Every variable `@rauli-vision/koa`'s `loadConfig()` reads (its
 * `CONFIG_VARIABLES`), grouped as in the seed's `.env.production`. A root test
 * compares this list with the Koa package's, so they cannot drift apart.
 */
export const ENV_VARIABLES: Record<string, EnvVariable[]> = {
  Service: [
    { name: 'NODE_ENV', value: () => 'development', comment: 'production in containers; development drops HSTS and allows an unset JWT_SECRET' },
    { name: 'SERVICE_NAME', value: s => s.serviceName, comment: 'name written in every log line' },
    { name: 'PORT', value: s => String(s.servicePort), comment: 'application HTTP port' },
  ],
  Database: [
    { name: 'DATABASE_URL', value: () => DevCompose.databaseUrl('localhost'), comment: 'unset: the service runs without PostgreSQL (docker-compose.dev.yml credentials)', enabled: s => s.usePostgres },
    { name: 'DATABASE_POOL_SIZE', value: () => String(RuntimeDefaults.DATABASE_POOL_SIZE), comment: 'connections per replica, at most DATABASE_MAX_CONNECTIONS' },
    { name: 'DATABASE_MAX_CONNECTIONS', value: () => String(RuntimeDefaults.DATABASE_MAX_CONNECTIONS), comment: "the server's max_connections budget" },
    { name: 'DATABASE_CONNECT_TIMEOUT', value: () => '5s', comment: 'connect timeout and startup ping timeout' },
    { name: 'DATABASE_IDLE_TIMEOUT', value: () => '30s', comment: 'idle pooled connections close after this' },
  ],
  Redis: [
    { name: 'REDIS_URL', value: () => DevCompose.redisUrl('localhost'), comment: 'unset: in-memory rate limits and cache (one process only)', enabled: s => s.useRedis },
    { name: 'REDIS_CLUSTER_NODES', value: () => 'redis-1:6379,redis-2:6379,redis-3:6379', comment: 'Redis Cluster seed nodes; takes precedence over REDIS_URL', enabled: () => false },
    { name: 'REDIS_PASSWORD', value: () => 'change-me', comment: 'AUTH password of every node; the platform\'s cluster requires one (its Secret holds it)', enabled: () => false },
  ],
  Security: [
    { name: 'JWT_SECRET', value: () => '', comment: 'required in production, at least 32 bytes: openssl rand -base64 48 (keep it in a Secret, never in git)' },
    { name: 'JWT_EXPIRES_IN', value: () => RuntimeDefaults.JWT_EXPIRES_IN, comment: 'access token lifetime' },
    { name: 'JWT_REFRESH_EXPIRES_IN', value: () => '7d', comment: 'refresh token lifetime, longer than JWT_EXPIRES_IN' },
    { name: 'JWT_ISSUER', value: () => 'rauli-vision', comment: 'iss claim signed and required' },
    { name: 'JWT_AUDIENCE', value: () => 'rauli-vision', comment: 'aud claim signed and required' },
    { name: 'BCRYPT_ROUNDS', value: () => String(RuntimeDefaults.BCRYPT_ROUNDS), comment: 'password hashing cost (10 to 31)' },
    { name: 'TRUSTED_PROXY_HOPS', value: () => '0', comment: 'proxies allowed to set X-Forwarded-For; 0 = the socket address is the client' },
  ],
  Performance: [
    { name: 'HTTP_TIMEOUT', value: () => RuntimeDefaults.HTTP_TIMEOUT, comment: 'longest a request may take (then 503)' },
    { name: 'MAX_CONCURRENT_REQUESTS', value: () => String(RuntimeDefaults.MAX_CONCURRENT_REQUESTS), comment: 'requests handled at once per process (then 503)' },
    { name: 'MAX_BODY_SIZE', value: () => '1048576', comment: 'largest request body in bytes (then 413)' },
    { name: 'RATE_LIMIT_REQUESTS', value: () => String(RuntimeDefaults.RATE_LIMIT_REQUESTS), comment: 'requests per client per window' },
    { name: 'RATE_LIMIT_WINDOW', value: () => RuntimeDefaults.RATE_LIMIT_WINDOW, comment: 'rate-limit window' },
    { name: 'LOGIN_RATE_LIMIT_REQUESTS', value: () => String(RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS), comment: 'stricter limit for login routes' },
  ],
  Monitoring: [
    { name: 'PROMETHEUS_ENABLED', value: () => 'true', comment: 'serve /metrics on METRICS_PORT' },
    { name: 'METRICS_PORT', value: s => String(s.metricsPort), comment: 'separate metrics server port (must differ from PORT)' },
    { name: 'HEALTH_CHECK_INTERVAL', value: () => '30s', comment: 'probe period; readiness checks finish within it' },
    { name: 'HEALTH_CHECK_TIMEOUT', value: () => '2s', comment: 'timeout of each /readyz dependency check' },
    { name: 'SHUTDOWN_DRAIN_DELAY', value: () => `${RuntimeDefaults.SHUTDOWN_DRAIN_SECONDS}s`, comment: 'after SIGTERM: readiness fails, serving continues this long' },
    { name: 'TERMINATION_GRACE_PERIOD', value: () => `${RuntimeDefaults.TERMINATION_GRACE_SECONDS}s`, comment: "the pod's grace period; the process exits before it" },
  ],
  Logging: [
    { name: 'LOG_LEVEL', value: () => 'debug', comment: 'trace, debug, info, warn, error, fatal or silent (info in production)' },
    { name: 'LOG_FORMAT', value: () => 'text', comment: 'json in production, text is easier to read locally' },
    { name: 'LOG_OUTPUT', value: () => 'stdout', comment: 'stdout or stderr' },
  ],
};

/** `.env.example`: every configuration variable with a safe local-development value. */
export class EnvExample extends Component {
  constructor(project: Project, settings: ServiceSettings) {
    super(project);
    const file = new TextFile(project, '.env.example', { marker: true });
    file.addLine(`# ${file.marker}`);
    file.addLine('# Copy to .env for local development. Never commit real secrets: in Kubernetes they come from Secrets.');
    for (const [group, variables] of Object.entries(ENV_VARIABLES)) {
      file.addLine('');
      file.addLine(`# --- ${group}`);
      for (const v of variables) {
        const enabled = v.enabled?.(settings) ?? true;
        file.addLine(`# ${v.comment}`);
        file.addLine(`${enabled ? '' : '# '}${v.name}=${v.value(settings)}`);
      }
    }
  }
}
