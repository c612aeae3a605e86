import * as crypto from 'crypto';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PgBouncer } from './pgbouncer';
import { ConnectionBudget, IPostgresDatabase, SecretKeyRef } from './postgres-database';
import { PostgresEngine } from './postgres-engine';
import { Components, DataConventions, RuntimeDefaults, ServiceConventions } from '../../conventions';
import { parseQuantity, validateDnsLabel, validateDnsSubdomain, validateInteger, PropValidationError } from '../../core/validate';
import { namespacePeer } from '../../network/peers';
import { ResourceSettings, Resources } from '../../workload/settings';
import {
  checkedImage, checkedResources, checkedServerAccess, checkedStorage, containerSecurityContext, credentialsSecretName, dnsEgress,
  emptyDir, execProbe, IMAGES, instanceSelector, podLabels, podSecurityContext, readScript, resources, ROLE_LABEL, SCRIPTS_DIR, secretEnv,
  serviceHost, spreadOverNodes, tcpPort, validatePgIdentifier, zoneSpread,
} from '../internal';

/** The per-environment knobs of the PostgreSQL cluster; presets supply them and users override them. */
export interface PostgresClusterOptions {
  /**
   * Instances: one primary, the rest streaming read replicas.
   * @default 2 (the guide's production: primary + 1 replica)
   */
  readonly instances?: number;
  /**
   * Size of each instance's data volume.
   * @default '20Gi'
   */
  readonly storageSize?: string;
  /**
   * StorageClass of the data volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Resources of the postgres container; `shared_buffers` is a quarter of the memory limit.
   * @default - 250m/512Mi requests, 500m/512Mi limits
   */
  readonly resources?: ResourceSettings;
  /**
   * `max_connections`: the one setting the applications' pool sizes derive from (see `poolSizeFor`).
   * @default RuntimeDefaults.DATABASE_MAX_CONNECTIONS
   */
  readonly maxConnections?: number;
  /**
   * Pool size each application replica asks for; `poolSizeFor` caps it so all
   * replicas together stay within `maxConnections`.
   * @default RuntimeDefaults.DATABASE_POOL_SIZE
   */
  readonly poolSize?: number;
  /**
   * Components whose pods may connect through the poolers (replaces the default: list the backends too when adding a service).
   * @default [Components.BACKEND_GO, Components.BACKEND_PYTHON]
   */
  readonly clientComponents?: string[];
  /**
   * Namespace of the client components' pods.
   * @default - the cluster's own namespace
   */
  readonly clientNamespace?: string;
  /**
   * PgBouncer instances per pooler; PostgreSQL's `max_connections` minus the
   * reserved connections is shared among them.
   * @default 2
   */
  readonly poolerInstances?: number;
  /**
   * Client connections one PgBouncer instance accepts; one instance must take
   * every replica's pool at the autoscalers' maximum.
   * @default 2000
   */
  readonly poolerMaxClientConnections?: number;
}

/** PostgreSQL settings of an environment: the engine plus the knobs both engines share. */
export interface PostgresOptions extends PostgresClusterOptions {
  /**
   * The engine.
   * @default PostgresEngine.statefulSet()
   */
  readonly engine?: PostgresEngine;
}

