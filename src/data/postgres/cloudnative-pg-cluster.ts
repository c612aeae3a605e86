import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PostgresClusterOptions } from './postgres-cluster';
import { ConnectionBudget, IPostgresDatabase, SecretKeyRef } from './postgres-database';
import { CloudNativePgOptions, PostgresEngine } from './postgres-engine';
import { BackupConventions, Components, DataConventions, RuntimeDefaults, ServiceConventions } from '../../conventions';
import { parseQuantity, validateDnsLabel, validateDnsSubdomain, validateInteger, PropValidationError } from '../../core/validate';
import { namespacePeer } from '../../network/peers';
import { Resources } from '../../workload/settings';
import { STORAGE_SECRET_KEYS, validateStorage } from '../backup/backup-runtime';
import { BackupStorage } from '../backup/backup-storage';
import {
  checkedImage, checkedResources, checkedServerAccess, checkedStorage, clientIngress, dnsEgress, podLabels, serviceHost, tcpPort,
  validatePgIdentifier,
} from '../internal';

/** API groups of the custom resources. */
const CNPG_API = 'postgresql.cnpg.io/v1';
const BARMAN_API = 'barmancloud.cnpg.io/v1';
const MONITORING_API = 'monitoring.coreos.com/v1';
/** Name of the Barman Cloud plugin as CloudNativePG knows it. */
export const BARMAN_CLOUD_PLUGIN = 'barman-cloud.cloudnative-pg.io';
const CLUSTER_LABEL = 'cnpg.io/cluster';
const POD_ROLE_LABEL = 'cnpg.io/podRole';
const POOLER_LABEL = 'cnpg.io/poolerName';
/** Port of the instance manager's status endpoint, which the operator calls. */
const STATUS_PORT = 8000;

