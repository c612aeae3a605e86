import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BackupRuntime, validatePrefix, validateStorage } from './backup-runtime';
import { BackupStorage } from './backup-storage';
import { BackupConventions } from '../../conventions';
import { validateCron, validateDnsLabel, validateDnsSubdomain, validateInteger, PropValidationError } from '../../core/validate';
import { NON_ROOT_ID } from '../../workload/security';
import { ResourceSettings, Resources } from '../../workload/settings';
import { checkedImage, checkedResources, checkedStorage, IMAGES } from '../internal';

/** One volume to archive. Exactly one of `claimName` and `configMapName`. */
export interface ApplicationBackupSource {
  /**
   * Name of the archive and its key prefix in the bucket: one of
   * BackupConventions.PREFIXES without the slash, e.g. 'config' or 'user-data'.
   */
  readonly name: string;
  /**
   * PersistentVolumeClaim to archive (mounted read-only). A ReadWriteOnce
   * claim is only mountable on the node that already uses it: prefer
   * ReadWriteMany or ReadOnlyMany claims for data that must be backed up live.
   * @default - none
   */
  readonly claimName?: string;
  /**
   * ConfigMap to archive.
   * @default - none
   */
  readonly configMapName?: string;
}

export interface ApplicationBackupProps {
  /** Volumes to archive. */
  readonly sources: ApplicationBackupSource[];
  /** Where the archives go. */
  readonly storage: BackupStorage;
  /**
   * Base name of the objects.
   * @default 'application-backup'
   */
  readonly name?: string;
  /**
   * Schedule.
   * @default BackupConventions.DATABASE_SCHEDULE (nightly, with the database)
   */
  readonly schedule?: string;
  /**
   * UID the archive step runs as: the applications' UID, so it can read their files.
   * @default 10001 (the platform's services)
   */
  readonly runAsUser?: number;
  /**
   * Image of the archive step (bash, tar, gzip, coreutils).
   * @default 'debian:12.8-slim'
   */
  readonly archiveImage?: string;
  /**
   * Image of the upload step.
   * @default 'amazon/aws-cli:2.22.10'
   */
  readonly awsCliImage?: string;
  /**
   * Scratch space the archives are written to before upload.
   * @default '5Gi'
   */
  readonly workVolumeSize?: string;
  /**
   * Resources of each step.
   * @default - 50m/128Mi requests, 500m/512Mi limits
   */
  readonly resources?: ResourceSettings;
}

const DEFAULT_RESOURCES: Resources = { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '512Mi' };

/**
 * Nightly backup of configuration and user-data volumes: `backup-application.sh`
 * archives each source (tar + gzip, read back before it counts), checksums
 * them, and uploads each under its own prefix (`config/`, `user-data/`).
 */
export class ApplicationBackup extends Construct {
  /** Name of the CronJob. */
  public readonly cronJobName: string;
  /** Cron schedule. */
  public readonly schedule: string;
  /** Key prefixes written, one per source. */
  public readonly prefixes: string[];

  constructor(scope: Construct, id: string, props: ApplicationBackupProps) {
    super(scope, id);
    const name = validateDnsLabel('name', props.name ?? 'application-backup', 40);
    const storage = validateStorage('storage', props.storage);
    this.schedule = validateCron('schedule', props.schedule ?? BackupConventions.DATABASE_SCHEDULE);
    const uid = validateInteger('runAsUser', props.runAsUser ?? NON_ROOT_ID, 1, 2 ** 31 - 1);
    if (props.sources.length === 0) throw new PropValidationError('sources', props.sources, 'at least one volume to back up');
    const seen = new Set<string>();
    const volumes: k8s.Volume[] = [];
    const mounts: k8s.VolumeMount[] = [];
    const pairs: string[] = [];
    props.sources.forEach((source, i) => {
      const prop = `sources[${i}]`;
      validatePrefix(`${prop}.name`, `${validateDnsLabel(`${prop}.name`, source.name)}/`);
      if (seen.has(source.name)) throw new PropValidationError(`${prop}.name`, source.name, 'a name not used by another source');
      seen.add(source.name);
      if ((source.claimName === undefined) === (source.configMapName === undefined)) {
        throw new PropValidationError(prop, source, 'exactly one of claimName and configMapName');
      }
      const volume = `src-${source.name}`;
      if (source.claimName !== undefined) {
        volumes.push({ name: volume, persistentVolumeClaim: { claimName: validateDnsSubdomain(`${prop}.claimName`, source.claimName), readOnly: true } });
      } else {
        volumes.push({ name: volume, configMap: { name: validateDnsSubdomain(`${prop}.configMapName`, source.configMapName!) } });
      }
      mounts.push({ name: volume, mountPath: `/backup/${source.name}`, readOnly: true });
      pairs.push(`${source.name}=/backup/${source.name}`);
    });
    this.prefixes = props.sources.map(s => `${s.name}/`);
    this.cronJobName = name;
    const res = checkedResources('resources', props.resources, DEFAULT_RESOURCES);

    const runtime = new BackupRuntime(this, 'Runtime', {
      name,
      storage,
      scripts: ['backup-application.sh'],
      runAsUser: uid,
      workVolumeSize: checkedStorage('workVolumeSize', props.workVolumeSize ?? '5Gi'),
    });
    const template = runtime.podTemplate(
      {
        name: 'archive',
        image: checkedImage('archiveImage', props.archiveImage ?? IMAGES.archive),
        args: ['archive'],
        env: [{ name: 'BACKUP_SOURCES', value: pairs.join(' ') }],
        resources: res,
        volumeMounts: mounts,
      },
      { name: 'upload', image: checkedImage('awsCliImage', props.awsCliImage ?? IMAGES.awsCli), args: ['upload'], env: runtime.storageEnv(), resources: res },
      volumes,
    );
    runtime.cronJob('CronJob', name, this.schedule, 2 * 3600, template);
  }
}