export interface PostgresClusterProps extends PostgresClusterOptions {
  /**
   * Base name of every object (StatefulSets, Services, Secret).
   * @default 'postgres'
   */
  readonly name?: string;
  /**
   * Namespace of every object, and of the fully qualified host names.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Application database (the guide: `rauli_production`).
   * @default 'rauli'
   */
  readonly database?: string;
  /**
   * Secret holding the credentials, created outside the manifests (External
   * Secrets, Sealed Secrets, `kubectl create secret`). Keys: see
   * `PostgresCluster.SECRET_KEYS`.
   * @default '<name>-credentials'
   */
  readonly existingSecret?: string;
  /**
   * Emit the Secret with random passwords instead. The passwords are then in
   * the synthesized manifest and change on every synth (the database keeps the
   * first ones): only for throwaway clusters.
   * @default false
   */
  readonly generateCredentials?: boolean;
  /**
   * Role the applications connect as (only used with `generateCredentials`;
   * otherwise the Secret's `username`).
   * @default 'rauli'
   */
  readonly appUser?: string;
  /**
   * Role replicas stream WAL with.
   * @default 'replicator'
   */
  readonly replicationUser?: string;
  /**
   * WAL the primary keeps for replicas that fall behind (`wal_keep_size`). A
   * replica further behind must be re-cloned (delete its volume claim).
   * @default '1GB'
   */
  readonly walKeepSize?: string;
  /**
   * Namespace of Prometheus, admitted to the exporter port.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * PostgreSQL image; the data directory format is tied to its major version.
   * @default 'postgres:15.10'
   */
  readonly image?: string;
  /**
   * postgres_exporter image.
   * @default 'quay.io/prometheuscommunity/postgres-exporter:v0.16.0'
   */
  readonly exporterImage?: string;
}

// Defaults fit the platform namespace's LimitRange (the guide: at most 500m / 512Mi per container).
const DEFAULT_RESOURCES: Resources = { cpuRequest: '250m', cpuLimit: '500m', memoryRequest: '512Mi', memoryLimit: '512Mi' };
const EXPORTER_RESOURCES: Resources = { cpuRequest: '50m', cpuLimit: '100m', memoryRequest: '64Mi', memoryLimit: '128Mi' };
const DATA_DIR = '/var/lib/postgresql/data';
// A subdirectory: the volume's root may hold lost+found, which initdb refuses.
const PGDATA = `${DATA_DIR}/pgdata`;

/** PostgresCluster's props after validation, with the defaults filled in. */
interface ResolvedProps {
  readonly name: string;
  readonly instances: number;
  readonly storageSize: string;
  readonly res: Resources;
  readonly database: string;
  readonly replicationUser: string;
  readonly appUser: string;
  readonly walKeepSize: string;
  readonly clientComponents: string[];
  readonly monitoringNamespace: string;
  readonly image: string;
  readonly exporterImage: string;
  readonly secretName: string;
  readonly namespace?: string;
  readonly headless: string;
  readonly selector: { [key: string]: string };
  readonly maxConnections: number;
  readonly props: PostgresClusterProps;
}

/**
 * The operator-free engine: PostgreSQL 15 with streaming replication, a
 * primary StatefulSet and a read replica StatefulSet (official `postgres`
 * image; replicas clone the primary with pg_basebackup and stream from it),
 * read-write, read-only and headless Services, PgBouncer poolers in front of
 * them (the applications' hosts), a postgres_exporter sidecar on every
 * instance, a PodDisruptionBudget and a NetworkPolicy admitting only the
 * poolers, the backup jobs, the instances themselves (replication) and
 * Prometheus.
 *
 * Failover is manual and documented in docs/disaster-recovery.md: promote a
 * replica (`pg_ctl promote`), point the read-write Service at it. Use
 * `CloudNativePgCluster` where the operator runs.
 */
export class PostgresCluster extends Construct implements IPostgresDatabase {
  /** Keys the credentials Secret holds. */
  public static readonly SECRET_KEYS = ['postgres-password', 'username', 'password', 'replication-password'];

  /** Base name of the objects. */
  public readonly name: string;
  /** Namespace of every object (undefined: the chart's). */
  public readonly namespace?: string;
  /** Host of the read-write pooler, which the applications connect to. */
  public readonly readWriteHost: string;
  /** Host of the read-only pooler (the read-write one when there are no replicas). */
  public readonly readOnlyHost: string;
  /** Host of the primary's Service, without the pooler. */
  public readonly primaryHost: string;
  /** Superuser of the backup and restore jobs. */
  public readonly adminUser = 'postgres';
  /** The superuser's password. */
  public readonly adminPassword: SecretKeyRef;
  /** The connection budget the poolers enforce. */
  public readonly budget: ConnectionBudget;
  /** The read-write pooler. */
  public readonly readWritePooler: PgBouncer;
  /** The read-only pooler, when there are replicas. */
  public readonly readOnlyPooler?: PgBouncer;

