import { Construct } from 'constructs';
import { BackupRuntime, postgresAdminEnv, validatePrefix, validateStorage } from './backup-runtime';
import { BackupStorage } from './backup-storage';
import { RestoreJob, RestoreJobOptions } from './restore-job';
import { BackupConventions } from '../../conventions';
import { validateCron, validateDnsLabel, validateInteger, validateOneOf, PropValidationError } from '../../core/validate';
import { ResourceSettings } from '../../workload/settings';
import { checkedImage, checkedResources, checkedStorage, DATA_UID, IMAGES, JOB_STEP_RESOURCES, validatePgIdentifier } from '../internal';
import { IPostgresDatabase } from '../postgres/postgres-database';

/** The per-environment knobs of the database backups. */
export interface DatabaseBackupOptions {
  /**
   * Schedule of the nightly dump (kept under `<prefix>daily/`).
   * @default BackupConventions.DATABASE_SCHEDULE
   */
  readonly schedule?: string;
  /**
   * Minutes between the dumps that keep the recovery point objective (kept
   * under `<prefix>frequent/`). The worst-case loss is this interval plus the
   * longest a dump may run (the job's deadline: RPO minus the interval minus
   * 5 minutes), so it must divide 60 and leave room for a dump within the RPO.
   * @default 30
   */
  readonly frequentIntervalMinutes?: number;
  /**
   * Run the frequent dumps. Off where WAL archiving keeps the recovery point
   * (CloudNativePG): the nightly dump then is the only logical backup.
   * @default true
   */
  readonly frequentDumps?: boolean;
  /**
   * Scratch space a dump is written to before it is uploaded.
   * @default '10Gi'
   */
  readonly workVolumeSize?: string;
}

export interface DatabaseBackupProps extends DatabaseBackupOptions {
  /** The cluster to back up: its read-write Service and credentials Secret. */
  readonly postgres: IPostgresDatabase;
  /** Where the dumps go. */
  readonly storage: BackupStorage;
  /**
   * Base name of the objects.
   * @default '<postgres name>-backup'
   */
  readonly name?: string;
  /**
   * Databases to dump (roles and tablespaces are always saved too).
   * @default - the cluster's application database
   */
  readonly databases?: string[];
  /**
   * Key prefix in the bucket.
   * @default 'database/' (BackupConventions.PREFIXES)
   */
  readonly prefix?: string;
  /**
   * Image of the dump step (pg_dump must match the server's major version).
   * @default 'postgres:15.10'
   */
  readonly postgresImage?: string;
  /**
   * Image of the upload step.
   * @default 'amazon/aws-cli:2.22.10'
   */
  readonly awsCliImage?: string;
  /**
   * Resources of each step.
   * @default - 100m/256Mi requests, 500m/512Mi limits
   */
  readonly resources?: ResourceSettings;
}

const MARGIN_MINUTES = 5;
const INTERVALS = [5, 10, 15, 20, 30];

/**
 * Backups of the PostgreSQL cluster: a nightly CronJob on the guide's schedule
 * and a frequent one that makes the 1 h RPO true, both running
 * `backup-database.sh` (pg_dump custom format, checksummed, uploaded only when
 * complete). RPO mechanism: frequent full logical dumps, not WAL archiving;
 * the worst case loss is `worstCaseDataLossMinutes`, checked against
 * `BackupConventions.RPO_HOURS` at synth time.
 */
export class DatabaseBackup extends Construct {
  /** Base name of the objects. */
  public readonly name: string;
  /** Namespace of the jobs: the database's (undefined: the chart's). */
  public readonly namespace?: string;
  /** The nightly CronJob. */
  public readonly dailyCronJobName: string;
  /** The CronJob that keeps the RPO. */
  public readonly frequentCronJobName: string;
  /** Cron schedule of the nightly dump. */
  public readonly schedule: string;
  /** Minutes between the frequent dumps. */
  public readonly frequentIntervalMinutes: number;
  /** Cron schedule of the frequent dumps. */
  public readonly frequentSchedule: string;
  /** Key prefix of the nightly dumps. */
  public readonly dailyPrefix: string;
  /** Key prefix of the frequent dumps. */
  public readonly frequentPrefix: string;
  /** Minutes of writes lost in the worst case: interval plus the longest a dump may run. */
  public readonly worstCaseDataLossMinutes: number;
  /** Where the dumps go. */
  public readonly storage: BackupStorage;
  /** The cluster backed up. */
  public readonly postgres: IPostgresDatabase;
  /** Whether the frequent CronJob exists. */
  public readonly frequentDumps: boolean;
  /** Seconds a nightly dump is kept: `BackupConventions.RETENTION_DAYS`. */
  public readonly dailyRetentionSeconds: number;
  /**
   * Seconds a frequent dump is kept: one day, until the nightly dumps cover
   * it; older ones would only serve a recovery point no one asks for.
   */
  public readonly frequentRetentionSeconds: number;
  /** Databases dumped. */
  public readonly databases: string[];

