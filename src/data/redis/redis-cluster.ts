import * as crypto from 'crypto';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RedisServer } from './redis-server';
import { Components, DataConventions, ServiceConventions } from '../../conventions';
import { parseQuantity, validateDnsLabel, validateDnsSubdomain, validateInteger, validateOneOf } from '../../core/validate';
import { namespacePeer } from '../../network/peers';
import { ResourceSettings, Resources } from '../../workload/settings';
import {
  checkedImage, checkedResources, checkedServerAccess, checkedStorage, clientIngress, containerSecurityContext, credentialsSecretName,
  dnsEgress, emptyDir, execProbe, IMAGES, instanceSelector, podLabels, podSecurityContext, readScript, resources, SCRIPTS_DIR, secretEnv,
  spreadOverNodes, tcpPort, zoneSpread,
} from '../internal';

/** The per-environment knobs of the Redis Cluster; presets supply them and users override them. */
export interface RedisClusterOptions {
  /**
   * Masters; Redis Cluster needs at least 3.
   * @default 3 (the guide)
   */
  readonly masters?: number;
  /**
   * Replicas per master; with 0 a lost master makes its slots unavailable until it returns.
   * @default 1
   */
  readonly replicasPerMaster?: number;
  /**
   * Size of each node's data volume (append-only file and cluster state).
   * @default '5Gi'
   */
  readonly storageSize?: string;
  /**
   * StorageClass of the data volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Resources of the redis container; `maxmemory` is 75 % of the memory limit
   * (the rest covers replication buffers and AOF rewrites).
   * @default - 100m/256Mi requests, 500m/512Mi limits
   */
  readonly resources?: ResourceSettings;
  /**
   * Components whose pods may connect (replaces the default: list the backends too when adding a service).
   * @default [Components.BACKEND_GO, Components.BACKEND_PYTHON]
   */
  readonly clientComponents?: string[];
  /**
   * Namespace of the client components' pods.
   * @default - the cluster's own namespace
   */
  readonly clientNamespace?: string;
  /**
   * The server and its image: Valkey 8 (BSD) or Redis 7 (`RedisServer.redis7()`).
   * @default RedisServer.valkey8()
   */
  readonly server?: RedisServer;
}

export interface RedisClusterProps extends RedisClusterOptions {
  /**
   * Base name of every object.
   * @default 'redis'
   */
  readonly name?: string;
  /**
   * Namespace of every object, and of the fully qualified node names.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Secret with the password under the key `password`, created outside the manifests.
   * @default '<name>-credentials'
   */
  readonly existingSecret?: string;
  /**
   * Emit the Secret with a random password instead (in the manifest, new on
   * every synth): only for throwaway clusters.
   * @default false
   */
  readonly generateCredentials?: boolean;
  /**
   * Eviction policy when `maxmemory` is reached.
   * @default 'allkeys-lru' (the data is a cache and rate-limit counters)
   */
  readonly maxmemoryPolicy?: string;
  /**
   * Namespace of Prometheus, admitted to the exporter port.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * redis_exporter image.
   * @default 'oliver006/redis_exporter:v1.66.0'
   */
  readonly exporterImage?: string;
}

const DEFAULT_RESOURCES: Resources = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' };
// Sidecar and Job sizes respect the platform LimitRange's minimum (50m / 64Mi).
const EXPORTER_RESOURCES: Resources = { cpuRequest: '50m', cpuLimit: '100m', memoryRequest: '64Mi', memoryLimit: '64Mi' };
const JOB_RESOURCES: Resources = { cpuRequest: '50m', cpuLimit: '100m', memoryRequest: '64Mi', memoryLimit: '128Mi' };
// A master unreachable this long is failed and its replica elected (issue #16 measured the whole failover: docs/disaster-recovery.md).
const NODE_TIMEOUT_MS = 5000;
const EVICTION_POLICIES = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl'];

/**
 * Valkey 8 (or Redis 7) in cluster mode: one StatefulSet of `masters * (1 + replicasPerMaster)`
 * nodes with persistent volumes and password auth, a bootstrap Job that forms
 * the cluster with the shipped script (idempotent: it creates the cluster only
 * when no node is clustered yet and succeeds when it already is), a
 * redis_exporter sidecar, a PodDisruptionBudget and a NetworkPolicy. The
 * applications get `REDIS_CLUSTER_NODES` from `clusterNodes`.
 */
