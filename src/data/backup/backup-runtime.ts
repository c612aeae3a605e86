import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BackupStorage } from './backup-storage';
import { BackupConventions, Components } from '../../conventions';
import { validateDnsSubdomain, PropValidationError } from '../../core/validate';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../../workload/security';
import { Resources } from '../../workload/settings';
import { dnsEgress, emptyDir, podLabels, readScript, resources, SCRIPTS_DIR, secretEnv, tcpPort } from '../internal';
import { IPostgresDatabase } from '../postgres/postgres-database';

/** Keys of `BackupStorage.credentialsSecret`. */
export const STORAGE_SECRET_KEYS = { accessKeyId: 'access-key-id', secretAccessKey: 'secret-access-key' };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@\/-]+$/;

export function validateStorage(prop: string, s: BackupStorage): BackupStorage {
  if (!BUCKET.test(s.bucketName)) throw new PropValidationError(`${prop}.bucketName`, s.bucketName, 'an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens');
  if (s.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-[0-9]$/.test(s.region)) throw new PropValidationError(`${prop}.region`, s.region, "a region such as 'eu-west-1'");
  if (s.endpoint !== undefined) {
    let url: URL | undefined;
    try { url = new URL(s.endpoint); } catch { url = undefined; }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/') {
      throw new PropValidationError(`${prop}.endpoint`, s.endpoint, "an http(s) URL without a path, such as 'https://minio.storage.svc:9000'");
    }
  }
  if (s.credentialsSecret !== undefined) validateDnsSubdomain(`${prop}.credentialsSecret`, s.credentialsSecret);
  if (s.roleArn !== undefined && !ROLE_ARN.test(s.roleArn)) throw new PropValidationError(`${prop}.roleArn`, s.roleArn, 'an IAM role ARN such as arn:aws:iam::123456789012:role/rauli-vision-backup');
  if (s.roleArn !== undefined && s.credentialsSecret !== undefined) {
    throw new PropValidationError(`${prop}.roleArn`, s.roleArn, 'unset when credentialsSecret is set: the jobs use one source of credentials');
  }
  return s;
}

/** A key prefix from BackupConventions.PREFIXES, optionally with a sub-folder. */
export function validatePrefix(prop: string, prefix: string): string {
  if (!/^([A-Za-z0-9][A-Za-z0-9._-]*\/)+$/.test(prefix) || !BackupConventions.PREFIXES.some(p => prefix.startsWith(p))) {
    throw new PropValidationError(prop, prefix, `a key prefix ending in '/' under one of ${BackupConventions.PREFIXES.map(p => `'${p}'`).join(', ')} (the bucket's lifecycle rules cover those)`);
  }
  return prefix;
}

/** libpq settings of the cluster's superuser on the read-write Service. */
export function postgresAdminEnv(postgres: IPostgresDatabase): k8s.EnvVar[] {
  return [
    // The primary itself: pg_dump and pg_restore hold session state a transaction-mode pooler would break.
    { name: 'PGHOST', value: postgres.primaryHost },
    { name: 'PGPORT', value: String(postgres.port) },
    { name: 'PGUSER', value: postgres.adminUser },
    secretEnv('PGPASSWORD', postgres.adminPassword.name, postgres.adminPassword.key),
  ];
}

/** The S3 port the jobs need to reach. */
function storagePort(storage: BackupStorage): number {
  if (!storage.endpoint) return 443;
  const url = new URL(storage.endpoint);
  return url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
}

/** One step of a backup or restore pod. */
export interface JobStep {
  readonly name: string;
  readonly image: string;
  readonly args: string[];
  readonly env: k8s.EnvVar[];
  readonly resources: Resources;
  readonly volumeMounts?: k8s.VolumeMount[];
}

export interface BackupRuntimeProps {
  readonly name: string;
  readonly storage: BackupStorage;
  /** Script files (from src/data/backup/scripts) the pods run. */
  readonly scripts: string[];
  /** UID the pods run as. */
  readonly runAsUser: number;
  /** Size of the scratch volume the steps share. */
  readonly workVolumeSize: string;
  /** Pods the jobs connect to besides the storage (e.g. PostgreSQL), in the jobs' namespace. */
  readonly egressTo?: { selector: { [key: string]: string }; port: number }[];
  /**
   * Namespace of the jobs and their objects: the database's, for database backups.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/**
 * What backup and restore jobs share: the ServiceAccount (annotated for IRSA),
 * the scripts ConfigMap, the egress NetworkPolicy (storage, database) and the
 * two-step pod: a first step in one image writes to a shared scratch volume,
 * the second runs in another image only when the first exited 0.
 */
export class BackupRuntime extends Construct {
  public readonly labels: { [key: string]: string };
  /** Namespace of the jobs (undefined: the chart's). */
  public readonly namespace?: string;
  private readonly props: BackupRuntimeProps;
  private readonly serviceAccountName: string;
  private readonly scriptsConfigMap: string;

