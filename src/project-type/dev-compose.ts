import { Component, Project, YamlFile } from 'projen';
import { DataConventions, ServiceConventions } from '../conventions';
import { ServiceSettings } from './service-settings';

/** Images of the development data stores: exact versions of the guide's postgres:15 and redis:7-alpine. */
export const DEV_POSTGRES_IMAGE = 'postgres:15.14-alpine';
export const DEV_REDIS_IMAGE = 'redis:7.4.6-alpine';

/** The compose file of local development; the pipeline's integration job runs it too. */
export const DEV_COMPOSE_FILE = 'docker-compose.dev.yml';

/** Credentials of the throw-away development database; never used outside docker-compose.dev.yml. */
const DEV_DB = { user: 'rauli', password: 'rauli-dev-only', database: 'rauli_dev' };

/**
 * docker-compose.dev.yml: the service built from this repository, plus Redis
 * and PostgreSQL as in the guide's development environment, with debug logging.
 */
export class DevCompose extends Component {
  /** DATABASE_URL the service uses inside the compose network. */
  public static databaseUrl(host = 'postgres'): string {
    return `postgresql://${DEV_DB.user}:${DEV_DB.password}@${host}:${DataConventions.POSTGRES_PORT}/${DEV_DB.database}`;
  }

  /** REDIS_URL the service uses inside the compose network. */
  public static redisUrl(host = 'redis'): string {
    return `redis://${host}:${DataConventions.REDIS_PORT}`;
  }

  constructor(project: Project, settings: ServiceSettings) {
    super(project);
    const environment: Record<string, string> = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'debug',
      PORT: String(settings.servicePort),
      METRICS_PORT: String(settings.metricsPort),
    };
    const dependsOn: Record<string, { condition: string }> = {};
    const services: Record<string, unknown> = {};

    if (settings.usePostgres) {
      environment.DATABASE_URL = DevCompose.databaseUrl();
      dependsOn.postgres = { condition: 'service_healthy' };
      services.postgres = {
        image: DEV_POSTGRES_IMAGE,
        environment: { POSTGRES_USER: DEV_DB.user, POSTGRES_PASSWORD: DEV_DB.password, POSTGRES_DB: DEV_DB.database },
        ports: [`${DataConventions.POSTGRES_PORT}:${DataConventions.POSTGRES_PORT}`],
        volumes: ['postgres_dev_data:/var/lib/postgresql/data'],
        healthcheck: {
          test: ['CMD-SHELL', `pg_isready -U ${DEV_DB.user} -d ${DEV_DB.database}`],
          interval: '5s',
          timeout: '3s',
          retries: 10,
        },
      };
    }
    if (settings.useRedis) {
      environment.REDIS_URL = DevCompose.redisUrl();
      dependsOn.redis = { condition: 'service_healthy' };
      services.redis = {
        image: DEV_REDIS_IMAGE,
        ports: [`${DataConventions.REDIS_PORT}:${DataConventions.REDIS_PORT}`],
        healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '5s', timeout: '3s', retries: 10 },
      };
    }

    new YamlFile(project, DEV_COMPOSE_FILE, {
      obj: {
        name: settings.serviceName,
        services: {
          [settings.serviceName]: {
            build: { context: '.' },
            image: `${settings.image}:dev`,
            ports: [
              `${settings.servicePort}:${settings.servicePort}`,
              `${settings.metricsPort}:${settings.metricsPort}`,
            ],
            environment,
            ...(Object.keys(dependsOn).length ? { depends_on: dependsOn } : {}),
            healthcheck: {
              test: ['CMD', 'node', '-e',
                `fetch('http://127.0.0.1:${settings.servicePort}${ServiceConventions.READINESS_PATH}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
              interval: '10s',
              timeout: '3s',
              retries: 5,
            },
          },
          ...services,
        },
        ...(settings.usePostgres ? { volumes: { postgres_dev_data: {} } } : {}),
      },
    });
  }
}
