import { validateOneOf } from '../core/validate';
import { DatabaseBackupOptions } from '../data/backup/database-backup';
import { PostgresOptions } from '../data/postgres/postgres-cluster';
import { PostgresEngine } from '../data/postgres/postgres-engine';
import { RedisClusterOptions } from '../data/redis/redis-cluster';
import { LoggingPresets, LoggingSizing } from '../logging/logging-sizing';
import { LimitRangeSettings, ResourceQuotaSettings, DEFAULT_LIMIT_RANGE } from '../namespace/platform-namespace';
import { HttpServiceSettings, DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP } from '../workload/settings';

/** Everything that differs between dev, staging and production. */
export interface EnvironmentPreset {
  /** Environment name: 'dev', 'staging' or 'production'. */
  readonly name: string;
  /** Refuse untagged and `:latest` images. */
  readonly strictImages: boolean;
  /** The React frontend (the guide's dashboard). */
  readonly frontend: HttpServiceSettings;
  /** The Go API (the guide's espejo). */
  readonly backendGo: HttpServiceSettings;
  /** The Python service (the guide's cliente-local). */
  readonly backendPython: HttpServiceSettings;
  /** Per-container bounds and defaults. */
  readonly limitRange: LimitRangeSettings;
  /** Namespace totals, sized for the autoscalers' maximum. */
  readonly quota: ResourceQuotaSettings;
  /** Per-container bounds and defaults of the data tier's namespace. */
  readonly dataTierLimitRange: LimitRangeSettings;
  /** Totals of the data tier's namespace: every instance, pooler and node, one backup or restore job, one instance being rebuilt. */
  readonly dataTierQuota: ResourceQuotaSettings;
  /** PostgreSQL: engine, instances (primary + replicas), storage, resources. */
  readonly postgres: PostgresOptions;
  /** Redis Cluster: masters, replicas per master, storage. */
  readonly redis: RedisClusterOptions;
  /** Database backup schedules (the bucket is given per deployment). */
  readonly backup: DatabaseBackupOptions;
  /** Elasticsearch, Kibana and the log collector. */
  readonly logging: LoggingSizing;
}

// Cluster mode needs 3 masters even in dev; replicas only where a lost node must not cost availability.
const DEV_REDIS = { cpuRequest: '50m', cpuLimit: '250m', memoryRequest: '128Mi', memoryLimit: '256Mi' };

const BACKEND_RESOURCES = { cpuRequest: '250m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' };

/**
 * The data tier's namespace: containers without resources get the same
 * defaults as the applications', the maximum is what a database may grow to.
 */
function dataTierLimitRange(maxCpu: string, maxMemory: string): LimitRangeSettings {
  return { ...DEFAULT_LIMIT_RANGE, maxCpu, maxMemory };
}

const PRESETS: { [name: string]: EnvironmentPreset } = {
  dev: {
    name: 'dev',
    strictImages: false,
    frontend: { replicas: 1 },
    backendGo: { replicas: 1, resources: BACKEND_RESOURCES },
    backendPython: { replicas: 1 },
    limitRange: DEFAULT_LIMIT_RANGE,
    quota: { requestsCpu: '4', requestsMemory: '8Gi', limitsCpu: '8', limitsMemory: '16Gi', pods: 30, persistentVolumeClaims: 10, requestsStorage: '50Gi' },
    dataTierLimitRange: dataTierLimitRange('1', '1Gi'),
    dataTierQuota: { requestsCpu: '2', requestsMemory: '4Gi', limitsCpu: '6', limitsMemory: '8Gi', pods: 20, persistentVolumeClaims: 10, requestsStorage: '50Gi' },
    postgres: { engine: PostgresEngine.statefulSet(), instances: 1, storageSize: '5Gi' },
    redis: { masters: 3, replicasPerMaster: 0, storageSize: '1Gi', resources: DEV_REDIS },
    backup: {},
    logging: LoggingPresets.DEV,
  },
  staging: {
    name: 'staging',
    strictImages: true,
    frontend: { replicas: 2 },
    backendGo: { replicas: 3, resources: BACKEND_RESOURCES },
    backendPython: { replicas: 1 },
    limitRange: DEFAULT_LIMIT_RANGE,
    quota: { requestsCpu: '8', requestsMemory: '16Gi', limitsCpu: '16', limitsMemory: '32Gi', pods: 60, persistentVolumeClaims: 20, requestsStorage: '200Gi' },
    dataTierLimitRange: dataTierLimitRange('2', '2Gi'),
    dataTierQuota: { requestsCpu: '4', requestsMemory: '8Gi', limitsCpu: '10', limitsMemory: '16Gi', pods: 25, persistentVolumeClaims: 15, requestsStorage: '200Gi' },
    // Same topology as production for PostgreSQL (replication is exercised before release), smaller volumes.
    postgres: {
      engine: PostgresEngine.cloudNativePg(),
      instances: 2,
      storageSize: '20Gi',
      resources: { cpuRequest: '500m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' },
    },
    redis: { masters: 3, replicasPerMaster: 0, storageSize: '2Gi' },
    backup: {},
    logging: LoggingPresets.STAGING,
  },
  production: {
    name: 'production',
    strictImages: true,
    // The guide: 5 replicas updated 2 at a time, 10 s apart.
    frontend: { replicas: 5, maxSurge: 2, maxUnavailable: 0, minReadySeconds: 10 },
    // The guide runs 10 replicas and an HPA 3..50: the HPA owns the count;
    // `replicas` applies when autoscaling is switched off.
    backendGo: {
      replicas: 10,
      resources: BACKEND_RESOURCES,
      autoscaling: {
        minReplicas: 3, maxReplicas: 50, cpuUtilization: 70, memoryUtilization: 80, scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN,
      },
    },
    backendPython: { replicas: 2 },
    limitRange: DEFAULT_LIMIT_RANGE,
    // 50 Go pods at their limits alone take 25 CPU / 25Gi.
    quota: { requestsCpu: '24', requestsMemory: '48Gi', limitsCpu: '48', limitsMemory: '96Gi', pods: 150, persistentVolumeClaims: 40, requestsStorage: '1Ti' },
    dataTierLimitRange: dataTierLimitRange('4', '8Gi'),
    dataTierQuota: { requestsCpu: '8', requestsMemory: '16Gi', limitsCpu: '20', limitsMemory: '32Gi', pods: 30, persistentVolumeClaims: 20, requestsStorage: '500Gi' },
    // The guide: PostgreSQL primary + 1 replica, Redis Cluster of 3 masters (+1 replica each here).
    // CloudNativePG: automatic failover, WAL archiving (RPO 5 min), PgBouncer poolers.
    // Memory requested = limit: a database never uses more than it reserved, so node pressure evicts it last.
    postgres: {
      engine: PostgresEngine.cloudNativePg(),
      instances: 2,
      storageSize: '50Gi',
      resources: { cpuRequest: '1', cpuLimit: '2', memoryRequest: '2Gi', memoryLimit: '2Gi' },
    },
    redis: {
      masters: 3,
      replicasPerMaster: 1,
      storageSize: '5Gi',
      resources: { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '512Mi', memoryLimit: '1Gi' },
    },
    backup: {},
    logging: LoggingPresets.PRODUCTION,
  },
};

/** The environment presets that follow the guide. */
export class Environments {
  /** Names of the environments presets exist for. */
  public static readonly NAMES = Object.keys(PRESETS);

  /** The preset of `name`; throws naming the allowed values for an unknown one. */
  public static preset(name: string): EnvironmentPreset {
    return PRESETS[validateOneOf('environment', name, Environments.NAMES)];
  }
}
