import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { AppConfig, AppConfigSettings } from '../config/app-config';
import { Components, EdgeConventions } from '../conventions';
import { Environments, EnvironmentPreset } from './environments';
import { DataStore, PlatformImages, ServiceCatalog, ServiceEntry, ServiceRouteKind } from './service-catalog';
import { deepMerge } from '../core/merge';
import { PropValidationError, validateDnsLabel } from '../core/validate';
import { DataTier, DataTierBackupOptions } from '../data/data-tier';
import { PostgresOptions } from '../data/postgres/postgres-cluster';
import { RedisClusterOptions } from '../data/redis/redis-cluster';
import { Edge, EdgeOptions } from '../edge';
import { EDGE_DEFAULTS } from '../edge/private/routing';
import { PlatformNamespace } from '../namespace/platform-namespace';
import { PlatformNetworkPolicies } from '../network/platform-network-policies';
import { MetricsTarget, Monitoring, MonitoringProps } from '../observability/monitoring';
import { HttpService } from '../workload/http-service';
import { HttpServiceSettings } from '../workload/settings';

/**
 * Props of RauliVisionChart. `namespace` (from ChartProps) defaults to
 * `rauli-vision-<environment>`.
 */
export interface RauliVisionChartProps extends ChartProps {
  /** Environment preset: 'dev', 'staging' or 'production'. */
  readonly environment: string;
  /**
   * The application services, from which every layer is derived. To add one
   * to the guide's three: `[...ServiceCatalog.defaults(images), entry]`.
   * Pinned image tags or digests are required in staging and production.
   * @default ServiceCatalog.defaults(images)
   */
  readonly services?: ServiceEntry[];
  /**
   * Images of the default catalog; only without `services`.
   * @default - required unless `services` is given
   */
  readonly images?: PlatformImages;
  /**
   * Overrides of the default `frontend` entry's sizing, deep-merged; only without `services`.
   * @default - the preset
   */
  readonly frontend?: HttpServiceSettings;
  /**
   * Overrides of the default `backend-go` entry's sizing, deep-merged; only without `services`.
   * @default - the preset
   */
  readonly backendGo?: HttpServiceSettings;
  /**
   * Overrides of the default `backend-python` entry's sizing, deep-merged; only without `services`.
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
   * Public edge: TLS and the catalog's routes (the site entry at `/`, the API
   * entry at `/api/`, path routes), on ingress-nginx or Gateway API.
   * @default - no edge
   */
  readonly edge?: EdgeOptions;
  /**
   * Overrides of the PostgreSQL preset, deep-merged.
   * @default - the preset
   */
  readonly database?: PostgresOptions;
  /**
   * Overrides of the Redis Cluster preset, deep-merged.
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
  /** The validated service catalog every layer below is derived from. */
  public readonly catalog: ServiceCatalog;
  /** The application services, in catalog order. */
  public readonly services: HttpService[];
  /** The default catalog's React frontend, when the catalog has an entry named `frontend`. */
  public readonly frontend?: HttpService;
  /** The default catalog's Go API (`backend-go`), when present. */
  public readonly backendGo?: HttpService;
  /** The default catalog's Python service (`backend-python`), when present. */
  public readonly backendPython?: HttpService;
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
    this.catalog = new ServiceCatalog(catalogEntries(props), PLATFORM_STORES);
    const sizing = new Map(this.catalog.entries.map(e => [e.name, this.catalog.settings(e.name, preset.name)]));