  private readonly postgresImage: string;
  private readonly awsCliImage: string;

  constructor(scope: Construct, id: string, props: DatabaseBackupProps) {
    super(scope, id);
    const name = validateDnsLabel('name', props.name ?? `${props.postgres.name}-backup`, 40);
    this.storage = validateStorage('storage', props.storage);
    this.schedule = validateCron('schedule', props.schedule ?? BackupConventions.DATABASE_SCHEDULE);
    const interval = Number(validateOneOf('frequentIntervalMinutes', String(props.frequentIntervalMinutes ?? 30), INTERVALS.map(String)));
    const rpoMinutes = BackupConventions.RPO_HOURS * 60;
    const frequentDeadlineMinutes = rpoMinutes - interval - MARGIN_MINUTES;
    if (frequentDeadlineMinutes < 5) {
      throw new PropValidationError('frequentIntervalMinutes', interval, `an interval leaving at least 5 minutes for a dump within the ${rpoMinutes}-minute RPO`);
    }
    const prefix = validatePrefix('prefix', props.prefix ?? BackupConventions.PREFIXES[0]);
    const databases = props.databases ?? [props.postgres.database];
    if (databases.length === 0) throw new PropValidationError('databases', databases, 'at least one database');
    databases.forEach((d, i) => validatePgIdentifier(`databases[${i}]`, d));
    const workVolumeSize = checkedStorage('workVolumeSize', props.workVolumeSize ?? '10Gi');
    const res = checkedResources('resources', props.resources, JOB_STEP_RESOURCES);
    this.postgresImage = checkedImage('postgresImage', props.postgresImage ?? IMAGES.postgres);
    this.awsCliImage = checkedImage('awsCliImage', props.awsCliImage ?? IMAGES.awsCli);

    this.name = name;
    this.postgres = props.postgres;
    this.databases = databases;
    this.dailyPrefix = `${prefix}daily/`;
    this.frequentPrefix = `${prefix}frequent/`;
    this.frequentIntervalMinutes = interval;
    this.frequentSchedule = `*/${interval} * * * *`;
    this.worstCaseDataLossMinutes = interval + frequentDeadlineMinutes;
    this.dailyCronJobName = `${name}-daily`;
    this.namespace = props.postgres.namespace;
    this.frequentDumps = props.frequentDumps ?? true;
    this.dailyRetentionSeconds = BackupConventions.RETENTION_DAYS * 86400;
    this.frequentRetentionSeconds = 86400;
    this.frequentCronJobName = `${name}-frequent`;

    const runtime = new BackupRuntime(this, 'Runtime', {
      name,
      storage: this.storage,
      scripts: ['backup-database.sh'],
      runAsUser: DATA_UID,
      workVolumeSize,
      egressTo: [{ selector: props.postgres.selector, port: props.postgres.port }],
      // Beside the database: the egress rule above selects its pods in the jobs' own namespace.
      namespace: props.postgres.namespace,
    });

    const cronJob = (cid: string, cronName: string, schedule: string, keyPrefix: string, deadlineSeconds: number, retentionSeconds: number) => {
      const template = runtime.podTemplate(
        {
          name: 'dump',
          image: this.postgresImage,
          args: ['dump'],
          env: [
            ...postgresAdminEnv(props.postgres),
            { name: 'DATABASES', value: databases.join(' ') },
            { name: 'BACKUP_PREFIX', value: keyPrefix },
          ],
          resources: res,
        },
        {
          name: 'upload',
          image: this.awsCliImage,
          args: ['upload'],
          // The upload step also deletes this prefix's dumps older than the retention, on every destination.
          env: [...runtime.storageEnv(), { name: 'BACKUP_PREFIX', value: keyPrefix }, { name: 'RETENTION_SECONDS', value: String(retentionSeconds) }],
          resources: res,
        },
      );
      runtime.cronJob(cid, cronName, schedule, deadlineSeconds, template);
    };
    cronJob('Daily', this.dailyCronJobName, this.schedule, this.dailyPrefix, 3 * 3600, this.dailyRetentionSeconds);
    if (this.frequentDumps) {
      cronJob('Frequent', this.frequentCronJobName, this.frequentSchedule, this.frequentPrefix, frequentDeadlineMinutes * 60, this.frequentRetentionSeconds);
      validateInteger('worstCaseDataLossMinutes', this.worstCaseDataLossMinutes, 1, rpoMinutes);
    }
  }

  /**
   * A restore Job for one dump of this backup (same storage, same cluster):
   * `backupKey` is the object key, e.g. `database/daily/20260101T020000Z/rauli.dump`.
   */
  public restore(id: string, options: RestoreJobOptions): RestoreJob {
    return new RestoreJob(this, id, {
      postgresImage: this.postgresImage,
      awsCliImage: this.awsCliImage,
      ...options,
      postgres: this.postgres,
      storage: this.storage,
    });
  }
}
