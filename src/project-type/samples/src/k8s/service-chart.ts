import {
  AppConfig, ClientTrust, Components, DataConventions, HttpService, HttpServiceSettings, Monitoring, RauliVisionChart,
  ServiceConventions, ServiceMonitor,
} from '@rauli-vision/platform';
import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, SERVICE } from './settings.generated';

/** Namespace of the ingress controller that routes to this service. */
const INGRESS_NAMESPACE = 'ingress-nginx';
/** Namespace of Prometheus, which scrapes the metrics port. */
const MONITORING_NAMESPACE = 'monitoring';

export interface ServiceChartProps extends ChartProps {
  readonly environment: Environment;
  /** Image tag to deploy; the pipeline passes the commit's tag. */
  readonly imageTag: string;
}

/** Per-environment sizing: edit freely. Production follows the guide (HPA 3..50, 250m/256Mi requests). */
const SIZING: Record<Environment, HttpServiceSettings> = {
  dev: { replicas: 1 },
  staging: { replicas: 2 },
  production: {
    autoscaling: { minReplicas: 3, maxReplicas: 50 },
    resources: { cpuRequest: '250m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' },
  },
};

/** Secret holding this service's credentials; created out of band (never in git or in a manifest). */
const SECRET = `${SERVICE.name}-secrets`;

/** Everything one environment of the service needs, validated by test/k8s.test.ts. */
export class ServiceChart extends Chart {
  constructor(scope: Construct, id: string, props: ServiceChartProps) {
    const namespace = SERVICE.namespaces[props.environment];
    super(scope, id, { namespace, ...props });

    const service = new HttpService(this, 'Service', {
      name: SERVICE.name,
      component: SERVICE.name,
      image: `${SERVICE.image}:${props.imageTag}`,
      port: SERVICE.port,
      strictImages: props.environment !== 'dev',
      // The platform's settings (rate limit, timeouts, log format) and its Redis
      // Cluster's REDIS_CLUSTER_NODES: one source for every service of the namespace.
      configMapName: RauliVisionChart.CONFIG_MAP_NAME,
      env: {
        NODE_ENV: 'production',
        SERVICE_NAME: SERVICE.name,
        PORT: String(SERVICE.port),
        // Reached through the edge (see the NetworkPolicy): believe its proxies'
        // X-Forwarded-For, read from the right, so each client has its own rate limit.
        // Declare a CDN in front of the edge here too: ClientTrust.behindEdge({ cdn: { cidrs } }).
        ...ClientTrust.behindEdge().env,
        // Entries here win over the ConfigMap's: this service does not use the platform's Redis.
        ...(SERVICE.useRedis ? {} : { REDIS_CLUSTER_NODES: '' }),
      },
      secretEnv: [
        { name: 'JWT_SECRET', secretName: SECRET, key: 'jwt-secret' },
        ...(SERVICE.usePostgres ? [{ name: 'DATABASE_URL', secretName: SECRET, key: 'database-url' }] : []),
        // The platform's Redis Cluster requires AUTH; its password is in the platform's Secret.
        ...(SERVICE.useRedis ? [{ name: 'REDIS_PASSWORD', secretName: AppConfig.DEFAULT_SECRET_NAME, key: 'REDIS_PASSWORD' }] : []),
      ],
      ...SIZING[props.environment],
    });

    // The platform denies all traffic by default and allows DNS: open exactly
    // this service's flows, Prometheus' scrapes of the metrics port included.
    const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
    const component = (name: string) => ({ podSelector: { matchLabels: { [Components.LABEL]: name } } });
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: SERVICE.name },
      spec: {
        podSelector: { matchLabels: service.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_NAMESPACE } } }], ports: [tcp(SERVICE.port)] },
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': MONITORING_NAMESPACE } } }], ports: [tcp(ServiceConventions.METRICS_PORT)] },
        ],
        egress: [
          ...(SERVICE.usePostgres ? [{ to: [component(Components.POSTGRES)], ports: [tcp(DataConventions.POSTGRES_PORT)] }] : []),
          ...(SERVICE.useRedis ? [{ to: [component(Components.REDIS)], ports: [tcp(DataConventions.REDIS_PORT)] }] : []),
        ],
      },
    });

    // Labelled like the platform's monitors, so the same kube-prometheus-stack
    // selects it (change both if your Prometheus release has another name).
    // No AlertRules here: the platform's PrometheusRule in this namespace alerts
    // on the HTTP metrics of the services in its catalog (add ./catalog-entry.generated.ts
    // there), grouped by the `service` label this ServiceMonitor adds. A second
    // copy would fire each alert twice and record each SLO series twice.
    new ServiceMonitor(this, 'Metrics', {
      selector: service.selector,
      labels: { [Monitoring.DEFAULT_RELEASE_LABEL]: Monitoring.DEFAULT_RELEASE },
      metadata: { name: SERVICE.name },
    });
  }
}
