import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { AppConfig, AppConfigSettings } from '../config/app-config';
import { Components } from '../conventions';
import { Environments, EnvironmentPreset } from './environments';
import { validateDnsLabel } from '../core/validate';
import { DataTier, DataTierBackupOptions } from '../data/data-tier';
import { PostgresOptions } from '../data/postgres/postgres-cluster';
import { RedisClusterOptions } from '../data/redis/redis-cluster';
import { Edge, EdgeOptions } from '../edge';
import { PlatformNamespace } from '../namespace/platform-namespace';
import { PlatformNetworkPolicies } from '../network/platform-network-policies';
import { Monitoring, MonitoringProps } from '../observability/monitoring';
import { HttpService } from '../workload/http-service';
import { HttpServiceSettings } from '../workload/settings';

/** Container images of the three application services. */
export interface PlatformImages {
  /** Frontend image, e.g. `ghcr.io/rauli-vision/frontend:1.4.2`. */
  readonly frontend: string;
  /** Go backend image. */
  readonly backendGo: string;
  /** Python backend image. */
  readonly backendPython: string;
}

/**
 * Props of RauliVisionChart. `namespace` (from ChartProps) defaults to
 * `rauli-vision-<environment>`.
 */
export interface RauliVisionChartProps extends ChartProps {
  /** Environment preset: 'dev', 'staging' or 'production'. */
  readonly environment: string;
  /** Images; pinned tags or digests are required in staging and production. */
  readonly images: PlatformImages;
  /**
   * Overrides of the frontend preset, field by field.
   * @default - the preset
   */
  readonly frontend?: HttpServiceSettings;
  /**
   * Overrides of the Go backend preset, field by field.
   * @default - the preset
   */
  readonly backendGo?: HttpServiceSettings;
  /**
   * Overrides of the Python backend preset, field by field.
   * @default - the preset
   */
  readonly backendPython?: HttpServiceSettings;
  /**
   * Application settings (the non-secret part of `.env.production`).
   * @default - the seed's values
   */
  readonly config?: AppConfigSettings;
  /**
   * Secret holding DATABASE_URL, JWT_SECRET and REDIS_PASSWORD, created outside the manifests.
   * @default AppConfig.DEFAULT_SECRET_NAME ('rauli-vision-app')
   */
  readonly existingSecret?: string;
  /**
   * Namespace of the ingress controller or Gateway.
   * @default 'ingress-nginx'
   */
  readonly ingressNamespace?: string;
  /**
   * Namespace of Prometheus.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * Public edge: TLS, `/` -> frontend, `/api/` -> Go backend, on ingress-nginx or Gateway API.
   * @default - no edge
   */
  readonly edge?: EdgeOptions;
  /**
   * Overrides of the PostgreSQL preset, field by field.
   * @default - the preset
   */
  readonly database?: PostgresOptions;
  /**
   * Overrides of the Redis Cluster preset, field by field.
   * @default - the preset
   */
  readonly redis?: RedisClusterOptions;
  /**
   * Database (and optionally application) backups and the disaster-recovery
   * plan: the bucket plus overrides of the preset's schedules.
   * @default - no backups
   */
  readonly backup?: DataTierBackupOptions;
  /**
   * ServiceMonitors, the PrometheusRule and the Grafana dashboards for
   * kube-prometheus-stack (release label, dashboard label, on/off switches).
   * @default - all of them, labelled `release: kube-prometheus-stack`
   */
  readonly monitoring?: MonitoringProps;
}

/**
 * The whole RAULI-VISION architecture for one environment, from a preset plus
 * overrides: namespace guardrails, configuration, the three application
 * services and the network policies between them.
 */
export class RauliVisionChart extends Chart {
  /**
   * Name of the platform's ConfigMap (shared runtime settings and
   * `REDIS_CLUSTER_NODES`), which services deployed beside it read too.
   */
  public static readonly CONFIG_MAP_NAME = 'rauli-vision-config';

