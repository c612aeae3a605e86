import { Construct } from 'constructs';
import { validateInteger } from '../core/validate';
import { ApplicationBackup, ApplicationBackupSource } from './backup/application-backup';
import { BackupStorage } from './backup/backup-storage';
import { DatabaseBackup, DatabaseBackupOptions } from './backup/database-backup';
import { DisasterRecoveryPlan } from './backup/disaster-recovery-plan';
import { PostgresCluster, PostgresClusterOptions } from './postgres/postgres-cluster';
import { RedisCluster, RedisClusterOptions } from './redis/redis-cluster';

/** Backups of one environment: where they go, plus schedule overrides. */
export interface DataTierBackupOptions extends DatabaseBackupOptions {
  /** Bucket (or S3-compatible store) and credentials. */
  readonly storage: BackupStorage;
  /**
   * Configuration and user-data volumes to archive nightly.
   * @default - no application backup
   */
  readonly applicationSources?: ApplicationBackupSource[];
}

export interface DataTierProps {
  /**
   * PostgreSQL settings.
   * @default - PostgresCluster's defaults
   */
  readonly postgres?: PostgresClusterOptions;
  /**
   * Redis Cluster settings.
   * @default - RedisCluster's defaults
   */
  readonly redis?: RedisClusterOptions;
  /**
   * Backups and the disaster-recovery plan; without a bucket there is nothing to back up to.
   * @default - no backups
   */
  readonly backup?: DataTierBackupOptions;
  /**
   * Most replicas of all database clients together (autoscaler maximums):
   * the applications' pool size is capped so they fit in `max_connections`.
   * @default 1
   */
  readonly databaseClientReplicas?: number;
  /**
   * Namespace of Prometheus.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
}

/**
 * The data tier of one environment: PostgreSQL, Redis Cluster, and when a
 * bucket is given the database and application backups and the
 * disaster-recovery plan. `appSettings` are the non-secret settings the
 * applications need to reach it.
 */
export class DataTier extends Construct {
  /** PostgreSQL primary and replicas. */
  public readonly postgres: PostgresCluster;
  /** The Redis Cluster. */
  public readonly redis: RedisCluster;
  /** Present when `backup` is set. */
  public readonly databaseBackup?: DatabaseBackup;
  /** Present when `backup.applicationSources` is set. */
  public readonly applicationBackup?: ApplicationBackup;
  /** Present when `backup` is set. */
  public readonly disasterRecoveryPlan?: DisasterRecoveryPlan;
  /** Pool size each application replica opens: `postgres.poolSizeFor(databaseClientReplicas)`. */
  public readonly databasePoolSize: number;
  /** Non-secret settings for the applications' ConfigMap (hosts, port, database, cluster nodes). */
  public readonly appSettings: { [key: string]: string };

  constructor(scope: Construct, id: string, props: DataTierProps = {}) {
    super(scope, id);
    const clients = validateInteger('databaseClientReplicas', props.databaseClientReplicas ?? 1, 1);
    this.postgres = new PostgresCluster(this, 'Postgres', { ...props.postgres, monitoringNamespace: props.monitoringNamespace });
    this.redis = new RedisCluster(this, 'Redis', { ...props.redis, monitoringNamespace: props.monitoringNamespace });
    this.databasePoolSize = this.postgres.poolSizeFor(clients);
    this.appSettings = {
      DATABASE_HOST: this.postgres.readWriteHost,
      DATABASE_READ_HOST: this.postgres.readOnlyHost,
      DATABASE_PORT: String(this.postgres.port),
      DATABASE_NAME: this.postgres.database,
    };

    if (props.backup) {
      const { storage, applicationSources, ...schedule } = props.backup;
      this.databaseBackup = new DatabaseBackup(this, 'DatabaseBackup', { ...schedule, postgres: this.postgres, storage });
      if (applicationSources && applicationSources.length > 0) {
        this.applicationBackup = new ApplicationBackup(this, 'ApplicationBackup', { storage, sources: applicationSources });
      }
      this.disasterRecoveryPlan = new DisasterRecoveryPlan(this, 'DisasterRecoveryPlan', {
        databaseBackup: this.databaseBackup,
        applicationBackup: this.applicationBackup,
        redis: this.redis,
      });
    }
  }
}
