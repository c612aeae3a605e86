import { Component, Project, TextFile } from 'projen';
import { RuntimeSettings } from '../conventions';
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

/** Where the scaffold knows better than the table's local value: the service's own name, ports and dev stores. */
const SCAFFOLD_VALUES: { [name: string]: Pick<EnvVariable, 'value' | 'enabled'> } = {
  SERVICE_NAME: { value: s => s.serviceName },
  PORT: { value: s => String(s.servicePort) },
  METRICS_PORT: { value: s => String(s.metricsPort) },
  DATABASE_URL: { value: () => DevCompose.databaseUrl('localhost'), enabled: s => s.usePostgres },
  REDIS_URL: { value: () => DevCompose.redisUrl('localhost'), enabled: s => s.useRedis },
  REDIS_CLUSTER_NODES: { value: () => 'redis-1:6379,redis-2:6379,redis-3:6379', enabled: () => false },
  REDIS_PASSWORD: { value: () => 'change-me', enabled: () => false },
  TRUSTED_PROXY_CIDRS: { value: () => '127.0.0.1/32', enabled: () => false },
};

/**
 * Every runtime setting of the table (`RuntimeSettings.ALL`, the same rows
 * `@rauli-vision/koa`'s `loadConfig()` reads), grouped as in the guide's
 * `.env.production`, with the table's local-development value.
 */
export const ENV_VARIABLES: Record<string, EnvVariable[]> = RuntimeSettings.ALL.reduce<Record<string, EnvVariable[]>>((groups, setting) => {
  const local = setting.local ?? setting.defaultValue;
  const scaffold = SCAFFOLD_VALUES[setting.name];
  (groups[setting.group] ??= []).push({
    name: setting.name,
    value: scaffold?.value ?? (() => local ?? ''),
    comment: setting.defaultValue === undefined && setting.unset ? `${setting.description} Unset: ${setting.unset}.` : setting.description,
    enabled: scaffold?.enabled ?? (() => local !== undefined),
  });
  return groups;
}, {});

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
