import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BackupConventions, Components } from '../../conventions';
import { validateDnsSubdomain, PropValidationError } from '../../core/validate';
import { podLabels } from '../internal';
import { ApplicationBackup } from './application-backup';
import { DatabaseBackup } from './database-backup';
import { RedisCluster } from '../redis/redis-cluster';

export interface DisasterRecoveryPlanProps {
  /** The database backups the plan recovers from. */
  readonly databaseBackup: DatabaseBackup;
  /**
   * The configuration and user-data backups.
   * @default - none
   */
  readonly applicationBackup?: ApplicationBackup;
  /**
   * The Redis Cluster (its data is a cache: it is re-formed, not restored).
   * @default - none
   */
  readonly redis?: RedisCluster;
  /**
   * Name of the ConfigMap.
   * @default 'disaster-recovery-plan' (the seed)
   */
  readonly name?: string;
}

/**
 * The seed's disaster-recovery ConfigMap, generated from the same settings the
 * backups run with: objectives, the RPO mechanism and its worst case, schedules,
 * storage, and procedures that name the actual objects. docs/disaster-recovery.md
 * is the long form.
 */
export class DisasterRecoveryPlan extends Construct {
  /** Name of the ConfigMap. */
  public readonly configMapName: string;
  /** The ConfigMap's data. */
  public readonly data: { [key: string]: string };

  constructor(scope: Construct, id: string, props: DisasterRecoveryPlanProps) {
    super(scope, id);
    this.configMapName = validateDnsSubdomain('name', props.name ?? 'disaster-recovery-plan');
    const db = props.databaseBackup;
    const rpoMinutes = BackupConventions.RPO_HOURS * 60;
    if (db.worstCaseDataLossMinutes > rpoMinutes) {
      throw new PropValidationError('databaseBackup', db.worstCaseDataLossMinutes, `a backup whose worst-case loss is within the ${rpoMinutes}-minute RPO`);
    }
    const bucket = `s3://${db.storage.bucketName}${db.storage.endpoint ? ` (endpoint ${db.storage.endpoint})` : ''}`;
    const pg = db.postgres;
    const app = props.applicationBackup;
    const redis = props.redis;

    const procedures = [
      '1. Database recovery (RTO budget: 2 h):',
      `   - Pick the newest dump whose folder has a SHA256SUMS: ${db.frequentPrefix} (every ${db.frequentSchedule}) or ${db.dailyPrefix} (${db.schedule}).`,
      `   - If the primary's volume is lost, let ${pg.name}-primary re-initialise (delete its PVC data-${pg.name}-primary-0).`,
      '   - Synthesize a restore Job with the dump key (DatabaseBackup.restore or RestoreJob, backupKey=<key>) and apply it;',
      '     it verifies the checksum and restores in one transaction. Use clean=true to replace existing tables.',
      `   - Re-clone replicas: delete the PVCs of ${pg.name}-replica-* and their pods.`,
      `   - Verify: row counts of the largest tables, application smoke tests against ${pg.readWriteHost}.`,
      '2. Application recovery (RTO budget: 1 h):',
      '   - Deploy the last known-good release (pinned image tags).',
      app ? `   - Restore configuration and user data from ${app.prefixes.join(', ')} (tar -xzf into the volumes).` : '   - Restore configuration from Git (no application backup configured).',
      redis ? `   - Redis holds cache and rate-limit counters only: recreate its PVCs if lost and re-run Job ${redis.bootstrapJobName}.` : '   - No Redis Cluster in this environment.',
      '   - Update DNS records if the cluster or load balancer changed.',
      '3. Validation (RTO budget: 1 h):',
      '   - Health checks of every service, smoke tests, watch error rate and p95 latency dashboards.',
      `   - Confirm the next ${db.frequentCronJobName} run succeeds: backups resume.`,
    ].join('\n');

    this.data = {
      'rto': `${BackupConventions.RTO_HOURS}h`,
      'rpo': `${BackupConventions.RPO_HOURS}h`,
      'rpo-mechanism': `Full logical dumps (pg_dump) every ${db.frequentIntervalMinutes} minutes (CronJob ${db.frequentCronJobName}), no WAL archiving. `
        + `Worst case: ${db.worstCaseDataLossMinutes} minutes of writes lost (interval plus the dump job's deadline).`,
      'worst-case-data-loss-minutes': String(db.worstCaseDataLossMinutes),
      'retention-days': String(BackupConventions.RETENTION_DAYS),
      'retention-enforced-by': 'the bucket lifecycle rules (AWS package), not the jobs',
      'database-backup-schedule': db.schedule,
      'database-frequent-schedule': db.frequentSchedule,
      'database-backup-cronjobs': `${db.dailyCronJobName}, ${db.frequentCronJobName}`,
      'databases': db.databases.join(' '),
      'storage': bucket,
      'prefixes': [db.dailyPrefix, db.frequentPrefix, ...app ? app.prefixes : []].join(' '),
      ...app ? { 'application-backup-schedule': app.schedule, 'application-backup-cronjob': app.cronJobName } : {},
      'procedures': procedures,
      'runbook': 'docs/disaster-recovery.md',
    };
    new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { name: this.configMapName, labels: podLabels(Components.BACKUP, this.configMapName, 'disaster-recovery-plan') },
      data: this.data,
    });
  }
}
