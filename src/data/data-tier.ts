import { Construct } from 'constructs';
import { ApplicationBackup, ApplicationBackupSource } from './backup/application-backup';
import { BackupStorage } from './backup/backup-storage';
import { DatabaseBackup, DatabaseBackupOptions } from './backup/database-backup';
import { DisasterRecoveryPlan } from './backup/disaster-recovery-plan';
import { CloudNativePgCluster } from './postgres/cloudnative-pg-cluster';
import { PostgresCluster, PostgresClusterOptions, PostgresOptions } from './postgres/postgres-cluster';
import { IPostgresDatabase } from './postgres/postgres-database';
import { RedisCluster, RedisClusterOptions } from './redis/redis-cluster';
import { validateInteger } from '../core/validate';

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
   * PostgreSQL: the engine and its settings.
   * @default - the operator-free engine with PostgresCluster's defaults
   */
  readonly postgres?: PostgresOptions;
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
   * one PgBouncer instance must accept all their pools.
   * @default 1
   */
  readonly databaseClientReplicas?: number;
  /**
   * Namespace of Prometheus.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * Namespace of PostgreSQL, Redis and the database backups: one of their own,
   * so that the applications' LimitRange does not bind them.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Namespace of the applications that connect (the application backup runs in the chart's namespace).
   * @default - the chart's namespace
   */
  readonly clientNamespace?: string;
}

/**
 * The data tier of one environment: PostgreSQL on the preset's engine
 * (CloudNativePG with WAL archiving to the bucket, or the operator-free
 * StatefulSets) behind PgBouncer, Redis Cluster, and when a bucket is given
 * the logical database dumps, the application backup and the
 * disaster-recovery plan. `appSettings` are the non-secret settings the
 * applications need to reach it: the poolers' hosts, never the servers'.
 */
export class DataTier extends Construct {
  /** PostgreSQL, whichever engine runs it. */
  public readonly postgres: IPostgresDatabase;
  /** Present when the engine is CloudNativePG. */
  public readonly cloudNativePg?: CloudNativePgCluster;
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
  /** Non-secret settings for the applications' ConfigMap (pooler hosts, port, database, cluster nodes). */
  public readonly appSettings: { [key: string]: string };

  constructor(scope: Construct, id: string, props: DataTierProps = {}) {
    super(scope, id);
    const clients = validateInteger('databaseClientReplicas', props.databaseClientReplicas ?? 1, 1);
    this.cloudNativePg = props.postgres?.engine?.isCloudNativePg ? this.buildCloudNativePg(props) : undefined;
    this.postgres = this.cloudNativePg ?? new PostgresCluster(this, 'Postgres', { ...withoutEngine(props.postgres), ...placement(props) });
    this.redis = new RedisCluster(this, 'Redis', { ...props.redis, ...placement(props) });
    this.databasePoolSize = this.postgres.poolSizeFor(clients);
    this.appSettings = {
      DATABASE_HOST: this.postgres.readWriteHost,
      DATABASE_READ_HOST: this.postgres.readOnlyHost,
      DATABASE_PORT: String(this.postgres.port),
      DATABASE_NAME: this.postgres.database,
    };
    if (props.backup) {
      const { storage, applicationSources, ...schedule } = props.backup;
      this.databaseBackup = this.buildDatabaseBackup(storage, schedule);
      if (applicationSources && applicationSources.length > 0) {
        this.applicationBackup = new ApplicationBackup(this, 'ApplicationBackup', { storage, sources: applicationSources });
      }
      this.disasterRecoveryPlan = new DisasterRecoveryPlan(this, 'DisasterRecoveryPlan', {
        databaseBackup: this.databaseBackup,
        applicationBackup: this.applicationBackup,
        redis: this.redis,
        cloudNativePg: this.cloudNativePg,
      });
    }
  }

  private buildCloudNativePg(props: DataTierProps): CloudNativePgCluster {
    return new CloudNativePgCluster(this, 'Postgres', { ...props.postgres, backupStorage: props.backup?.storage, ...placement(props) });
  }

  private buildDatabaseBackup(storage: BackupStorage, schedule: DatabaseBackupOptions): DatabaseBackup {
    return new DatabaseBackup(this, 'DatabaseBackup', {
      // WAL archiving keeps CloudNativePG's recovery point; the nightly logical dump stays as the guide's full backup.
      frequentDumps: !this.cloudNativePg,
      ...schedule,
      postgres: this.postgres,
      storage,
    });
  }
}

/** Where the stores run, whom they admit, who scrapes them. */
function placement(props: DataTierProps) {
  return { namespace: props.namespace, clientNamespace: props.clientNamespace, monitoringNamespace: props.monitoringNamespace };
}

function withoutEngine(options: PostgresOptions | undefined): PostgresClusterOptions {
  const { engine, ...rest } = options ?? {};
  return rest;
}