  /** The preset this chart was built from. */
  public readonly preset: EnvironmentPreset;
  /** The React frontend. */
  public readonly frontend: HttpService;
  /** The Go API. */
  public readonly backendGo: HttpService;
  /** The Python service. */
  public readonly backendPython: HttpService;
  /** Application configuration. */
  public readonly config: AppConfig;
  /** PostgreSQL, Redis Cluster, backups and the disaster-recovery plan. */
  public readonly data: DataTier;
  /** The public edge, when `edge` is set. */
  public readonly edge?: Edge;
  /** ServiceMonitors, alert rules and dashboards. */
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: RauliVisionChartProps) {
    const preset = Environments.preset(props.environment);
    const namespace = validateDnsLabel('namespace', props.namespace ?? `rauli-vision-${preset.name}`);
    super(scope, id, {
      ...props,
      namespace,
      labels: { 'app.kubernetes.io/instance': `rauli-vision-${preset.name}`, [Components.PART_OF_LABEL]: Components.PART_OF, ...props.labels },
    });
    this.preset = preset;

    new PlatformNamespace(this, 'Namespace', { name: namespace, limitRange: preset.limitRange, quota: preset.quota });
    // The pools of every backend replica at the autoscalers' maximum must fit in max_connections.
    const databaseClients = [{ ...preset.backendGo, ...props.backendGo }, { ...preset.backendPython, ...props.backendPython }]
      .reduce((n, s) => n + (s.autoscaling?.maxReplicas ?? s.replicas ?? 1), 0);
    this.data = new DataTier(this, 'Data', {
      postgres: { ...preset.postgres, ...props.database },
      redis: { ...preset.redis, ...props.redis },
      // The application backup archives the configuration by default; user-data
      // volumes are added through `backup.applicationSources`.
      backup: props.backup ? {
        applicationSources: [{ name: 'config', configMapName: RauliVisionChart.CONFIG_MAP_NAME }],
        ...preset.backup,
        ...props.backup,
      } : undefined,
      databaseClientReplicas: databaseClients,
      monitoringNamespace: props.monitoringNamespace,
    });
    this.config = new AppConfig(this, 'Config', {
      name: RauliVisionChart.CONFIG_MAP_NAME,
      existingSecret: props.existingSecret,
      logLevel: preset.logLevel,
      databasePoolSize: this.data.databasePoolSize,
      databaseMaxConnections: this.data.postgres.maxConnections,
      redisClusterNodes: this.data.redis.clusterNodes,
      ...props.config,
      extra: { ...this.data.appSettings, ...props.config?.extra },
    });

    const service = (construct: string, name: string, component: string, image: string,
      settings: HttpServiceSettings, overrides?: HttpServiceSettings, secrets = true) =>
      new HttpService(this, construct, {
        ...settings,
        ...overrides,
        name,
        component,
        image,
        strictImages: preset.strictImages,
        configMapName: this.config.configMapName,
        secretEnv: secrets ? this.config.secretEnv : undefined,
      });
    // The frontend serves static assets: it gets neither database nor JWT credentials.
    this.frontend = service('Frontend', 'frontend', Components.FRONTEND, props.images.frontend, preset.frontend, props.frontend, false);
    this.backendGo = service('BackendGo', 'backend-go', Components.BACKEND_GO, props.images.backendGo, preset.backendGo, props.backendGo);
    this.backendPython = service('BackendPython', 'backend-python', Components.BACKEND_PYTHON, props.images.backendPython, preset.backendPython, props.backendPython);

    if (props.edge) {
      this.edge = new Edge(this, 'Edge', {
        ...props.edge,
        frontend: { serviceName: this.frontend.name, port: this.frontend.servicePort },
        backend: { serviceName: this.backendGo.name, port: this.backendGo.servicePort },
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      ...props.monitoring,
      // CloudNativePG's instances are scraped through its PodMonitors, not an exporter Service.
      targets: props.monitoring?.targets ?? (this.data.cloudNativePg
        ? Monitoring.defaultTargets().filter(t => t.name !== `${Components.POSTGRES}-exporter`) : undefined),
    });

    new PlatformNetworkPolicies(this, 'NetworkPolicies', {
      ingressNamespace: props.ingressNamespace,
      monitoringNamespace: props.monitoringNamespace,
    });
  }
}