  constructor(scope: Construct, id: string, props: BackupRuntimeProps) {
    super(scope, id);
    this.props = props;
    this.namespace = props.namespace;
    this.labels = podLabels(Components.BACKUP, props.name, 'backup');
    this.serviceAccountName = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        namespace: props.namespace,
        name: props.name,
        annotations: props.storage.roleArn ? { 'eks.amazonaws.com/role-arn': props.storage.roleArn } : undefined,
      },
      // IRSA mounts its own web-identity token; the jobs never call the Kubernetes API.
      automountServiceAccountToken: false,
    }).name;
    const data: { [file: string]: string } = { 'backup-lib.sh': readScript('backup', 'backup-lib.sh') };
    for (const file of props.scripts) data[file] = readScript('backup', file);
    this.scriptsConfigMap = new k8s.KubeConfigMap(this, 'Scripts', { metadata: { namespace: props.namespace, name: `${props.name}-scripts` }, data }).name;

    const anywhere = { ipBlock: { cidr: '0.0.0.0/0' } };
    new k8s.KubeNetworkPolicy(this, 'Egress', {
      metadata: { namespace: props.namespace, name: `${props.name}-egress` },
      spec: {
        podSelector: { matchLabels: { [Components.LABEL]: Components.BACKUP, 'app.kubernetes.io/instance': props.name } },
        policyTypes: ['Egress'],
        egress: [
          ...(props.egressTo ?? []).map(t => ({ to: [{ podSelector: { matchLabels: t.selector } }], ports: [tcpPort(t.port)] })),
          // The object store (and STS for IRSA) is outside the cluster or behind an endpoint we only know by port.
          { to: [anywhere], ports: [tcpPort(storagePort(props.storage))] },
          dnsEgress(),
        ],
      },
    });
  }

  /** Environment the storage steps need. */
  public storageEnv(): k8s.EnvVar[] {
    const s = this.props.storage;
    return [
      { name: 'BACKUP_DESTINATION', value: `s3://${s.bucketName}` },
      ...s.endpoint ? [{ name: 'S3_ENDPOINT', value: s.endpoint }] : [],
      ...s.region ? [{ name: 'AWS_REGION', value: s.region }] : [],
      ...s.credentialsSecret ? [
        secretEnv('AWS_ACCESS_KEY_ID', s.credentialsSecret, STORAGE_SECRET_KEYS.accessKeyId),
        secretEnv('AWS_SECRET_ACCESS_KEY', s.credentialsSecret, STORAGE_SECRET_KEYS.secretAccessKey),
      ] : [],
    ];
  }

  /**
   * A CronJob of this runtime's pods: never two runs at once, a missed start
   * skipped rather than piled up, failures kept for inspection.
   */
  public cronJob(id: string, name: string, schedule: string, deadlineSeconds: number, template: k8s.PodTemplateSpec): k8s.KubeCronJob {
    return new k8s.KubeCronJob(this, id, {
      metadata: { namespace: this.props.namespace, name, labels: this.labels },
      spec: {
        schedule,
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 300,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 5,
        jobTemplate: {
          metadata: { labels: this.labels },
          spec: { backoffLimit: 1, activeDeadlineSeconds: deadlineSeconds, ttlSecondsAfterFinished: 7 * 24 * 3600, template },
        },
      },
    });
  }

  /** Pod template running `first` then `second`, both on the shared /work volume. */
  public podTemplate(first: JobStep, second: JobStep, volumes: k8s.Volume[] = []): k8s.PodTemplateSpec {
    const uid = this.props.runAsUser;
    const container = (step: JobStep, script: string): k8s.Container => ({
      name: step.name,
      image: step.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['bash', `${SCRIPTS_DIR}/${script}`],
      args: [...step.args, '/work'],
      // HOME: the AWS CLI and libpq look for their files there; the root filesystem is read-only.
      env: [{ name: 'HOME', value: '/tmp' }, ...step.env],
      resources: resources(step.resources),
      securityContext: restrictedContainerSecurityContext(uid),
      volumeMounts: [
        { name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true },
        { name: 'work', mountPath: '/work' },
        { name: 'tmp', mountPath: '/tmp' },
        ...step.volumeMounts ?? [],
      ],
    });
    const script = this.props.scripts[0];
    return {
      metadata: { labels: this.labels },
      spec: {
        // Never: a failed step leaves its pod (and logs) behind, and a retry starts from an empty /work.
        restartPolicy: 'Never',
        serviceAccountName: this.serviceAccountName,
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurityContext(uid),
        initContainers: [container(first, script)],
        containers: [container(second, script)],
        volumes: [
          { name: 'scripts', configMap: { name: this.scriptsConfigMap, defaultMode: 0o555 } },
          emptyDir('work', this.props.workVolumeSize),
          emptyDir('tmp', '256Mi'),
          ...volumes,
        ],
      },
    };
  }
}