  /** The checked props the builder methods read. */
  private readonly cfg: ResolvedProps;
  /** Name of the read-write Service. */
  public readonly readWriteServiceName: string;
  /** Name of the read-only Service. */
  public readonly readOnlyServiceName: string;
  /** PostgreSQL port. */
  public readonly port: number;
  /** Application database. */
  public readonly database: string;
  /** Secret with the credentials (`PostgresCluster.SECRET_KEYS`). */
  public readonly credentialsSecretName: string;
  /** `max_connections` of every instance. */
  public readonly maxConnections: number;
  /** Pool size one application replica asks for. */
  public readonly poolSize: number;
  /** Connections kept out of the applications' share: superusers, exporter, backup and restore jobs. */
  public readonly reservedConnections: number;
  /** Number of instances (primary + replicas). */
  public readonly instances: number;
  /** Labels of every pod of this cluster. */
  public readonly selector: { [key: string]: string };

  constructor(scope: Construct, id: string, props: PostgresClusterProps = {}) {
    super(scope, id);
    const name = validateDnsLabel('name', props.name ?? 'postgres', 40);
    const instances = validateInteger('instances', props.instances ?? 2, 1, 10);
    const storageSize = checkedStorage('storageSize', props.storageSize ?? '20Gi');
    if (props.storageClassName !== undefined) validateDnsSubdomain('storageClassName', props.storageClassName);
    const res = checkedResources('resources', props.resources, DEFAULT_RESOURCES);
    const maxConnections = validateInteger('maxConnections', props.maxConnections ?? RuntimeDefaults.DATABASE_MAX_CONNECTIONS, 10, 10000);
    const poolSize = validateInteger('poolSize', props.poolSize ?? RuntimeDefaults.DATABASE_POOL_SIZE, 1, 1000);
    const database = validatePgIdentifier('database', props.database ?? 'rauli');
    const replicationUser = validatePgIdentifier('replicationUser', props.replicationUser ?? 'replicator');
    const appUser = validatePgIdentifier('appUser', props.appUser ?? 'rauli');
    const walKeepSize = props.walKeepSize ?? '1GB';
    if (!/^[0-9]+(MB|GB|TB)$/.test(walKeepSize)) throw new PropValidationError('walKeepSize', walKeepSize, "a PostgreSQL size such as '512MB' or '1GB'");
    const { namespace, clientComponents, monitoringNamespace } = checkedServerAccess(this, props);
    const image = checkedImage('image', props.image ?? IMAGES.postgres);
    const exporterImage = checkedImage('exporterImage', props.exporterImage ?? IMAGES.postgresExporter);
    const secretName = credentialsSecretName(props, name);
    this.namespace = namespace;

    const reserved = ConnectionBudget.RESERVED;
    this.budget = new ConnectionBudget(maxConnections, poolSize,
      validateInteger('poolerInstances', props.poolerInstances ?? 2, 1, 10),
      validateInteger('poolerMaxClientConnections', props.poolerMaxClientConnections ?? 2000, 1, 100000));

    this.name = name;
    this.instances = instances;
    this.database = database;
    this.maxConnections = maxConnections;
    this.poolSize = poolSize;
    this.reservedConnections = reserved;
    this.port = DataConventions.POSTGRES_PORT;
    this.credentialsSecretName = secretName;
    this.readWriteServiceName = `${name}-rw`;
    this.readOnlyServiceName = `${name}-ro`;
    this.primaryHost = serviceHost(this, this.readWriteServiceName, namespace);
    this.adminPassword = { name: secretName, key: 'postgres-password' };
    const headless = `${name}-headless`;
    const selector = instanceSelector(Components.POSTGRES, name);
    this.selector = selector;

    this.cfg = {
      name,
      instances,
      storageSize,
      res,
      database,
      replicationUser,
      appUser,
      walKeepSize,
      clientComponents,
      monitoringNamespace,
      image,
      exporterImage,
      secretName,
      namespace,
      headless,
      selector,
      maxConnections,
      props,
    };
    if (props.generateCredentials) this.buildCredentials();
    this.buildStatefulSets();
    this.buildServices();
    this.buildDisruptionBudget();
    const poolers = this.buildPoolers();
    this.readWritePooler = poolers.rw;
    this.readOnlyPooler = poolers.ro;
    this.readWriteHost = serviceHost(this, this.readWritePooler.name, namespace);
    this.readOnlyHost = serviceHost(this, (this.readOnlyPooler ?? this.readWritePooler).name, namespace);
    this.buildNetworkPolicy();
  }

