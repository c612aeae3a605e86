import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterAddon } from './cluster-addon';
import { HelmChartRepository } from './helm-chart-repository';
import { Monitoring } from '../observability/monitoring';
import { prometheusStackValues } from '../observability/prometheus-stack-values';

/**
 * The chart versions the platform targets, each pinned to the operator (and
 * CRD) version its manifests are written against.
 */
export const ADDON_VERSIONS = {
  /** Gateway API v1.6 CRDs (bundled by Envoy Gateway) and Envoy Gateway v1.9.0. */
  envoyGateway: 'v1.9.0',
  /** cert-manager v1.21.2; Gateway API support is switched on in its values. */
  certManager: 'v1.21.2',
  /** kube-prometheus-stack 85.1.2 (prometheus-operator monitoring.coreos.com/v1 CRDs). */
  kubePrometheusStack: '85.1.2',
  /** cloudnative-pg chart 0.29.0 = operator 1.30.0. */
  cloudnativePg: '0.29.0',
  /** plugin-barman-cloud chart 0.7.1, released with plugin v0.14.0 (its ObjectStore CRD). */
  barmanCloudPlugin: '0.7.1',
  /** eck-operator chart 3.5.0 = ECK 3.5.0. */
  eckOperator: '3.5.0',
} as const;

/**
 * The kube-prometheus-stack values the add-ons chart uses unless the platform
 * model passes its own: the observability model's defaults (`prometheusStackValues()`).
 */
export const DEFAULT_KUBE_PROMETHEUS_STACK_VALUES: { [key: string]: any } = prometheusStackValues({ release: Monitoring.DEFAULT_RELEASE });

export interface ClusterAddonsChartProps extends ChartProps {
  /**
   * kube-prometheus-stack values: scrape and evaluation intervals, Alertmanager
   * routing, retention... as the platform's observability model computes them.
   * The release is always named `Monitoring.DEFAULT_RELEASE`, the `release`
   * label value the platform's ServiceMonitors and rules carry.
   * @default DEFAULT_KUBE_PROMETHEUS_STACK_VALUES (`prometheusStackValues()`: 15 s scrape and evaluation, release-label selectors, Alertmanager on)
   */
  readonly kubePrometheusStackValues?: { [key: string]: any };
}

/**
 * Every controller and operator the platform's manifests depend on, as Flux
 * HelmReleases of pinned chart versions (synthesized to
 * `dist/cluster-addons.k8s.yaml`). `dependsOn` is the bootstrap order:
 * Envoy Gateway (Gateway API CRDs) -> cert-manager (needs the Gateway API
 * CRDs for its gateway solver) -> kube-prometheus-stack -> CloudNativePG
 * (its PodMonitor needs the monitoring CRDs) -> Barman Cloud plugin (needs
 * cert-manager and the operator); the ECK operator needs nothing else.
 */
export class ClusterAddonsChart extends Chart {
  public readonly envoyGateway: ClusterAddon;
  public readonly certManager: ClusterAddon;
  public readonly kubePrometheusStack: ClusterAddon;
  public readonly cloudnativePg: ClusterAddon;
  public readonly barmanCloudPlugin: ClusterAddon;
  public readonly eckOperator: ClusterAddon;

  constructor(scope: Construct, id: string, props: ClusterAddonsChartProps = {}) {
    super(scope, id, props);
    this.envoyGateway = this.addEnvoyGateway();
    this.certManager = this.addCertManager();
    this.kubePrometheusStack = this.addKubePrometheusStack(props.kubePrometheusStackValues ?? DEFAULT_KUBE_PROMETHEUS_STACK_VALUES);
    this.cloudnativePg = this.addCloudnativePg();
    this.barmanCloudPlugin = this.addBarmanCloudPlugin();
    this.eckOperator = this.addEckOperator();
  }

  /** Every add-on, in bootstrap order. */
  public get addons(): ClusterAddon[] {
    return [this.envoyGateway, this.certManager, this.kubePrometheusStack, this.cloudnativePg, this.barmanCloudPlugin, this.eckOperator];
  }

  /** The add-on that installs the CRD `group/Kind`, if any. */
  public addonFor(kind: string): ClusterAddon | undefined {
    return this.addons.find(a => a.installs(kind));
  }

  private addEnvoyGateway(): ClusterAddon {
    const gatewayApi = ['BackendTLSPolicy', 'GatewayClass', 'Gateway', 'GRPCRoute', 'HTTPRoute', 'ListenerSet', 'ReferenceGrant', 'TCPRoute', 'TLSRoute', 'UDPRoute']
      .map(k => `gateway.networking.k8s.io/${k}`);
    const experimental = ['XBackend', 'XBackendTrafficPolicy', 'XMesh'].map(k => `gateway.networking.x-k8s.io/${k}`);
    const envoy = ['Backend', 'BackendTrafficPolicy', 'ClientTrafficPolicy', 'EnvoyExtensionPolicy', 'EnvoyPatchPolicy', 'EnvoyProxy', 'HTTPRouteFilter', 'SecurityPolicy']
      .map(k => `gateway.envoyproxy.io/${k}`);
    return new ClusterAddon(this, 'envoy-gateway', {
      repository: new HelmChartRepository(this, 'envoyproxy', { url: 'oci://docker.io/envoyproxy' }),
      chart: 'gateway-helm',
      version: ADDON_VERSIONS.envoyGateway,
      targetNamespace: 'envoy-gateway-system',
      crdKinds: [...gatewayApi, ...experimental, ...envoy],
    });
  }

