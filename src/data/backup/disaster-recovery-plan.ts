import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BackupConventions, Components } from '../../conventions';
import { validateDnsSubdomain, PropValidationError } from '../../core/validate';
import { podLabels } from '../internal';
import { ApplicationBackup } from './application-backup';
import { DatabaseBackup } from './database-backup';
import { CloudNativePgCluster } from '../postgres/cloudnative-pg-cluster';
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
   * The CloudNativePG cluster: its WAL archive sets the RPO and recovery is point-in-time.
   * @default - the operator-free engine: the frequent logical dumps set the RPO
   */
  readonly cloudNativePg?: CloudNativePgCluster;
  /**
   * Name of the ConfigMap.
   * @default 'disaster-recovery-plan' (the guide)
   */
  readonly name?: string;
}

/**
 * The guide's disaster-recovery ConfigMap, generated from the same settings the
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
    const cnpg = props.cloudNativePg;
    const rpoMinutes = cnpg ? cnpg.engineOptions.rpoMinutes! : BackupConventions.RPO_HOURS * 60;
    if (!cnpg && db.worstCaseDataLossMinutes > rpoMinutes) {
      throw new PropValidationError('databaseBackup', db.worstCaseDataLossMinutes, `a backup whose worst-case loss is within the ${rpoMinutes}-minute RPO`);
    }
    const bucket = `s3://${db.storage.bucketName}${db.storage.endpoint ? ` (endpoint ${db.storage.endpoint})` : ''}`;
    const pg = db.postgres;
    const app = props.applicationBackup;
    const redis = props.redis;

    const databaseRecovery = cnpg ? [
      '1. Database recovery (RTO budget: 2 h):',
      `   - A lost primary needs nothing: CloudNativePG promotes the most advanced standby of ${cnpg.name} (failoverDelay 0: as soon as the operator declares the primary failed; not measured here) and the poolers follow the -rw Service.`,
      '   - Data loss or corruption: point-in-time recovery into a new Cluster.',
      ...cnpg.restoreRunbook().map((step, i) => `     ${i + 1}. ${step}`),
      `   - Without the object store: restore the newest nightly dump from ${db.dailyPrefix} with a restore Job (DatabaseBackup.restore, backupKey=<key>).`,
    ] : [
      '1. Database recovery (RTO budget: 2 h):',
      `   - Pick the newest dump whose folder has a SHA256SUMS: ${db.frequentPrefix} (every ${db.frequentSchedule}) or ${db.dailyPrefix} (${db.schedule}).`,
      `   - If the primary's volume is lost, let ${pg.name}-primary re-initialise (delete its PVC data-${pg.name}-primary-0).`,
      '   - Synthesize a restore Job with the dump key (DatabaseBackup.restore or RestoreJob, backupKey=<key>) and apply it;',
      '     it verifies the checksum and restores in one transaction. Use clean=true to replace existing tables.',
      `   - Re-clone replicas: delete the PVCs of ${pg.name}-replica-* and their pods.`,
      `   - Verify: row counts of the largest tables, application smoke tests against ${pg.primaryHost}.`,
    ];
    const procedures = [
      ...databaseRecovery,
      '2. Application recovery (RTO budget: 1 h):',
      '   - Deploy the last known-good release (pinned image tags).',
      app ? `   - Restore configuration and user data from ${app.prefixes.join(', ')} (tar -xzf into the volumes).` : '   - Restore configuration from Git (no application backup configured).',
      redis ? `   - Redis holds cache and rate-limit counters only: recreate its PVCs if lost and re-run Job ${redis.bootstrapJobName}.` : '   - No Redis Cluster in this environment.',
      ...redis && redis.replicasPerMaster > 0 ? [`   - A crashed Redis master needs nothing: its replica takes over after cluster-node-timeout (${redis.nodeTimeoutMs} ms) and an election; `
        + 'meanwhile the limits of that master\'s keys are decided in memory and caches serve L1 (measured failover time and how to rerun it: docs/disaster-recovery.md, Redis Cluster).'] : [],
      '   - Update DNS records if the cluster or load balancer changed.',
      '3. Validation (RTO budget: 1 h):',
      '   - Health checks of every service, smoke tests, watch error rate and p95 latency dashboards.',
      `   - Confirm the next ${cnpg ? db.dailyCronJobName : db.frequentCronJobName} run succeeds: backups resume.`,
    ].join('\n');

    this.data = {
      'rto': `${BackupConventions.RTO_HOURS}h`,
      ...cnpg ? {
        'rpo': `${rpoMinutes}m`,
        'rpo-mechanism': `Continuous WAL archiving by CloudNativePG's Barman Cloud plugin to ${cnpg.destinationPath} (ObjectStore ${cnpg.objectStoreName}); `
          + `archive_timeout ${cnpg.engineOptions.archiveTimeoutMinutes}min switches segments at least that often, base backups nightly (ScheduledBackup ${cnpg.name}-daily). `
          + 'Point-in-time recovery to any second of the retention window.',
        'failover': `automatic: CloudNativePG promotes a standby of ${cnpg.name} (${cnpg.instances} instances) when the primary fails`,
        'worst-case-data-loss-minutes': String(cnpg.engineOptions.archiveTimeoutMinutes),
      } : {
        'rpo': `${BackupConventions.RPO_HOURS}h`,
        'rpo-mechanism': `Full logical dumps (pg_dump) every ${db.frequentIntervalMinutes} minutes (CronJob ${db.frequentCronJobName}), no WAL archiving. `
          + `Worst case: ${db.worstCaseDataLossMinutes} minutes of writes lost (interval plus the dump job's deadline).`,
        'failover': 'manual: promote the replica (docs/disaster-recovery.md)',
        'worst-case-data-loss-minutes': String(db.worstCaseDataLossMinutes),
      },
      'retention-days': String(BackupConventions.RETENTION_DAYS),
      'retention-enforced-by': `the backup jobs (they delete their prefix's dumps older than the retention after each upload; frequent dumps after ${db.frequentRetentionSeconds / 3600} h)`
        + `${cnpg ? ', the ObjectStore retentionPolicy for WAL and base backups' : ''}, and the bucket lifecycle rules where the AWS package made the bucket`,
      'database-backup-schedule': db.schedule,
      ...db.frequentDumps ? { 'database-frequent-schedule': db.frequentSchedule } : {},
      'database-backup-cronjobs': db.frequentDumps ? `${db.dailyCronJobName}, ${db.frequentCronJobName}` : db.dailyCronJobName,
      'databases': db.databases.join(' '),
      'storage': bucket,
      'prefixes': [db.dailyPrefix, ...db.frequentDumps ? [db.frequentPrefix] : [], ...cnpg ? [`${cnpg.destinationPath}/`] : [], ...app ? app.prefixes : []].join(' '),
      ...app ? { 'application-backup-schedule': app.schedule, 'application-backup-cronjob': app.cronJobName } : {},
      'procedures': procedures,
      'runbook': 'docs/disaster-recovery.md',
    };
    new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { namespace: db.namespace, name: this.configMapName, labels: podLabels(Components.BACKUP, this.configMapName, 'disaster-recovery-plan') },
      data: this.data,
    });
  }
}