  private buildCredentials(): void {
    const { appUser, secretName, props } = this.cfg;
    if (props.generateCredentials) {
      const random = () => crypto.randomBytes(24).toString('base64url');
      new k8s.KubeSecret(this, 'Credentials', {
        metadata: { namespace: this.namespace, name: secretName },
        type: 'Opaque',
        stringData: { 'postgres-password': random(), 'username': appUser, 'password': random(), 'replication-password': random() },
      });
    }

  }

  private buildStatefulSets(): void {
    const {
      name, instances, storageSize, res, database, replicationUser, walKeepSize,
      image, exporterImage, secretName, headless, selector, maxConnections, props,
    } = this.cfg;
    const scripts = new k8s.KubeConfigMap(this, 'Scripts', {
      metadata: { namespace: this.namespace, name: `${name}-scripts` },
      data: { 'init-primary.sh': readScript('postgres', 'init-primary.sh'), 'start-replica.sh': readScript('postgres', 'start-replica.sh') },
    });

    // shared_buffers: a quarter of the memory limit, the usual starting point.
    const sharedBuffersMb = Math.max(32, Math.floor(parseQuantity(res.memoryLimit) / 4 / 2 ** 20));
    const settings: { [key: string]: string } = {
      listen_addresses: '*',
      port: String(this.port),
      max_connections: String(maxConnections),
      superuser_reserved_connections: '3',
      shared_buffers: `${sharedBuffersMb}MB`,
      password_encryption: 'scram-sha-256',
      wal_level: 'replica',
      max_wal_senders: String(instances + 2),
      max_replication_slots: String(instances + 2),
      wal_keep_size: walKeepSize,
      hot_standby: 'on',
      // Replicas tell the primary which rows their queries still need, so
      // long reads on a replica are not cancelled by vacuum on the primary.
      hot_standby_feedback: 'on',
      log_min_duration_statement: '1000',
    };
    const postgresArgs = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);

    const credentialEnv: k8s.EnvVar[] = [
      { name: 'PGDATA', value: PGDATA },
      { name: 'POSTGRES_USER', value: 'postgres' },
      secretEnv('POSTGRES_PASSWORD', secretName, 'postgres-password'),
      { name: 'POSTGRES_DB', value: database },
      secretEnv('APP_USER', secretName, 'username'),
      secretEnv('APP_PASSWORD', secretName, 'password'),
      { name: 'REPLICATION_USER', value: replicationUser },
      secretEnv('REPLICATION_PASSWORD', secretName, 'replication-password'),
    ];
    const isReady = ['pg_isready', '--quiet', '--host=127.0.0.1', `--port=${this.port}`, '--username=postgres'];

