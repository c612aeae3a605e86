import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ConnectionBudget } from './postgres-database';
import { Components } from '../../conventions';
import { validateDnsLabel, validateInteger } from '../../core/validate';
import { Resources } from '../../workload/settings';
import {
  checkedImage, clientIngress, containerSecurityContext, dnsEgress, emptyDir, podLabels, podSecurityContext, resources, secretEnv, spreadOverNodes,
  tcpPort, zoneSpread,
} from '../internal';

/** Pinned PgBouncer image of the operator-free engine. */
export const PGBOUNCER_IMAGE = 'edoburu/pgbouncer:v1.24.1-p1';
const RESOURCES: Resources = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '64Mi', memoryLimit: '128Mi' };
const CONFIG_DIR = '/etc/pgbouncer';
const RUN_DIR = '/run/pgbouncer';

export interface PgBouncerProps {
  /** Name of the Deployment, its Service and ConfigMap. */
  readonly name: string;
  /** Service of the PostgreSQL server(s) the pool connects to. */
  readonly serverHost: string;
  /** PostgreSQL port; PgBouncer listens on the same one. */
  readonly port: number;
  /** Server pool and client limit per instance. */
  readonly budget: ConnectionBudget;
  /** Labels of the PostgreSQL pods the pool connects to. */
  readonly serverSelector: { [key: string]: string };
  /** Secret with the application role's `username` and `password`. */
  readonly credentialsSecretName: string;
  /** Components whose pods may connect. */
  readonly clientComponents: string[];
  /**
   * Namespace of the client components' pods.
   * @default - the pooler's own namespace
   */
  readonly clientNamespace?: string;
  /**
   * Namespace of every object: the PostgreSQL server's.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * PgBouncer image.
   * @default PGBOUNCER_IMAGE
   */
  readonly image?: string;
}

/**
 * PgBouncer in transaction mode in front of the operator-free engine's
 * primary or standbys: `budget.poolerInstances` pods, each opening at most
 * `budget.serverPoolSize` server connections however many clients connect.
 * The same settings CloudNativePG's Pooler gets, written as `pgbouncer.ini`.
 */
export class PgBouncer extends Construct {
  /** Name of the Deployment and Service. */
  public readonly name: string;
  /** The synthesized `pgbouncer.ini`. */
  public readonly ini: string;
  /** Labels of the PgBouncer pods. */
  public readonly selector: { [key: string]: string };

  private readonly props: PgBouncerProps;

  constructor(scope: Construct, id: string, props: PgBouncerProps) {
    super(scope, id);
    this.props = props;
    this.name = validateDnsLabel('name', props.name, 50);
    validateInteger('budget.poolerInstances', props.budget.poolerInstances, 1, 10);
    this.selector = podLabels(Components.POSTGRES, this.name, 'pgbouncer');
    this.ini = this.renderIni();
    const config = new k8s.KubeConfigMap(this, 'Config', { metadata: { namespace: this.props.namespace, name: `${this.name}-config` }, data: { 'pgbouncer.ini': this.ini } });
    this.buildDeployment(config.name, checkedImage('image', props.image ?? PGBOUNCER_IMAGE));
    this.buildService();
    this.buildDisruptionBudget();
    this.buildNetworkPolicy();
  }

  private buildDisruptionBudget(): void {
    if (this.props.budget.poolerInstances < 2) return;
    new k8s.KubePodDisruptionBudget(this, 'Pdb', {
      metadata: { namespace: this.props.namespace, name: this.name },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.selector } },
    });
  }

  private renderIni(): string {
    const { budget, serverHost, port } = this.props;
    return [
      '[databases]',
      `* = host=${serverHost} port=${port}`,
      '',
      '[pgbouncer]',
      'listen_addr = 0.0.0.0',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'pool_mode = transaction',
      `max_client_conn = ${budget.maxClientConnections}`,
      `default_pool_size = ${budget.serverPoolSize}`,
      // The cap that makes the budget hold: all users of a database together.
      `max_db_connections = ${budget.serverPoolSize}`,
      'reserve_pool_size = 0',
      'auth_type = scram-sha-256',
      `auth_file = ${RUN_DIR}/userlist.txt`,
      // Drivers send these at startup; transaction pooling cannot keep them per client.
      'ignore_startup_parameters = extra_float_digits,options',
      'server_idle_timeout = 60',
      'query_wait_timeout = 120',
      '',
    ].join('\n');
  }

  private buildDeployment(configMapName: string, image: string): void {
    // The password only ever lives in the pod's memory-backed run directory.
    const start = `printf '"%s" "%s"\\n' "$DB_USER" "$DB_PASSWORD" > ${RUN_DIR}/userlist.txt && exec pgbouncer ${CONFIG_DIR}/pgbouncer.ini`;
    const ready: k8s.Probe = { tcpSocket: { port: k8s.IntOrString.fromNumber(this.props.port) }, periodSeconds: 10 };
    new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { namespace: this.props.namespace, name: this.name, labels: this.selector },
      spec: {
        replicas: this.props.budget.poolerInstances,
        selector: { matchLabels: this.selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(0), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: {
          metadata: { labels: this.selector },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(),
            affinity: spreadOverNodes(this.selector),
            topologySpreadConstraints: zoneSpread(this.selector),
            containers: [{
              name: 'pgbouncer',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', start],
              env: [secretEnv('DB_USER', this.props.credentialsSecretName, 'username'), secretEnv('DB_PASSWORD', this.props.credentialsSecretName, 'password')],
              ports: [{ name: 'postgres', containerPort: this.props.port, protocol: 'TCP' }],
              resources: resources(RESOURCES),
              securityContext: containerSecurityContext(),
              readinessProbe: ready,
              livenessProbe: { ...ready, failureThreshold: 6 },
              volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }, { name: 'run', mountPath: RUN_DIR }],
            }],
            volumes: [{ name: 'config', configMap: { name: configMapName } }, emptyDir('run', '1Mi', 'Memory')],
          },
        },
      },
    });
  }

  private buildService(): void {
    new k8s.KubeService(this, 'Service', {
      metadata: { namespace: this.props.namespace, name: this.name, labels: this.selector },
      spec: {
        type: 'ClusterIP',
        selector: this.selector,
        ports: [{ name: 'postgres', port: this.props.port, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' }],
      },
    });
  }

  private buildNetworkPolicy(): void {
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { namespace: this.props.namespace, name: this.name },
      spec: {
        podSelector: { matchLabels: this.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: clientIngress(this.props.clientComponents, this.props.port, this.props.clientNamespace, this.props.namespace),
        egress: [{ to: [{ podSelector: { matchLabels: this.props.serverSelector } }], ports: [tcpPort(this.props.port)] }, dnsEgress()],
      },
    });
  }
}