const DEFAULT_RESOURCES: Resources = { cpuRequest: '250m', cpuLimit: '500m', memoryRequest: '512Mi', memoryLimit: '512Mi' };
const POOLER_RESOURCES: Resources = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '64Mi', memoryLimit: '128Mi' };
const SIDECAR_RESOURCES: Resources = { cpuRequest: '50m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '512Mi' };
const DEFAULT_POOLER_IMAGE = 'ghcr.io/cloudnative-pg/pgbouncer:1.24.1';

export interface CloudNativePgClusterProps extends PostgresClusterOptions {
  /**
   * The engine's settings (archive timeout, RPO, operator namespace, image).
   * @default PostgresEngine.cloudNativePg()
   */
  readonly engine?: PostgresEngine;
  /**
   * Name of the Cluster; also the prefix of its Services, Poolers and Secrets.
   * @default 'postgres'
   */
  readonly name?: string;
  /**
   * Namespace of every object, and of the fully qualified host names.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Application database, owned by `owner`.
   * @default 'rauli'
   */
  readonly database?: string;
  /**
   * Role owning the application database; the applications connect as it.
   * @default 'rauli'
   */
  readonly owner?: string;
  /**
   * A `kubernetes.io/basic-auth` Secret (keys `username` = owner, `password`)
   * you create; CloudNativePG uses it for the owner instead of generating one.
   * @default - CloudNativePG generates '<name>-app'
   */
  readonly appSecret?: string;
  /**
   * A `kubernetes.io/basic-auth` Secret for the `postgres` superuser, which the
   * logical backup jobs connect as.
   * @default - CloudNativePG generates '<name>-superuser'
   */
  readonly superuserSecret?: string;
  /**
   * The backup bucket: WAL archiving and base backups through the Barman
   * Cloud plugin (an ObjectStore), a ScheduledBackup at the guide's 02:00 and
   * point-in-time recovery from it.
   * @default - no WAL archiving, no base backups
   */
  readonly backupStorage?: BackupStorage;
  /**
   * Namespace of Prometheus, admitted to the metrics ports.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * Labels of the PodMonitors, so kube-prometheus-stack selects them.
   * @default { release: 'kube-prometheus-stack' }
   */
  readonly monitoringLabels?: { [key: string]: string };
  /**
   * PgBouncer image of the Poolers.
   * @default 'ghcr.io/cloudnative-pg/pgbouncer:1.24.1'
   */
  readonly poolerImage?: string;
}

/** Options of {@link CloudNativePgCluster.restore}. */
export interface PointInTimeRestoreOptions {
  /** RFC 3339 time to recover to, with a zone, e.g. '2026-03-01T09:41:00Z'; not in the future. */
  readonly targetTime: string;
  /**
   * Name of the new Cluster (the old one keeps running until you switch).
   * @default '<name>-restore'
   */
  readonly name?: string;
  /**
   * Clock the target time is checked against (tests pin it).
   * @default - now
   */
  readonly now?: Date;
}

/**
 * PostgreSQL 15 run by CloudNativePG: a `Cluster` (automatic failover, spread
 * over nodes and zones, storage and resources from the preset), read-write and
 * read-only `Pooler`s (PgBouncer, transaction mode) the applications connect
 * through, WAL archiving and base backups through the Barman Cloud plugin
 * (`ObjectStore`, `ScheduledBackup`), PodMonitors and NetworkPolicies.
 */
export class CloudNativePgCluster extends Construct implements IPostgresDatabase {
  public readonly name: string;
  /** Namespace of every object (undefined: the chart's). */
  public readonly namespace?: string;
  public readonly readWriteHost: string;
  public readonly readOnlyHost: string;
  public readonly primaryHost: string;
  public readonly port: number;
  public readonly database: string;
  public readonly selector: { [key: string]: string };
  public readonly adminUser = 'postgres';
  public readonly adminPassword: SecretKeyRef;
  public readonly maxConnections: number;
  public readonly poolSize: number;
  public readonly instances: number;
  /** Secret with the owner's credentials (`username`, `password`; generated ones also `uri`). */
  public readonly appSecretName: string;
  /** The engine settings, defaults filled in. */
  public readonly engineOptions: CloudNativePgOptions;
  /** The connection budget: server pool per PgBouncer, client limit. */
  public readonly budget: ConnectionBudget;
  /** Name of the read-write Pooler (and its Service). */
  public readonly readWritePoolerName: string;
  /** Name of the read-only Pooler, when there are standbys. */
  public readonly readOnlyPoolerName?: string;
  /** Name of the ObjectStore, when `backupStorage` is set. */
  public readonly objectStoreName?: string;
  /** Where the WAL and base backups go, when `backupStorage` is set. */
  public readonly destinationPath?: string;
  /** The `Cluster` object (escape hatch). */
  public readonly apiObject: ApiObject;

  private readonly props: CloudNativePgClusterProps;
  private readonly res: Resources;
  private readonly storageSize: string;
  private readonly owner: string;
  private readonly labels: { [key: string]: string };
  private readonly monitoringNamespace: string;
  private readonly clientComponents: string[];
  private readonly poolerImage: string;
  private readonly poolerInstances: number;
  private readonly backupStorage?: BackupStorage;

  constructor(scope: Construct, id: string, props: CloudNativePgClusterProps = {}) {
    super(scope, id);
    const engine = props.engine ?? PostgresEngine.cloudNativePg();
    if (!engine.isCloudNativePg) throw new PropValidationError('engine', engine.kind, `'${PostgresEngine.CLOUDNATIVE_PG}' (PostgresEngine.cloudNativePg())`);
    this.props = props;
    this.engineOptions = engine.cloudNativePgOptions!;
    this.name = validateDnsLabel('name', props.name ?? 'postgres', 40);
    this.instances = validateInteger('instances', props.instances ?? 2, 1, 10);
    this.storageSize = checkedStorage('storageSize', props.storageSize ?? '20Gi');
    if (props.storageClassName !== undefined) validateDnsSubdomain('storageClassName', props.storageClassName);
    this.res = checkedResources('resources', props.resources, DEFAULT_RESOURCES);
    this.maxConnections = validateInteger('maxConnections', props.maxConnections ?? RuntimeDefaults.DATABASE_MAX_CONNECTIONS, 10, 10000);
    this.poolSize = validateInteger('poolSize', props.poolSize ?? RuntimeDefaults.DATABASE_POOL_SIZE, 1, 1000);
    this.poolerInstances = validateInteger('poolerInstances', props.poolerInstances ?? 2, 1, 10);
    const maxClients = validateInteger('poolerMaxClientConnections', props.poolerMaxClientConnections ?? 2000, 1, 100000);
    this.budget = new ConnectionBudget(this.maxConnections, this.poolSize, this.poolerInstances, maxClients);
    this.database = validatePgIdentifier('database', props.database ?? 'rauli');
    this.owner = validatePgIdentifier('owner', props.owner ?? 'rauli');
    this.poolerImage = checkedImage('poolerImage', props.poolerImage ?? DEFAULT_POOLER_IMAGE);
    this.appSecretName = validateDnsSubdomain('appSecret', props.appSecret ?? `${this.name}-app`);
    const superuserSecret = validateDnsSubdomain('superuserSecret', props.superuserSecret ?? `${this.name}-superuser`);
    this.backupStorage = props.backupStorage ? validateStorage('backupStorage', props.backupStorage) : undefined;
    const { namespace, clientComponents, monitoringNamespace } = checkedServerAccess(this, props);
    this.namespace = namespace;
    this.clientComponents = clientComponents;
    this.monitoringNamespace = monitoringNamespace;

    this.port = DataConventions.POSTGRES_PORT;
    this.adminPassword = { name: superuserSecret, key: 'password' };
    this.selector = { [CLUSTER_LABEL]: this.name, [POD_ROLE_LABEL]: 'instance' };
    this.labels = podLabels(Components.POSTGRES, this.name, 'postgresql');
    this.readWritePoolerName = `${this.name}-pooler-rw`;
    this.readOnlyPoolerName = this.instances > 1 ? `${this.name}-pooler-ro` : undefined;
    // CloudNativePG names the primary's Service '<cluster>-rw' and each Pooler's Service after the Pooler.
    this.primaryHost = serviceHost(this, `${this.name}-rw`, namespace);
    this.readWriteHost = serviceHost(this, this.readWritePoolerName, namespace);
    this.readOnlyHost = serviceHost(this, this.readOnlyPoolerName ?? this.readWritePoolerName, namespace);

    if (this.backupStorage) {
      this.objectStoreName = `${this.name}-backups`;
      this.destinationPath = `s3://${this.backupStorage.bucketName}/${BackupConventions.PREFIXES[1]}`.replace(/\/$/, '');
      this.buildObjectStore(this.backupStorage);
    }
    this.apiObject = this.buildCluster();
    this.buildPooler('rw', this.readWritePoolerName);
    if (this.readOnlyPoolerName) this.buildPooler('ro', this.readOnlyPoolerName);
    if (this.backupStorage) this.buildScheduledBackup();
    this.buildPodMonitors();
    this.buildNetworkPolicies();
  }

  /** The pool size every replica keeps; throws naming `maxReplicas` when one PgBouncer cannot take all their clients. */
  public poolSizeFor(maxReplicas: number): number {
    return this.budget.poolSizeFor(maxReplicas);
  }

  /**
   * A new Cluster bootstrapped from this cluster's object store and replayed
   * to `targetTime` (point-in-time recovery). The old Cluster is untouched:
   * `restoreRunbook` lists the steps to check the new one and switch the
   * applications to it.
   */
  public restore(id: string, options: PointInTimeRestoreOptions): ApiObject {
    if (!this.objectStoreName) throw new PropValidationError('backupStorage', undefined, 'a bucket: point-in-time recovery replays WAL from the object store');
    const target = validateTargetTime('targetTime', options.targetTime, options.now ?? new Date());
    const name = validateDnsLabel('name', options.name ?? `${this.name}-restore`, 40);
    if (name === this.name) throw new PropValidationError('name', name, `a name other than the running cluster's ('${this.name}')`);
    const source = `${this.name}-origin`;
    return new ApiObject(this, id, {
      apiVersion: CNPG_API,
      kind: 'Cluster',
      metadata: { namespace: this.namespace, name, labels: this.labels },
      spec: {
        ...this.clusterSpec(),
        inheritedMetadata: { labels: podLabels(Components.POSTGRES, name, 'postgresql') },
        bootstrap: {
          recovery: {
            source,
            database: this.database,
            owner: this.owner,
            recoveryTarget: { targetTime: target },
          },
        },
        externalClusters: [{
          name: source,
          // serverName: the folder the original cluster archived under, its own name.
          plugin: { name: BARMAN_CLOUD_PLUGIN, parameters: { barmanObjectName: this.objectStoreName, serverName: this.name } },
        }],
        // The restored cluster archives into its own folder, never over the original's WAL.
        plugins: [{ name: BARMAN_CLOUD_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: this.objectStoreName, serverName: name } }],
      },
    });
  }

  /** The steps of a point-in-time recovery, naming this cluster's objects. */
  public restoreRunbook(restoreName = `${this.name}-restore`): string[] {
    return [
      `Pick the target time (UTC) just before the incident; it must lie after the oldest base backup (${BackupConventions.RETENTION_DAYS} days kept).`,
      `Synthesize CloudNativePgCluster.restore(id, { targetTime, name: '${restoreName}' }) and apply it: CloudNativePG restores the newest base backup before the target from ${this.destinationPath ?? 'the object store'} and replays WAL up to it.`,
      `Wait for Cluster ${restoreName} to report "Cluster in healthy state" (kubectl cnpg status ${restoreName}); check row counts and the newest rows against the target time.`,
      `Point the Poolers at it: set spec.cluster.name of ${this.readWritePoolerName}${this.readOnlyPoolerName ? ` and ${this.readOnlyPoolerName}` : ''} to ${restoreName}; the applications keep their hosts.`,
      `Take a base backup of ${restoreName} (kubectl cnpg backup ${restoreName} --method plugin --plugin-name ${BARMAN_CLOUD_PLUGIN}), then delete the old Cluster ${this.name} once it is no longer needed.`,
    ];
  }

  private clusterSpec(): { [key: string]: any } {
    const p = this.props;
    const sharedBuffersMb = Math.max(32, Math.floor(parseQuantity(this.res.memoryLimit) / 4 / 2 ** 20));
    return {
      instances: this.instances,
      imageName: this.engineOptions.imageName,
      // Failover is automatic; updates restart standbys first, then switch over.
      primaryUpdateStrategy: 'unsupervised',
      primaryUpdateMethod: 'switchover',
      enableSuperuserAccess: true,
      superuserSecret: { name: this.adminPassword.name },
      postgresql: {
        parameters: {
          max_connections: String(this.maxConnections),
          shared_buffers: `${sharedBuffersMb}MB`,
          archive_timeout: `${this.engineOptions.archiveTimeoutMinutes}min`,
          superuser_reserved_connections: '3',
        },
      },
      storage: { size: this.storageSize, ...p.storageClassName ? { storageClass: p.storageClassName } : {} },
      resources: plainResources(this.res),
      affinity: { enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname', podAntiAffinityType: 'preferred' },
      topologySpreadConstraints: [{
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { [CLUSTER_LABEL]: this.name, [POD_ROLE_LABEL]: 'instance' } },
      }],
      inheritedMetadata: { labels: this.labels },
    };
  }

  private buildCluster(): ApiObject {
    const archiving = this.objectStoreName
      ? { plugins: [{ name: BARMAN_CLOUD_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: this.objectStoreName } }] }
      : {};
    return new ApiObject(this, 'Cluster', {
      apiVersion: CNPG_API,
      kind: 'Cluster',
      metadata: { namespace: this.namespace, name: this.name, labels: this.labels },
      spec: {
        ...this.clusterSpec(),
        bootstrap: {
          initdb: {
            database: this.database,
            owner: this.owner,
            ...this.props.appSecret ? { secret: { name: this.appSecretName } } : {},
            dataChecksums: true,
          },
        },
        ...archiving,
      },
    });
  }

  private buildPooler(type: 'rw' | 'ro', name: string): void {
    const budget = this.budget;
    new ApiObject(this, `Pooler-${type}`, {
      apiVersion: CNPG_API,
      kind: 'Pooler',
      metadata: { namespace: this.namespace, name, labels: this.labels },
      spec: {
        cluster: { name: this.name },
        instances: this.poolerInstances,
        type,
        pgbouncer: {
          // Transaction mode: a server connection serves many clients between their transactions.
          poolMode: 'transaction',
          parameters: {
            max_client_conn: String(budget.maxClientConnections),
            default_pool_size: String(budget.serverPoolSize),
            max_db_connections: String(budget.serverPoolSize),
            reserve_pool_size: '0',
          },
        },
        template: {
          metadata: { labels: podLabels(Components.POSTGRES, name, 'pgbouncer') },
          spec: {
            containers: [{ name: 'pgbouncer', image: this.poolerImage, resources: plainResources(POOLER_RESOURCES) }],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [{
                  weight: 100,
                  podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { [POOLER_LABEL]: name } } },
                }],
              },
            },
          },
        },
      },
    });
  }

  private buildObjectStore(storage: BackupStorage): void {
    const credentials = storage.credentialsSecret
      ? {
        accessKeyId: { name: storage.credentialsSecret, key: STORAGE_SECRET_KEYS.accessKeyId },
        secretAccessKey: { name: storage.credentialsSecret, key: STORAGE_SECRET_KEYS.secretAccessKey },
      }
      : { inheritFromIAMRole: true };
    new ApiObject(this, 'ObjectStore', {
      apiVersion: BARMAN_API,
      kind: 'ObjectStore',
      metadata: { namespace: this.namespace, name: this.objectStoreName, labels: this.labels },
      spec: {
        // The one retention setting; the bucket's lifecycle rules use the same number.
        retentionPolicy: `${BackupConventions.RETENTION_DAYS}d`,
        configuration: {
          destinationPath: this.destinationPath,
          ...storage.endpoint ? { endpointURL: storage.endpoint } : {},
          s3Credentials: credentials,
          wal: { compression: 'gzip', maxParallel: 2 },
          data: { compression: 'gzip', jobs: 2 },
        },
        // The plugin's sidecar runs in the instance pods: size it explicitly rather than by LimitRange defaults.
        instanceSidecarConfiguration: { resources: plainResources(SIDECAR_RESOURCES) },
      },
    });
  }

  private buildScheduledBackup(): void {
    new ApiObject(this, 'ScheduledBackup', {
      apiVersion: CNPG_API,
      kind: 'ScheduledBackup',
      metadata: { namespace: this.namespace, name: `${this.name}-daily`, labels: this.labels },
      spec: {
        // CloudNativePG's cron has a seconds field: the guide's 02:00 is `0 0 2 * * *`.
        schedule: `0 ${BackupConventions.DATABASE_SCHEDULE}`,
        cluster: { name: this.name },
        method: 'plugin',
        pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
        backupOwnerReference: 'self',
        immediate: true,
      },
    });
  }

  private buildPodMonitors(): void {
    const labels = this.props.monitoringLabels ?? { release: 'kube-prometheus-stack' };
    const podMonitor = (cid: string, name: string, matchLabels: { [k: string]: string }) => new ApiObject(this, cid, {
      apiVersion: MONITORING_API,
      kind: 'PodMonitor',
      metadata: { namespace: this.namespace, name, labels: { ...this.labels, ...labels } },
      spec: {
        selector: { matchLabels },
        podMetricsEndpoints: [{ port: ServiceConventions.METRICS_PORT_NAME, path: ServiceConventions.METRICS_PATH }],
      },
    });
    podMonitor('PodMonitor', this.name, this.selector);
    podMonitor('PoolerPodMonitor', `${this.name}-poolers`, { [CLUSTER_LABEL]: this.name, [POD_ROLE_LABEL]: 'pooler' });
  }

  private buildNetworkPolicies(): void {
    const poolers = { podSelector: { matchLabels: { [CLUSTER_LABEL]: this.name, [POD_ROLE_LABEL]: 'pooler' } } };
    const instances = { podSelector: { matchLabels: this.selector } };
    // The instance manager and PgBouncer's manager watch the Kubernetes API, and the
    // sidecar writes to the object store: both are addressed only by port here.
    const apiAndStorage = { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcpPort(443), tcpPort(6443), ...this.storagePorts()] };
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { namespace: this.namespace, name: this.name },
      spec: {
        podSelector: { matchLabels: this.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          // Applications come through the poolers; only the backup jobs connect directly.
          { from: [poolers, { podSelector: { matchLabels: { [Components.LABEL]: Components.BACKUP } } }, instances], ports: [tcpPort(this.port)] },
          { from: [namespacePeer(this.engineOptions.operatorNamespace!)], ports: [tcpPort(STATUS_PORT)] },
          { from: [namespacePeer(this.monitoringNamespace)], ports: [tcpPort(DataConventions.POSTGRES_EXPORTER_PORT)] },
        ],
        egress: [{ to: [instances], ports: [tcpPort(this.port), tcpPort(STATUS_PORT)] }, apiAndStorage, dnsEgress()],
      },
    });
    new k8s.KubeNetworkPolicy(this, 'PoolerNetworkPolicy', {
      metadata: { namespace: this.namespace, name: `${this.name}-poolers` },
      spec: {
        podSelector: poolers.podSelector,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          ...clientIngress(this.clientComponents, this.port, this.props.clientNamespace, this.namespace),
          { from: [namespacePeer(this.monitoringNamespace)], ports: [tcpPort(DataConventions.PGBOUNCER_EXPORTER_PORT)] },
        ],
        egress: [{ to: [instances], ports: [tcpPort(this.port)] }, { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcpPort(443), tcpPort(6443)] }, dnsEgress()],
      },
    });
  }

  private storagePorts(): k8s.NetworkPolicyPort[] {
    const endpoint = this.backupStorage?.endpoint;
    if (!endpoint) return [];
    const url = new URL(endpoint);
    const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    return port === 443 ? [] : [tcpPort(port)];
  }
}

/** Resources as plain strings: custom resources get no Quantity mapping from cdk8s. */
function plainResources(r: Resources): { [k: string]: { [k: string]: string } } {
  return { requests: { cpu: r.cpuRequest, memory: r.memoryRequest }, limits: { cpu: r.cpuLimit, memory: r.memoryLimit } };
}

/** RFC 3339 with a zone, not in the future; returned as given. */
export function validateTargetTime(prop: string, value: string, now: Date): string {
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  const t = Date.parse(value);
  if (!rfc3339.test(value) || Number.isNaN(t)) {
    throw new PropValidationError(prop, value, "an RFC 3339 time with a zone, e.g. '2026-03-01T09:41:00Z'");
  }
  if (t > now.getTime()) {
    throw new PropValidationError(prop, value, `a time that is not in the future (now: ${now.toISOString()})`);
  }
  const oldest = now.getTime() - BackupConventions.RETENTION_DAYS * 86_400_000;
  if (t < oldest) {
    throw new PropValidationError(prop, value, `a time within the ${BackupConventions.RETENTION_DAYS}-day retention (after ${new Date(oldest).toISOString()})`);
  }
  return value;
}