export class RedisCluster extends Construct {
  /** Key of the password in the credentials Secret. */
  public static readonly PASSWORD_KEY = 'password';

  /** Base name of the objects. */
  public readonly name: string;
  /** `host:port` of every node, comma-separated: the applications' `REDIS_CLUSTER_NODES`. */
  public readonly clusterNodes: string;
  /** Secret with the password under `RedisCluster.PASSWORD_KEY`. */
  public readonly credentialsSecretName: string;
  /** Client port. */
  public readonly port: number;
  /** Number of nodes. */
  public readonly nodes: number;
  /** Name of the bootstrap Job. */
  public readonly bootstrapJobName: string;
  /** Labels of every pod of this cluster (nodes and bootstrap Job). */
  public readonly selector: { [key: string]: string };
  /** The server (Valkey or Redis) and its image. */
  public readonly server: RedisServer;
  /** Namespace of every object (undefined: the chart's). */
  public readonly namespace?: string;
  /** Replicas per master: with none, a lost master's slots are down until it returns. */
  public readonly replicasPerMaster: number;
  /** `cluster-node-timeout`: how long a master may be unreachable before its replica takes over. */
  public readonly nodeTimeoutMs: number = NODE_TIMEOUT_MS;

  private readonly props: RedisClusterProps;
  private readonly res: Resources;
  private readonly headless: string;
  private readonly domain: string;
  private readonly serverLabels: { [key: string]: string };
  private readonly monitoringNamespace: string;
  private readonly clientComponents: string[];
  private readonly exporterImage: string;
  private readonly storageSize: string;
  private readonly policy: string;

