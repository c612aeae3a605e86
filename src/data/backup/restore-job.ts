import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BackupRuntime, postgresAdminEnv, validatePrefix, validateStorage } from './backup-runtime';
import { BackupStorage } from './backup-storage';
import { BackupConventions } from '../../conventions';
import { validateDnsLabel, PropValidationError } from '../../core/validate';
import { ResourceSettings } from '../../workload/settings';
import { checkedImage, checkedResources, checkedStorage, DATA_UID, IMAGES, JOB_STEP_RESOURCES, validatePgIdentifier } from '../internal';
import { IPostgresDatabase } from '../postgres/postgres-database';

/** Which dump to restore, and how. */
export interface RestoreJobOptions {
  /** Object key of the dump, e.g. `database/daily/20260101T020000Z/rauli.dump`. */
  readonly backupKey: string;
  /**
   * Base name of the objects.
   * @default '<postgres name>-restore'
   */
  readonly name?: string;
  /**
   * Database to restore into; created when missing.
   * @default - the dump's database name
   */
  readonly targetDatabase?: string;
  /**
   * Drop the dump's objects in the target first. Without it a target that
   * already holds tables is refused, so a restore never mixes with live data by accident.
   * @default false
   */
  readonly clean?: boolean;
  /**
   * Skip ownership and privileges (restore as the connecting role only).
   * @default false
   */
  readonly noOwner?: boolean;
}

export interface RestoreJobProps extends RestoreJobOptions {
  /** The cluster to restore into (its read-write Service and admin credentials). */
  readonly postgres: IPostgresDatabase;
  /** Where the dump is. */
  readonly storage: BackupStorage;
  /**
   * Image of the restore step.
   * @default 'postgres:15.10'
   */
  readonly postgresImage?: string;
  /**
   * Image of the download step.
   * @default 'amazon/aws-cli:2.22.10'
   */
  readonly awsCliImage?: string;
  /**
   * Resources of each step.
   * @default - 100m/256Mi requests, 500m/512Mi limits
   */
  readonly resources?: ResourceSettings;
  /**
   * Scratch space the dump is downloaded to.
   * @default '10Gi'
   */
  readonly workVolumeSize?: string;
}


/**
 * A Job that restores one dump written by DatabaseBackup: the download step
 * fetches it and checks it against the backup's SHA256SUMS, the restore step
 * runs pg_restore in a single transaction (all or nothing). Synthesize it on
 * demand (see docs/disaster-recovery.md); it runs once.
 */
export class RestoreJob extends Construct {
  /** Name of the Job. */
  public readonly jobName: string;

  constructor(scope: Construct, id: string, props: RestoreJobProps) {
    super(scope, id);
    const name = validateDnsLabel('name', props.name ?? `${props.postgres.name}-restore`, 40);
    const storage = validateStorage('storage', props.storage);
    const key = props.backupKey;
    if (!/^[a-z0-9][a-z0-9/_.-]*\.dump$/i.test(key) || key.includes('..') || !key.includes('/')) {
      throw new PropValidationError('backupKey', key, "the object key of a dump, such as 'database/daily/20260101T020000Z/rauli.dump'");
    }
    validatePrefix('backupKey', key.slice(0, key.lastIndexOf('/') + 1));
    if (props.targetDatabase !== undefined) validatePgIdentifier('targetDatabase', props.targetDatabase);
    const res = checkedResources('resources', props.resources, JOB_STEP_RESOURCES);
    this.jobName = name;

    const runtime = new BackupRuntime(this, 'Runtime', {
      name,
      storage,
      scripts: ['restore-database.sh'],
      runAsUser: DATA_UID,
      workVolumeSize: checkedStorage('workVolumeSize', props.workVolumeSize ?? '10Gi'),
      egressTo: [{ selector: props.postgres.selector, port: props.postgres.port }],
      // Beside the database: the egress rule above selects its pods in the jobs' own namespace.
      namespace: props.postgres.namespace,
    });
    const template = runtime.podTemplate(
      {
        name: 'download',
        image: checkedImage('awsCliImage', props.awsCliImage ?? IMAGES.awsCli),
        args: ['download'],
        env: [...runtime.storageEnv(), { name: 'RESTORE_KEY', value: key }],
        resources: res,
      },
      {
        name: 'restore',
        image: checkedImage('postgresImage', props.postgresImage ?? IMAGES.postgres),
        args: ['restore'],
        env: [
          ...postgresAdminEnv(props.postgres),
          ...props.targetDatabase ? [{ name: 'RESTORE_DATABASE', value: props.targetDatabase }] : [],
          { name: 'RESTORE_CLEAN', value: String(props.clean ?? false) },
          { name: 'RESTORE_NO_OWNER', value: String(props.noOwner ?? false) },
        ],
        resources: res,
      },
    );
    new k8s.KubeJob(this, 'Job', {
      metadata: { namespace: runtime.namespace, name, labels: runtime.labels },
      spec: {
        // pg_restore runs in one transaction: a retry starts from a clean slate.
        backoffLimit: 2,
        // A restore that cannot finish within the RTO needs a human, not more waiting.
        activeDeadlineSeconds: BackupConventions.RTO_HOURS * 3600,
        template,
      },
    });
  }
}
