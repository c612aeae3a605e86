import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { AppConfig, AppConfigSettings } from '../config/app-config';
import { Components, Durations, EdgeConventions, LoggingConventions } from '../conventions';
import { Environments, EnvironmentPreset } from './environments';
import { DataStore, PlatformImages, ServiceCatalog, ServiceEntry, ServiceRouteKind } from './service-catalog';
import { deepMerge } from '../core/merge';
import { PropValidationError, validateDnsLabel, validateDnsSubdomain } from '../core/validate';
import { DataTier, DataTierBackupOptions } from '../data/data-tier';
import { PostgresOptions } from '../data/postgres/postgres-cluster';
import { RedisClusterOptions } from '../data/redis/redis-cluster';
import { Edge, EdgeOptions, EdgeRateLimit, EdgeRoute } from '../edge';
import { EDGE_DEFAULTS } from '../edge/private/routing';
import { LoggingOptions, LoggingStack } from '../logging/logging-stack';
import { PlatformNamespace } from '../namespace/platform-namespace';
import { NamespaceIsolation } from '../network/namespace-isolation';
import { PlatformNetworkPolicies } from '../network/platform-network-policies';
import { AlertingOptions, AlertRouting } from '../observability/alert-routing';
import { MetricsTarget, Monitoring, MonitoringProps } from '../observability/monitoring';
import { prometheusStackValues } from '../observability/prometheus-stack-values';
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
   * @default - the guide's values
   */
  readonly config?: AppConfigSettings;
  /**
   * Secret holding DATABASE_URL, JWT_SECRET and REDIS_PASSWORD, created outside the manifests.
   * @default AppConfig.DEFAULT_SECRET_NAME ('rauli-vision-app')
   */
  readonly existingSecret?: string;
  /**
   * Namespace of PostgreSQL, Redis and the database backups, with a
   * LimitRange and a ResourceQuota sized for them by the preset: the
   * applications' LimitRange (the guide's 500m/512Mi per container) would cap
   * a database, and a second LimitRange in one namespace can only narrow the
   * first.
   * @default `<namespace>-data`
   */
  readonly dataNamespace?: string;
  /**
   * Namespace of the edge's proxies (ingress-nginx controller or Envoy Gateway's proxies).
   * @default - the edge's (`envoy-gateway-system` for Gateway API, `ingress-nginx` for ingress-nginx), or 'ingress-nginx' without an edge
   */
  readonly ingressNamespace?: string;
  /**
   * Namespace of Prometheus.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * Public edge: TLS and the catalog's routes (the site entry at `/`, the API
   * entry at `/api/`, path routes), on Gateway API (Envoy Gateway) or ingress-nginx.
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
  /**
   * Logs on ECK (Elasticsearch, Kibana, Filebeat) in their own namespace;
   * snapshots go to the `backup` bucket's `logs/` prefix.
   * @default - on, sized by the preset, in namespace 'logging'
   */
  readonly logging?: LoggingOptions;
  /**
   * Alert routing by severity and support level (an AlertmanagerConfig),
   * receivers read from Secrets.
   * @default - on with monitoring, receivers from the Secret `rauli-vision-alerting`
   */
  readonly alerting?: AlertingOptions;
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
  /** Namespace of the data tier. */
  public readonly dataNamespace: string;
  /** The public edge, when `edge` is set. */
  public readonly edge?: Edge;
  /** ServiceMonitors, alert rules and dashboards. */
  public readonly monitoring: Monitoring;
  /** The logging stack, unless `logging.enabled` is false. */
  public readonly logging?: LoggingStack;
  /** The alert routing, unless disabled. */
  public readonly alerting?: AlertRouting;
  /** Values for kube-prometheus-stack matching this chart's labels (dist/<env>.kube-prometheus-stack.values.yaml). */
  public readonly prometheusStackValues: any;

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
    this.dataNamespace = this.addDataNamespace(props, namespace);
    this.data = this.addDataTier(props, sizing, namespace);
    this.config = this.addConfig(props);
    // The topology decides: services the edge routes to believe its proxies (and
    // a declared CDN) and leave it the security headers; the others believe nobody.
    const routedEnv = props.edge ? Edge.routedServiceEnv(props.edge) : {};
    this.services = this.catalog.entries.map(e =>
      this.addService(e, sizing.get(e.name)!, e.route !== undefined ? routedEnv : {}));
    const named = (name: string) => this.services.find(s => s.name === name);
    this.frontend = named('frontend');
    this.backendGo = named('backend-go');
    this.backendPython = named('backend-python');
    if (props.edge) this.edge = this.addEdge(props.edge);
    if (props.logging?.enabled ?? true) this.logging = this.addLogging(props, namespace);
    this.monitoring = this.addMonitoring(props.monitoring);
    this.alerting = this.addAlerting(props);
    this.prometheusStackValues = prometheusStackValues({ release: this.release(props), releaseLabel: this.releaseLabel(props) });
    this.addNetworkPolicies(props);
  }

  /** The service of the catalog entry `name`. */
  public service(name: string): HttpService {
    this.catalog.entry(name);
    return this.services.find(s => s.name === name)!;
  }

  /** The data tier's namespace, isolated like the application's: default deny, then each store's own policies. */
  private addDataNamespace(props: RauliVisionChartProps, applicationNamespace: string): string {
    const suffix = '-data';
    if (props.dataNamespace === undefined && applicationNamespace.length > 63 - suffix.length) {
      throw new PropValidationError('namespace', applicationNamespace,
        `at most ${63 - suffix.length} characters, so that the data tier's namespace '<namespace>${suffix}' is a DNS label (or set dataNamespace)`);
    }
    const name = validateDnsLabel('dataNamespace', props.dataNamespace ?? `${applicationNamespace}${suffix}`);
    const taken = [applicationNamespace, props.logging?.namespace ?? LoggingConventions.NAMESPACE];
    if (taken.includes(name)) {
      throw new PropValidationError('dataNamespace', name, `a namespace of its own, not ${taken.map(n => `'${n}'`).join(' nor ')}`);
    }
    new PlatformNamespace(this, 'DataNamespace', {
      name,
      limitRange: this.preset.dataTierLimitRange,
      quota: this.preset.dataTierQuota,
      objectNamePrefix: 'rauli-vision-data',
      // It holds the databases' volumes: uninstalling a Helm release must not take them along.
      keepOnUninstall: true,
    });
    new NamespaceIsolation(this, 'DataNamespaceIsolation', { namespace: name });
    return name;
  }

  private addDataTier(props: RauliVisionChartProps, sizing: Map<string, HttpServiceSettings>, applicationNamespace: string): DataTier {
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
      namespace: this.dataNamespace,
      clientNamespace: applicationNamespace,
    });
  }

  private addConfig(props: RauliVisionChartProps): AppConfig {
    return new AppConfig(this, 'Config', {
      name: RauliVisionChart.CONFIG_MAP_NAME,
      existingSecret: props.existingSecret,
      environment: this.preset.name,
      databasePoolSize: this.data.databasePoolSize,
      databaseMaxConnections: this.data.postgres.maxConnections,
      redisClusterNodes: this.data.redis.clusterNodes,
      ...props.config,
      extra: { ...this.data.appSettings, ...props.config?.extra },
    });
  }

  private addService(entry: ServiceEntry, settings: HttpServiceSettings, edgeEnv: { [name: string]: string }): HttpService {
    // Credentials only where a store is reached (or the entry asks): the frontend gets none.
    const secrets = entry.secrets ?? (entry.reaches?.stores ?? []).length > 0;
    // The entry's own env wins over what the topology implies.
    const env = { ...edgeEnv, ...entry.env };
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
      env: Object.keys(env).length ? env : undefined,
      strictImages: this.preset.strictImages,
      configMapName: this.config.configMapName,
      secretEnv: secrets ? this.config.secretEnv : undefined,
    }));
  }

  private addEdge(options: EdgeOptions): Edge {
    if (options.routes) {
      throw new PropValidationError('edge.routes', '(set)', 'no value: the chart routes the catalog\'s entries (services[].route)');
    }
    const only = (kind: ServiceRouteKind, role: string) => {
      const entries = this.catalog.routed(kind);
      if (entries.length !== 1) {
        throw new PropValidationError('services[].route', entries.map(e => e.name), `exactly one entry with ServiceRoute.${kind}() (${role}) when \`edge\` is set`);
      }
      return entries[0];
    };
    const site = only(ServiceRouteKind.SITE, 'the site at /');
    const api = only(ServiceRouteKind.API, `the API at ${EdgeConventions.API_PATH_PREFIX}`);
    const hosts = options.hosts ?? [EDGE_DEFAULTS.host];
    const apiHosts = options.apiHosts ?? [];
    const routes = this.edgeRoutes(site, api, hosts, apiHosts, options.apiRateLimit ?? EDGE_DEFAULTS.apiRateLimit);
    return new Edge(this, 'Edge', {
      // The edge waits as long as the services may take (HTTP_TIMEOUT, rounded up to
      // the whole seconds the edge counts in), unless told otherwise.
      requestTimeout: Durations.format(Math.ceil(Durations.parseMilliseconds('httpTimeout', this.config.data.HTTP_TIMEOUT) / 1000) * 1000),
      ...options,
      // The routing table replaces hosts and apiHosts (the edge takes one or the other).
      hosts: undefined,
      apiHosts: undefined,
      routes,
    });
  }

  /**
   * The edge's routing table from the catalog: the site at `/` (static assets
   * cached) and the API at the API prefix on every public host, the API at `/`
   * on the API hosts, then each path entry on its host or on every public host,
   * with the API limit. The catalog has refused two entries on one host and path.
   */
  private edgeRoutes(site: ServiceEntry, api: ServiceEntry, hosts: string[], apiHosts: string[], apiLimit: EdgeRateLimit): EdgeRoute[] {
    if (hosts.length === 0) throw new PropValidationError('edge.hosts', hosts, 'at least one host');
    hosts.forEach((h, i) => validateDnsSubdomain(`edge.hosts[${i}]`, h));
    apiHosts.forEach((h, i) => validateDnsSubdomain(`edge.apiHosts[${i}]`, h));
    const all = [...hosts, ...apiHosts];
    const duplicate = all.find((h, i) => all.indexOf(h) !== i);
    if (duplicate) throw new PropValidationError('edge.hosts', duplicate, 'each host once across hosts and apiHosts');
    const siteService = this.service(site.name);
    const apiService = this.service(api.name);
    return [
      ...hosts.flatMap(host => [
        { backend: siteService, host, pathPrefix: '/', staticAssets: true },
        { backend: apiService, host, pathPrefix: EdgeConventions.API_PATH_PREFIX, rateLimit: apiLimit },
      ]),
      ...apiHosts.map(host => ({ backend: apiService, host, pathPrefix: '/', rateLimit: apiLimit })),
      ...this.catalog.routed(ServiceRouteKind.PATH).flatMap(e => {
        const host = e.route!.host;
        if (host !== undefined && !all.includes(host)) {
          throw new PropValidationError(`services[${this.catalog.entries.indexOf(e)}] (${e.name}).route.host`, host, `one of the edge's hosts (${all.join(', ')})`);
        }
        const service = this.service(e.name);
        return (host !== undefined ? [host] : hosts).map(h => ({ backend: service, host: h, pathPrefix: e.route!.pathPrefix!, rateLimit: apiLimit }));
      }),
    ];
  }

  private addLogging(props: RauliVisionChartProps, applicationNamespace: string): LoggingStack {
    return new LoggingStack(this, 'Logging', {
      ...props.logging,
      environment: this.preset.name,
      defaultSizing: this.preset.logging,
      applicationNamespace,
      ingressNamespace: props.ingressNamespace ?? this.edge?.proxyNamespace ?? 'ingress-nginx',
      snapshotStorage: props.backup?.storage,
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
      ...Monitoring.dataTierTargets(props.exporterScrapeInterval, this.dataNamespace).filter(t => !(this.data.cloudNativePg && t.name === `${Components.POSTGRES}-exporter`)),
    ];
    return new Monitoring(this, 'Monitoring', {
      dataNamespace: this.dataNamespace,
      ...props,
      targets: props.targets ?? targets,
      alertRules: {
        ...props.alertRules,
        // Only the catalog's services page: other workloads in the namespace emit the same metric names.
        services: props.alertRules?.services ?? (scraped.length ? scraped.map(e => e.name) : undefined),
        logPipeline: props.alertRules?.logPipeline ?? this.logging?.alertTargets(),
      },
    });
  }

  private addAlerting(props: RauliVisionChartProps): AlertRouting | undefined {
    if (!(props.alerting?.enabled ?? (props.monitoring?.enabled ?? true))) return undefined;
    return new AlertRouting(this, 'Alerting', {
      ...props.alerting,
      metadata: { name: 'rauli-vision', ...props.alerting?.metadata },
      labels: { [this.releaseLabel(props)]: this.release(props), ...props.alerting?.labels },
    });
  }

  private release(props: RauliVisionChartProps): string {
    return props.monitoring?.release ?? Monitoring.DEFAULT_RELEASE;
  }

  private releaseLabel(props: RauliVisionChartProps): string {
    return props.monitoring?.releaseLabel ?? Monitoring.DEFAULT_RELEASE_LABEL;
  }

  private addNetworkPolicies(props: RauliVisionChartProps): PlatformNetworkPolicies {
    return new PlatformNetworkPolicies(this, 'NetworkPolicies', {
      // Traffic into the apps comes from the proxies of whichever edge runs.
      ingressNamespace: props.ingressNamespace ?? this.edge?.proxyNamespace,
      monitoringNamespace: props.monitoringNamespace,
      dataNamespace: this.dataNamespace,
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