  private addCertManager(): ClusterAddon {
    const kinds = ['Certificate', 'CertificateRequest', 'ClusterIssuer', 'Issuer'].map(k => `cert-manager.io/${k}`);
    return new ClusterAddon(this, 'cert-manager', {
      repository: new HelmChartRepository(this, 'jetstack', { url: 'https://charts.jetstack.io' }),
      chart: 'cert-manager',
      version: ADDON_VERSIONS.certManager,
      targetNamespace: 'cert-manager',
      crdKinds: [...kinds, 'acme.cert-manager.io/Challenge', 'acme.cert-manager.io/Order'],
      // The controller only watches Gateways and HTTPRoutes when their CRDs exist at start.
      dependsOn: [this.envoyGateway],
      values: {
        crds: { enabled: true, keep: true },
        config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true },
      },
    });
  }

  private addKubePrometheusStack(values: { [key: string]: any }): ClusterAddon {
    const kinds = ['Alertmanager', 'AlertmanagerConfig', 'PodMonitor', 'Probe', 'Prometheus', 'PrometheusAgent', 'PrometheusRule', 'ScrapeConfig', 'ServiceMonitor', 'ThanosRuler'];
    return new ClusterAddon(this, Monitoring.DEFAULT_RELEASE, {
      repository: new HelmChartRepository(this, 'prometheus-community', { url: 'https://prometheus-community.github.io/helm-charts' }),
      chart: 'kube-prometheus-stack',
      version: ADDON_VERSIONS.kubePrometheusStack,
      targetNamespace: 'monitoring',
      crdKinds: kinds.map(k => `monitoring.coreos.com/${k}`),
      values,
    });
  }

  private addCloudnativePg(): ClusterAddon {
    const kinds = ['Backup', 'ClusterImageCatalog', 'Cluster', 'DatabaseRole', 'Database', 'FailoverQuorum', 'ImageCatalog', 'Pooler', 'Publication', 'ScheduledBackup', 'Subscription'];
    return new ClusterAddon(this, 'cloudnative-pg', {
      repository: this.cnpgCharts(),
      chart: 'cloudnative-pg',
      version: ADDON_VERSIONS.cloudnativePg,
      targetNamespace: 'cnpg-system',
      crdKinds: kinds.map(k => `postgresql.cnpg.io/${k}`),
      dependsOn: [this.kubePrometheusStack],
      values: { crds: { create: true }, monitoring: { podMonitorEnabled: true } },
    });
  }

  private addBarmanCloudPlugin(): ClusterAddon {
    return new ClusterAddon(this, 'plugin-barman-cloud', {
      repository: this.cnpgCharts(),
      chart: 'plugin-barman-cloud',
      version: ADDON_VERSIONS.barmanCloudPlugin,
      // The plugin must run in the operator's namespace; its certificates come from cert-manager.
      targetNamespace: this.cloudnativePg.targetNamespace,
      crdKinds: ['barmancloud.cnpg.io/ObjectStore'],
      dependsOn: [this.certManager, this.cloudnativePg],
    });
  }

  private addEckOperator(): ClusterAddon {
    const kinds = [
      'agent.k8s.elastic.co/Agent', 'apm.k8s.elastic.co/ApmServer', 'autoops.k8s.elastic.co/AutoOpsAgentPolicy', 'beat.k8s.elastic.co/Beat',
      'maps.k8s.elastic.co/ElasticMapsServer', 'autoscaling.k8s.elastic.co/ElasticsearchAutoscaler', 'elasticsearch.k8s.elastic.co/Elasticsearch',
      'enterprisesearch.k8s.elastic.co/EnterpriseSearch', 'kibana.k8s.elastic.co/Kibana', 'logstash.k8s.elastic.co/Logstash',
      'packageregistry.k8s.elastic.co/PackageRegistry', 'stackconfigpolicy.k8s.elastic.co/StackConfigPolicy',
    ];
    return new ClusterAddon(this, 'eck-operator', {
      repository: new HelmChartRepository(this, 'elastic', { url: 'https://helm.elastic.co' }),
      chart: 'eck-operator',
      version: ADDON_VERSIONS.eckOperator,
      targetNamespace: 'elastic-system',
      crdKinds: kinds,
      values: { installCRDs: true },
    });
  }

  private cnpgCharts(): HelmChartRepository {
    const existing = this.node.tryFindChild('cnpg') as HelmChartRepository | undefined;
    return existing ?? new HelmChartRepository(this, 'cnpg', { url: 'https://cloudnative-pg.github.io/charts' });
  }
}