  constructor(scope: Construct, id: string, props: RedisClusterProps = {}) {
    super(scope, id);
    const name = validateDnsLabel('name', props.name ?? 'redis', 40);
    const masters = validateInteger('masters', props.masters ?? 3, 3, 100);
    const replicasPerMaster = validateInteger('replicasPerMaster', props.replicasPerMaster ?? 1, 0, 5);
    const storageSize = checkedStorage('storageSize', props.storageSize ?? '5Gi');
    if (props.storageClassName !== undefined) validateDnsSubdomain('storageClassName', props.storageClassName);
    const res = checkedResources('resources', props.resources, DEFAULT_RESOURCES);
    const policy = validateOneOf('maxmemoryPolicy', props.maxmemoryPolicy ?? 'allkeys-lru', EVICTION_POLICIES);
    const { namespace, clientComponents, monitoringNamespace } = checkedServerAccess(this, props);
    const server = props.server ?? RedisServer.valkey8();
    const exporterImage = checkedImage('exporterImage', props.exporterImage ?? IMAGES.redisExporter);
    const secretName = credentialsSecretName(props, name);
    this.namespace = namespace;

    const nodes = masters * (1 + replicasPerMaster);
    const headless = `${name}-headless`;
    const domain = namespace ? `${headless}.${namespace}.svc.cluster.local` : headless;
    const port = DataConventions.REDIS_PORT;
    const selector = instanceSelector(Components.REDIS, name);
    const serverLabels = podLabels(Components.REDIS, name, 'redis');
    this.name = name;
    this.nodes = nodes;
    this.port = port;
    this.credentialsSecretName = secretName;
    this.selector = selector;
    this.clusterNodes = Array.from({ length: nodes }, (_, i) => `${name}-${i}.${domain}:${port}`).join(',');
    this.bootstrapJobName = `${name}-bootstrap`;

    this.props = props;
    this.res = res;
    this.server = server;
    this.replicasPerMaster = replicasPerMaster;
    this.headless = headless;
    this.domain = domain;
    this.serverLabels = serverLabels;
    this.monitoringNamespace = monitoringNamespace;
    this.clientComponents = clientComponents;
    this.exporterImage = exporterImage;
    this.storageSize = storageSize;
    this.policy = policy;

    if (props.generateCredentials) this.buildCredentials();
    const config = this.buildConfig();
    const serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { namespace: this.namespace, name }, automountServiceAccountToken: false });
    this.buildStatefulSet(config.name, serviceAccount.name);
    this.buildHeadlessService();
    this.buildBootstrapJob(config.name, serviceAccount.name);
    this.buildDisruptionBudget();
    this.buildNetworkPolicy();
  }

  private buildCredentials(): void {
    new k8s.KubeSecret(this, 'Credentials', {
      metadata: { namespace: this.namespace, name: this.credentialsSecretName },
      type: 'Opaque',
      stringData: { [RedisCluster.PASSWORD_KEY]: crypto.randomBytes(24).toString('base64url') },
    });
  }

  private buildConfig(): k8s.KubeConfigMap {
    const maxmemory = Math.floor(parseQuantity(this.res.memoryLimit) * 0.75 / 2 ** 20);
    return new k8s.KubeConfigMap(this, 'Config', {
      metadata: { namespace: this.namespace, name: `${this.name}-config` },
      data: {
        'redis.conf': [
          `port ${this.port}`,
          'cluster-enabled yes',
          'cluster-config-file /data/nodes.conf',
          `cluster-node-timeout ${this.nodeTimeoutMs}`,
          // Clients are redirected to stable pod DNS names, not pod IPs that change on restart.
          'cluster-preferred-endpoint-type hostname',
          // A cache: keep serving the slots that are up when a master and its replicas are down.
          'cluster-require-full-coverage no',
          'cluster-allow-reads-when-down no',
          'appendonly yes',
          'appendfsync everysec',
          'dir /data',
          'protected-mode no',
          `maxmemory ${maxmemory}mb`,
          `maxmemory-policy ${this.policy}`,
          '',
        ].join('\n'),
        'redis-cluster-bootstrap.sh': readScript('redis', 'redis-cluster-bootstrap.sh'),
      },
    });
  }

  private buildStatefulSet(configMapName: string, serviceAccountName: string): void {
    const ping = ['sh', '-c', `${this.server.cliBinary} -h 127.0.0.1 -p ${this.port} ping | grep -q PONG`];
    new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { namespace: this.namespace, name: this.name, labels: this.serverLabels },
      spec: {
        serviceName: this.headless,
        replicas: this.nodes,
        selector: { matchLabels: this.serverLabels },
        // Every node must be up before the bootstrap Job can form the cluster.
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels: this.serverLabels },
          spec: {
            serviceAccountName: serviceAccountName,
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(),
            terminationGracePeriodSeconds: 30,
            affinity: spreadOverNodes(this.selector),
            topologySpreadConstraints: zoneSpread(this.selector),
            containers: [
              {
                name: 'redis',
                image: this.server.image,
                imagePullPolicy: 'IfNotPresent',
                command: [this.server.serverBinary],
                // $(VAR) is expanded by the kubelet from the env below.
                args: [
                  '/etc/redis/redis.conf',
                  '--requirepass', '$(REDIS_PASSWORD)',
                  '--masterauth', '$(REDIS_PASSWORD)',
                  '--cluster-announce-hostname', `$(POD_NAME).${this.domain}`,
                ],
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  secretEnv('REDIS_PASSWORD', this.credentialsSecretName, RedisCluster.PASSWORD_KEY),
                  secretEnv('REDISCLI_AUTH', this.credentialsSecretName, RedisCluster.PASSWORD_KEY),
                ],
                ports: [
                  { name: 'redis', containerPort: this.port, protocol: 'TCP' },
                  { name: 'cluster-bus', containerPort: DataConventions.REDIS_BUS_PORT, protocol: 'TCP' },
                ],
                resources: resources(this.res),
                securityContext: containerSecurityContext(),
                // Loading a large append-only file answers LOADING for a while.
                startupProbe: execProbe(ping, 5, 60),
                readinessProbe: execProbe(ping, 10, 3),
                livenessProbe: execProbe(ping, 10, 6),
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'config', mountPath: '/etc/redis/redis.conf', subPath: 'redis.conf', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
              {
                name: 'exporter',
                image: this.exporterImage,
                imagePullPolicy: 'IfNotPresent',
                env: [
                  { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${this.port}` },
                  secretEnv('REDIS_PASSWORD', this.credentialsSecretName, RedisCluster.PASSWORD_KEY),
                ],
                ports: [{ name: ServiceConventions.METRICS_PORT_NAME, containerPort: DataConventions.REDIS_EXPORTER_PORT, protocol: 'TCP' }],
                resources: resources(EXPORTER_RESOURCES),
                securityContext: containerSecurityContext(),
                readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(DataConventions.REDIS_EXPORTER_PORT) }, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(DataConventions.REDIS_EXPORTER_PORT) }, periodSeconds: 20 },
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: configMapName } },
              emptyDir('tmp', '64Mi'),
            ],
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data', labels: this.selector },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: this.props.storageClassName,
            resources: { requests: { storage: k8s.Quantity.fromString(this.storageSize) } },
          },
        }],
      },
    });
  }

  private buildHeadlessService(): void {
    new k8s.KubeService(this, 'Headless', {
      metadata: { namespace: this.namespace, name: this.headless, labels: this.serverLabels },
      spec: {
        clusterIp: 'None',
        // Nodes must resolve each other (and the bootstrap Job them) before they are ready.
        publishNotReadyAddresses: true,
        selector: this.serverLabels,
        ports: [
          { name: 'redis', port: this.port, targetPort: k8s.IntOrString.fromString('redis'), protocol: 'TCP' },
          { name: 'cluster-bus', port: DataConventions.REDIS_BUS_PORT, targetPort: k8s.IntOrString.fromString('cluster-bus'), protocol: 'TCP' },
          { name: ServiceConventions.METRICS_PORT_NAME, port: DataConventions.REDIS_EXPORTER_PORT, targetPort: k8s.IntOrString.fromString(ServiceConventions.METRICS_PORT_NAME), protocol: 'TCP' },
        ],
      },
    });
  }

  private buildBootstrapJob(configMapName: string, serviceAccountName: string): void {
    const jobLabels = podLabels(Components.REDIS, this.name, 'redis-cluster-bootstrap');
    new k8s.KubeJob(this, 'Bootstrap', {
      metadata: { namespace: this.namespace, name: this.bootstrapJobName, labels: jobLabels },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 900,
        // Deleted an hour after it finishes, so the next apply runs it again:
        // a no-op on a formed cluster, a repair after a node lost its volume.
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels: jobLabels },
          spec: {
            restartPolicy: 'OnFailure',
            serviceAccountName: serviceAccountName,
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(),
            containers: [{
              name: 'bootstrap',
              image: this.server.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['bash', `${SCRIPTS_DIR}/redis-cluster-bootstrap.sh`],
              env: [
                { name: 'REDIS_NODES', value: this.clusterNodes },
                { name: 'REDIS_CLI', value: this.server.cliBinary },
                { name: 'REDIS_REPLICAS_PER_MASTER', value: String(this.replicasPerMaster) },
                { name: 'BOOTSTRAP_TIMEOUT_SECONDS', value: '600' },
                secretEnv('REDISCLI_AUTH', this.credentialsSecretName, RedisCluster.PASSWORD_KEY),
              ],
              resources: resources(JOB_RESOURCES),
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: 'config', mountPath: `${SCRIPTS_DIR}/redis-cluster-bootstrap.sh`, subPath: 'redis-cluster-bootstrap.sh', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: configMapName, defaultMode: 0o555 } },
              emptyDir('tmp', '16Mi'),
            ],
          },
        },
      },
    });
  }

  private buildDisruptionBudget(): void {
    new k8s.KubePodDisruptionBudget(this, 'Pdb', {
      metadata: { namespace: this.namespace, name: this.name },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.serverLabels } },
    });
  }

  private buildNetworkPolicy(): void {
    const peers = { podSelector: { matchLabels: this.selector } };
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { namespace: this.namespace, name: this.name },
      spec: {
        podSelector: { matchLabels: this.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          ...clientIngress(this.clientComponents, this.port, this.props.clientNamespace, this.namespace),
          // Other nodes (replication, gossip on the cluster bus) and the bootstrap Job.
          { from: [peers], ports: [tcpPort(this.port), tcpPort(DataConventions.REDIS_BUS_PORT)] },
          {
            from: [namespacePeer(this.monitoringNamespace)],
            ports: [tcpPort(DataConventions.REDIS_EXPORTER_PORT)],
          },
        ],
        // The bootstrap Job resolves the nodes' DNS names.
        egress: [{ to: [peers], ports: [tcpPort(this.port), tcpPort(DataConventions.REDIS_BUS_PORT)] }, dnsEgress()],
      },
    });
  }
}