    const serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { namespace: this.namespace, name },
      automountServiceAccountToken: false,
    });
    const statefulSet = (role: 'primary' | 'replica', replicas: number) => {
      const labels = { ...podLabels(Components.POSTGRES, name, 'postgresql'), [ROLE_LABEL]: role };
      const primary = role === 'primary';
      new k8s.KubeStatefulSet(this, primary ? 'Primary' : 'Replicas', {
        metadata: { namespace: this.namespace, name: `${name}-${role}`, labels },
        spec: {
          serviceName: headless,
          replicas,
          selector: { matchLabels: { ...selector, [ROLE_LABEL]: role } },
          podManagementPolicy: 'OrderedReady',
          updateStrategy: { type: 'RollingUpdate' },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: serviceAccount.name,
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(),
              // Fast shutdown: PostgreSQL needs a checkpoint before it stops.
              terminationGracePeriodSeconds: 60,
              affinity: spreadOverNodes(selector),
              topologySpreadConstraints: zoneSpread(selector),
              containers: [
                {
                  name: 'postgres',
                  image,
                  imagePullPolicy: 'IfNotPresent',
                  command: primary ? ['docker-entrypoint.sh', 'postgres'] : ['bash', `${SCRIPTS_DIR}/start-replica.sh`],
                  args: postgresArgs,
                  env: primary ? credentialEnv : [
                    { name: 'PGDATA', value: PGDATA },
                    { name: 'PRIMARY_HOST', value: this.readWriteServiceName },
                    { name: 'PRIMARY_PORT', value: String(this.port) },
                    { name: 'REPLICATION_USER', value: replicationUser },
                    secretEnv('REPLICATION_PASSWORD', secretName, 'replication-password'),
                  ],
                  ports: [{ name: 'postgres', containerPort: this.port, protocol: 'TCP' }],
                  resources: resources(res),
                  securityContext: containerSecurityContext(),
                  // initdb or a replica's first clone can take a while.
                  startupProbe: execProbe(isReady, 10, primary ? 60 : 180),
                  readinessProbe: execProbe(isReady, 10, 3),
                  livenessProbe: execProbe(isReady, 10, 6),
                  volumeMounts: [
                    { name: 'data', mountPath: DATA_DIR },
                    { name: 'run', mountPath: '/var/run/postgresql' },
                    { name: 'tmp', mountPath: '/tmp' },
                    { name: 'shm', mountPath: '/dev/shm' },
                    primary
                      ? { name: 'scripts', mountPath: '/docker-entrypoint-initdb.d/init-primary.sh', subPath: 'init-primary.sh', readOnly: true }
                      : { name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true },
                  ],
                },
                {
                  name: 'exporter',
                  image: exporterImage,
                  imagePullPolicy: 'IfNotPresent',
                  env: [
                    { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${this.port}/postgres?sslmode=disable` },
                    { name: 'DATA_SOURCE_USER', value: 'postgres' },
                    secretEnv('DATA_SOURCE_PASS', secretName, 'postgres-password'),
                  ],
                  ports: [{ name: ServiceConventions.METRICS_PORT_NAME, containerPort: DataConventions.POSTGRES_EXPORTER_PORT, protocol: 'TCP' }],
                  resources: resources(EXPORTER_RESOURCES),
                  securityContext: containerSecurityContext(),
                  readinessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromNumber(DataConventions.POSTGRES_EXPORTER_PORT) }, periodSeconds: 10 },
                  livenessProbe: { httpGet: { path: '/', port: k8s.IntOrString.fromNumber(DataConventions.POSTGRES_EXPORTER_PORT) }, periodSeconds: 20, failureThreshold: 3 },
                },
              ],
              volumes: [
                emptyDir('run', '16Mi'),
                emptyDir('tmp', '256Mi'),
                // Parallel queries use POSIX shared memory; the runtime's /dev/shm is 64 MB.
                emptyDir('shm', `${sharedBuffersMb}Mi`, 'Memory'),
                { name: 'scripts', configMap: { name: scripts.name, defaultMode: 0o555 } },
              ],
            },
          },
          volumeClaimTemplates: [{
            metadata: { name: 'data', labels: selector },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: props.storageClassName,
              resources: { requests: { storage: k8s.Quantity.fromString(storageSize) } },
            },
          }],
        },
      });
    };

    statefulSet('primary', 1);
    if (instances > 1) statefulSet('replica', instances - 1);

  }

  private buildServices(): void {
    const { name, instances, headless, selector } = this.cfg;
    const servicePorts: k8s.ServicePort[] = [{ name: 'postgres', port: this.port, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' }];
    const service = (cid: string, serviceName: string, podSelector: { [key: string]: string }, spec: Partial<k8s.ServiceSpec> = {}) =>
      new k8s.KubeService(this, cid, {
        metadata: { namespace: this.namespace, name: serviceName, labels: podLabels(Components.POSTGRES, name, 'postgresql') },
        spec: { type: 'ClusterIP', selector: podSelector, ports: servicePorts, ...spec },
      });
    service('ReadWrite', this.readWriteServiceName, { ...selector, [ROLE_LABEL]: 'primary' });
    service('ReadOnly', this.readOnlyServiceName, instances > 1 ? { ...selector, [ROLE_LABEL]: 'replica' } : { ...selector, [ROLE_LABEL]: 'primary' });
    // Stable per-pod DNS for the StatefulSets, and the exporters' port for ServiceMonitors.
    service('Headless', headless, selector, {
      clusterIp: 'None',
      publishNotReadyAddresses: true,
      ports: [
        ...servicePorts,
        { name: ServiceConventions.METRICS_PORT_NAME, port: DataConventions.POSTGRES_EXPORTER_PORT, targetPort: k8s.IntOrString.fromString(ServiceConventions.METRICS_PORT_NAME), protocol: 'TCP' },
      ],
    });

  }

  private buildDisruptionBudget(): void {
    const { name, instances, selector } = this.cfg;
    if (instances > 1) {
      new k8s.KubePodDisruptionBudget(this, 'Pdb', {
        metadata: { namespace: this.namespace, name },
        spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
      });
    }

  }

  private buildPoolers(): { rw: PgBouncer; ro?: PgBouncer } {
    const { name, instances, clientComponents, secretName, namespace, selector } = this.cfg;
    const pooler = (cid: string, poolerName: string, serverService: string, serverRole: string) => new PgBouncer(this, cid, {
      name: poolerName,
      serverHost: serviceHost(this, serverService, namespace),
      port: this.port,
      budget: this.budget,
      serverSelector: { ...selector, [ROLE_LABEL]: serverRole },
      credentialsSecretName: secretName,
      clientComponents,
      clientNamespace: this.cfg.props.clientNamespace,
      namespace,
    });
    const rw = pooler('PoolerRw', `${name}-pooler-rw`, this.readWriteServiceName, 'primary');
    const ro = instances > 1 ? pooler('PoolerRo', `${name}-pooler-ro`, this.readOnlyServiceName, 'replica') : undefined;
    return { rw, ro };

  }

  private buildNetworkPolicy(): void {
    const { name, monitoringNamespace, selector } = this.cfg;
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { namespace: this.namespace, name },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            // Applications come through the poolers; only the backup jobs connect directly.
            from: [
              ...[this.readWritePooler, this.readOnlyPooler].filter((p): p is PgBouncer => !!p)
                .map(p => ({ podSelector: { matchLabels: p.selector } })),
              { podSelector: { matchLabels: { [Components.LABEL]: Components.BACKUP } } },
            ],
            ports: [tcpPort(this.port)],
          },
          // Replicas stream from the primary.
          { from: [{ podSelector: { matchLabels: selector } }], ports: [tcpPort(this.port)] },
          {
            from: [namespacePeer(monitoringNamespace)],
            ports: [tcpPort(DataConventions.POSTGRES_EXPORTER_PORT)],
          },
        ],
        // Replicas reach the primary by its Service name.
        egress: [{ to: [{ podSelector: { matchLabels: selector } }], ports: [tcpPort(this.port)] }, dnsEgress()],
      },
    });
  }


  /**
   * Pool size per application replica: the configured one, as long as one
   * PgBouncer instance accepts the clients of `maxReplicas` replicas; the
   * poolers keep PostgreSQL within `max_connections` whatever the number.
   */
  public poolSizeFor(maxReplicas: number): number {
    return this.budget.poolSizeFor(maxReplicas);
  }
}