    new PlatformNamespace(this, 'Namespace', { name: namespace, limitRange: preset.limitRange, quota: preset.quota });
    this.data = this.addDataTier(props, sizing);
    this.config = this.addConfig(props);
    this.services = this.catalog.entries.map(e => this.addService(e, sizing.get(e.name)!));
    const named = (name: string) => this.services.find(s => s.name === name);
    this.frontend = named('frontend');
    this.backendGo = named('backend-go');
    this.backendPython = named('backend-python');
    if (props.edge) this.edge = this.addEdge(props.edge);
    this.monitoring = this.addMonitoring(props.monitoring);
    this.addNetworkPolicies(props);
  }

  /** The service of the catalog entry `name`. */
  public service(name: string): HttpService {
    this.catalog.entry(name);
    return this.services.find(s => s.name === name)!;
  }

  private addDataTier(props: RauliVisionChartProps, sizing: Map<string, HttpServiceSettings>): DataTier {
    // The pools of every database client replica at the autoscalers' maximum must fit in the engine's ConnectionBudget.
    const databaseClients = this.catalog.entries.filter(e => (e.reaches?.stores ?? []).includes(DataStore.POSTGRES))
      .reduce((n, e) => n + ServiceCatalog.maxReplicas(sizing.get(e.name)!), 0);
    return new DataTier(this, 'Data', {
      postgres: deepMerge(this.preset.postgres, { clientComponents: this.catalog.clientsOf(DataStore.POSTGRES) }, props.database),
      redis: deepMerge(this.preset.redis, { clientComponents: this.catalog.clientsOf(DataStore.REDIS) }, props.redis),
      // The application backup archives the configuration by default; user-data
      // volumes are added through `backup.applicationSources`.
      backup: props.backup ? deepMerge<DataTierBackupOptions>(
        { applicationSources: [{ name: 'config', configMapName: RauliVisionChart.CONFIG_MAP_NAME }] } as DataTierBackupOptions,
        this.preset.backup,
        props.backup,
      ) : undefined,
      databaseClientReplicas: Math.max(1, databaseClients),
      monitoringNamespace: props.monitoringNamespace,
    });
  }

  private addConfig(props: RauliVisionChartProps): AppConfig {
    return new AppConfig(this, 'Config', {
      name: RauliVisionChart.CONFIG_MAP_NAME,
      existingSecret: props.existingSecret,
      logLevel: this.preset.logLevel,
      databasePoolSize: this.data.databasePoolSize,
      databaseMaxConnections: this.data.postgres.maxConnections,
      redisClusterNodes: this.data.redis.clusterNodes,
      ...props.config,
      extra: { ...this.data.appSettings, ...props.config?.extra },
    });
  }

  private addService(entry: ServiceEntry, settings: HttpServiceSettings): HttpService {
    // Credentials only where a store is reached (or the entry asks): the frontend gets none.
    const secrets = entry.secrets ?? (entry.reaches?.stores ?? []).length > 0;
    return withEntry(this.catalog.entries.indexOf(entry), entry, () => new HttpService(this, entry.name, {
      ...settings,
      name: entry.name,
      component: entry.component,
      image: entry.image,
      port: entry.port,
      servicePort: entry.servicePort,
      metrics: entry.metrics?.enabled ?? true,
      metricsPort: entry.metrics?.port,
      probes: entry.probes,
      env: entry.env,
      strictImages: this.preset.strictImages,
      configMapName: this.config.configMapName,
      secretEnv: secrets ? this.config.secretEnv : undefined,
    }));
  }

  private addEdge(options: EdgeOptions): Edge {
    const only = (kind: ServiceRouteKind, role: string) => {
      const entries = this.catalog.routed(kind);
      if (entries.length !== 1) {
        throw new PropValidationError('services[].route', entries.map(e => e.name), `exactly one entry with ServiceRoute.${kind}() (${role}) when \`edge\` is set`);
      }
      return this.service(entries[0].name);
    };
    const hosts = [...(options.hosts ?? [EDGE_DEFAULTS.host]), ...(options.apiHosts ?? [])];
    const routes = this.catalog.routed(ServiceRouteKind.PATH).map(e => {
      const host = e.route!.host;
      if (host !== undefined && !hosts.includes(host)) {
        const i = this.catalog.entries.indexOf(e);
        throw new PropValidationError(`services[${i}] (${e.name}).route.host`, host, `one of the edge's hosts (${hosts.join(', ')})`);
      }
      return { service: this.service(e.name), pathPrefix: e.route!.pathPrefix!, host };
    });
    return new Edge(this, 'Edge', {
      ...options,
      frontend: only(ServiceRouteKind.SITE, 'the site at /'),
      backend: only(ServiceRouteKind.API, `the API at ${EdgeConventions.API_PATH_PREFIX}`),
      routes,
    });
  }

  private addMonitoring(props: MonitoringProps = {}): Monitoring {
    const scraped = this.catalog.scraped();
    const targets: MetricsTarget[] = [
      ...scraped.map(e => ({
        name: e.name,
        selector: Monitoring.componentSelector(e.component),
        path: e.metrics?.path,
        interval: e.metrics?.scrapeInterval,
      })),
      // CloudNativePG's instances are scraped through its PodMonitors, not an exporter Service.
      ...Monitoring.dataTierTargets().filter(t => !(this.data.cloudNativePg && t.name === `${Components.POSTGRES}-exporter`)),
    ];
    return new Monitoring(this, 'Monitoring', {
      ...props,
      targets: props.targets ?? targets,
      // Only the catalog's services page: other workloads in the namespace emit the same metric names.
      alertRules: { ...props.alertRules, services: props.alertRules?.services ?? (scraped.length ? scraped.map(e => e.name) : undefined) },
    });
  }

  private addNetworkPolicies(props: RauliVisionChartProps): PlatformNetworkPolicies {
    return new PlatformNetworkPolicies(this, 'NetworkPolicies', {
      ingressNamespace: props.ingressNamespace,
      monitoringNamespace: props.monitoringNamespace,
      services: this.catalog.entries.map(e => ({
        service: this.service(e.name),
        fromEdge: e.route !== undefined,
        calls: (e.reaches?.services ?? []).map(name => this.service(name)),
        postgres: (e.reaches?.stores ?? []).includes(DataStore.POSTGRES),
        redis: (e.reaches?.stores ?? []).includes(DataStore.REDIS),
      })),
    });
  }
}

/** The stores this chart runs; entries reaching anything else fail. */
const PLATFORM_STORES = [DataStore.POSTGRES, DataStore.REDIS];

/** `services`, or the default catalog from `images` and the per-service overrides. */
function catalogEntries(props: RauliVisionChartProps): ServiceEntry[] {
  const legacy: { [name: string]: HttpServiceSettings | undefined } = {
    'frontend': props.frontend, 'backend-go': props.backendGo, 'backend-python': props.backendPython,
  };
  if (props.services) {
    const given = (['images', 'frontend', 'backendGo', 'backendPython'] as const).filter(k => props[k] !== undefined);
    if (given.length > 0) {
      throw new PropValidationError(given[0], props[given[0]], 'no value when `services` is given: put images and sizing overrides in the entries');
    }
    return props.services;
  }
  if (!props.images) throw new PropValidationError('images', props.images, 'the three images of the default catalog, or a `services` list');
  return ServiceCatalog.defaults(props.images).map(e => legacy[e.name] ? { ...e, overrides: deepMerge(e.overrides, legacy[e.name]) } : e);
}

/** Runs `build`, and names the catalog entry in the prop of any validation error it throws. */
function withEntry<T>(index: number, entry: ServiceEntry, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('Invalid ')) e.message = `Invalid services[${index}] (${entry.name}).${e.message.slice('Invalid '.length)}`;
    throw e;
  }
}
