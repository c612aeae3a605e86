import { Components, EdgeConventions, ScrapeIntervals, ServiceConventions } from '../conventions';
import { Environments } from './environments';
import { deepMerge } from '../core/merge';
import { PropValidationError, validateDnsLabel, validateDnsSubdomain, validateDuration, validateHttpPath, validateInteger } from '../core/validate';
import { HttpProbes } from '../workload/http-service';
import { HttpServiceSettings } from '../workload/settings';

/** Container images of the three default services. */
export interface PlatformImages {
  /** Frontend image, e.g. `ghcr.io/rauli-vision/frontend:1.4.2`. */
  readonly frontend: string;
  /** Go backend image. */
  readonly backendGo: string;
  /** Python backend image. */
  readonly backendPython: string;
}

/** The data stores a catalog entry can reach. */
export enum DataStore {
  /** The PostgreSQL cluster (and its share of the connection budget). */
  POSTGRES = 'postgres',
  /** The Redis Cluster. */
  REDIS = 'redis',
}

/** What one service may open connections to; every other flow is denied. */
export interface ServiceReach {
  /**
   * Data stores the service connects to.
   * @default - none
   */
  readonly stores?: DataStore[];
  /**
   * Other catalog services it calls, by entry name.
   * @default - none
   */
  readonly services?: string[];
}

/** How a service exposes Prometheus metrics. */
export interface ServiceMetrics {
  /**
   * Expose and scrape metrics at all.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Port of the metrics server inside the container.
   * @default ServiceConventions.METRICS_PORT
   */
  readonly port?: number;
  /**
   * HTTP path of the metrics endpoint.
   * @default ServiceConventions.METRICS_PATH
   */
  readonly path?: string;
  /**
   * Scrape interval of the service's ServiceMonitor.
   * @default - the monitoring's `scrapeInterval` (ScrapeIntervals.DEFAULT)
   */
  readonly scrapeInterval?: string;
}

/** The role a route plays at the edge. */
export enum ServiceRouteKind {
  /** `/` and the static assets on the public hosts (the frontend). */
  SITE = 'site',
  /** The API prefix and login path on every host, and every path of the API hosts. */
  API = 'api',
  /** One path prefix, on every public host or on one host. */
  PATH = 'path',
}

/** Where the edge sends traffic for a service. */
export class ServiceRoute {
  /** The site: `/` and `EdgeConventions.STATIC_ASSETS_PATH` on the public hosts. One entry at most. */
  public static site(): ServiceRoute {
    return new ServiceRoute(ServiceRouteKind.SITE);
  }

  /** The API: `EdgeConventions.API_PATH_PREFIX`, the login path and the API hosts, with the edge's API rate limits. One entry at most. */
  public static api(): ServiceRoute {
    return new ServiceRoute(ServiceRouteKind.API);
  }

  /**
   * One path prefix such as `/reports/`, on every public host or only on
   * `host` (which must be one of the edge's hosts).
   */
  public static path(pathPrefix: string, host?: string): ServiceRoute {
    return new ServiceRoute(ServiceRouteKind.PATH, pathPrefix, host);
  }

  /** The route's role. */
  public readonly kind: ServiceRouteKind;
  /** Path prefix of a PATH route. */
  public readonly pathPrefix?: string;
  /** Host of a PATH route; every public host when absent. */
  public readonly host?: string;

  private constructor(kind: ServiceRouteKind, pathPrefix?: string, host?: string) {
    this.kind = kind;
    this.pathPrefix = pathPrefix;
    this.host = host;
  }
}

/**
 * One application service of the platform. Every layer follows from the
 * entry: Deployment, HPA and PDB, NetworkPolicies, the data stores' client
 * lists and connection budget, ServiceMonitor and alert scope, edge route,
 * Helm values.
 */
export interface ServiceEntry {
  /** Name of the Deployment, Service and ServiceAccount (a DNS-1123 label, at most 40 characters). */
  readonly name: string;
  /** Value of the `app.kubernetes.io/component` label NetworkPolicies select on; unique in the catalog. */
  readonly component: string;
  /** Container image with a version tag or digest. */
  readonly image: string;
  /**
   * Port the application listens on.
   * @default ServiceConventions.HTTP_PORT
   */
  readonly port?: number;
  /**
   * Port the Service exposes for HTTP.
   * @default 80
   */
  readonly servicePort?: number;
  /**
   * Stores and services it connects to.
   * @default - nothing but DNS
   */
  readonly reaches?: ServiceReach;
  /**
   * Route from the edge.
   * @default - not routed: reachable only from the services that declare it
   */
  readonly route?: ServiceRoute;
  /**
   * Metrics endpoint and scrape interval.
   * @default - metrics on ServiceConventions.METRICS_PORT, scraped at the monitoring's interval
   */
  readonly metrics?: ServiceMetrics;
  /**
   * Health-check paths.
   * @default - ServiceConventions.LIVENESS_PATH and READINESS_PATH
   */
  readonly probes?: HttpProbes;
  /**
   * Sizing preset per environment name ('dev', 'staging', 'production').
   * @default - HttpService defaults in every environment (1 replica, 100m/128Mi)
   */
  readonly sizing?: { [environment: string]: HttpServiceSettings };
  /**
   * Overrides of the environment's sizing, deep-merged over it.
   * @default - the sizing preset
   */
  readonly overrides?: HttpServiceSettings;
  /**
   * Receive the platform Secret's credentials (DATABASE_URL, JWT_SECRET, REDIS_PASSWORD).
   * @default - true when it reaches a data store
   */
  readonly secrets?: boolean;
  /**
   * Extra plain environment variables.
   * @default - none
   */
  readonly env?: { [name: string]: string };
}

/** One host and path the edge would send to an entry. */
interface RouteClaim {
  /** A host, or '*' for every public host, or API_HOSTS. */
  readonly host: string;
  readonly path: string;
}
const API_HOSTS = '<api hosts>';

/**
 * The platform's list of application services, validated as a whole: names
 * and components unique, every reached service and store declared, no two
 * routes on one host and path.
 */
export class ServiceCatalog {
  /**
   * The default services' images from one registry and tag:
   * `<registry>/frontend`, `<registry>/backend` and `<registry>/cliente-local`.
   * @param registry e.g. `ghcr.io/rauli-vision`
   * @param tag a pinned tag, e.g. the commit CI built
   */
  public static images(registry: string, tag: string): PlatformImages {
    return { frontend: `${registry}/frontend:${tag}`, backendGo: `${registry}/backend:${tag}`, backendPython: `${registry}/cliente-local:${tag}` };
  }

  /** The guide's three services: the React frontend, the Go API and the Python service, with the environment presets' sizing. */
  public static defaults(images: PlatformImages): ServiceEntry[] {
    const sizing = (pick: (p: ReturnType<typeof Environments.preset>) => HttpServiceSettings) =>
      Object.fromEntries(Environments.NAMES.map(n => [n, pick(Environments.preset(n))]));
    const stores = [DataStore.POSTGRES, DataStore.REDIS];
    return [
      {
        // Static assets only: no credentials, no store, nothing to call.
        name: 'frontend',
        component: Components.FRONTEND,
        image: images.frontend,
        route: ServiceRoute.site(),
        metrics: { scrapeInterval: ScrapeIntervals.DEFAULT },
        sizing: sizing(p => p.frontend),
      },
      {
        name: 'backend-go',
        component: Components.BACKEND_GO,
        image: images.backendGo,
        route: ServiceRoute.api(),
        reaches: { stores, services: ['backend-python'] },
        metrics: { scrapeInterval: ScrapeIntervals.BACKEND },
        sizing: sizing(p => p.backendGo),
      },
      {
        name: 'backend-python',
        component: Components.BACKEND_PYTHON,
        image: images.backendPython,
        reaches: { stores },
        metrics: { scrapeInterval: ScrapeIntervals.BACKEND },
        sizing: sizing(p => p.backendPython),
      },
    ];
  }

  /** Most replicas a service runs with `settings`: what it costs the connection budget. */
  public static maxReplicas(settings: HttpServiceSettings): number {
    return settings.autoscaling?.maxReplicas ?? settings.replicas ?? 1;
  }

  /** The entries, in order. */
  public readonly entries: ServiceEntry[];

  /**
   * @param entries the services
   * @param stores the data stores the platform runs; an entry reaching another fails
   */
  constructor(entries: ServiceEntry[], stores: DataStore[] = [DataStore.POSTGRES, DataStore.REDIS]) {
    if (entries.length === 0) throw new PropValidationError('services', entries, 'at least one service entry');
    entries.forEach((e, i) => validateEntry(at(i, e), e, stores));
    checkUnique(entries, 'name');
    checkUnique(entries, 'component');
    const names = entries.map(e => e.name);
    entries.forEach((e, i) => (e.reaches?.services ?? []).forEach((s, j) => {
      if (!names.includes(s) || s === e.name) {
        throw new PropValidationError(`${at(i, e)}.reaches.services[${j}]`, s, `the name of another entry of the catalog (${names.filter(n => n !== e.name).join(', ')})`);
      }
    }));
    checkRoutes(entries);
    this.entries = entries;
  }

  /** The entry named `name`; throws naming the entries when there is none. */
  public entry(name: string): ServiceEntry {
    const found = this.entries.find(e => e.name === name);
    if (!found) throw new PropValidationError('service', name, `one of the catalog's entries (${this.entries.map(e => e.name).join(', ')})`);
    return found;
  }

  /** The entry's sizing in `environment`: its preset, then its overrides, then `extra`, deep-merged. */
  public settings(name: string, environment: string, extra?: HttpServiceSettings): HttpServiceSettings {
    const e = this.entry(name);
    return deepMerge<HttpServiceSettings>({}, e.sizing?.[environment], e.overrides, extra);
  }

  /** Components of the entries that reach `store`, in catalog order. */
  public clientsOf(store: DataStore): string[] {
    return this.entries.filter(e => reaches(e, store)).map(e => e.component);
  }

  /** The entries whose metrics are scraped. */
  public scraped(): ServiceEntry[] {
    return this.entries.filter(e => e.metrics?.enabled ?? true);
  }

  /** The entry with `kind` route, if any. */
  public routed(kind: ServiceRouteKind): ServiceEntry[] {
    return this.entries.filter(e => e.route?.kind === kind);
  }
}

/** Whether `entry` declares `store`. */
function reaches(entry: ServiceEntry, store: DataStore): boolean {
  return (entry.reaches?.stores ?? []).includes(store);
}

/** `services[3] (reports)`: the prop path errors name. */
function at(i: number, e: ServiceEntry): string {
  return `services[${i}] (${e.name})`;
}

function validateEntry(prop: string, e: ServiceEntry, stores: DataStore[]): void {
  // ServiceMonitors are named `<prefix>-<name>` within 63 characters.
  validateDnsLabel(`${prop}.name`, e.name, 40);
  validateDnsLabel(`${prop}.component`, e.component);
  if (e.port !== undefined) validateInteger(`${prop}.port`, e.port, 1024, 65535);
  if (e.servicePort !== undefined) validateInteger(`${prop}.servicePort`, e.servicePort, 1, 65535);
  (e.reaches?.stores ?? []).forEach((s, j) => {
    if (!stores.includes(s)) {
      throw new PropValidationError(`${prop}.reaches.stores[${j}]`, s, `a store the chart declares (${stores.join(', ') || 'none'})`);
    }
  });
  const m = e.metrics ?? {};
  if (m.port !== undefined) validateInteger(`${prop}.metrics.port`, m.port, 1024, 65535);
  if (m.port !== undefined && m.port === (e.port ?? ServiceConventions.HTTP_PORT)) {
    throw new PropValidationError(`${prop}.metrics.port`, m.port, 'a port other than the HTTP port: NetworkPolicies open them to different peers');
  }
  if (m.path !== undefined) validateHttpPath(`${prop}.metrics.path`, m.path);
  if (m.scrapeInterval !== undefined) validateDuration(`${prop}.metrics.scrapeInterval`, m.scrapeInterval);
  for (const env of Object.keys(e.sizing ?? {})) {
    if (!Environments.NAMES.includes(env)) {
      throw new PropValidationError(`${prop}.sizing`, env, `environment names as keys (${Environments.NAMES.join(', ')})`);
    }
  }
  const r = e.route;
  if (r?.kind === ServiceRouteKind.PATH) {
    validateHttpPath(`${prop}.route.pathPrefix`, r.pathPrefix ?? '');
    if (!r.pathPrefix!.endsWith('/')) throw new PropValidationError(`${prop}.route.pathPrefix`, r.pathPrefix, "a prefix ending in '/', such as '/reports/'");
    if (r.host !== undefined) validateDnsSubdomain(`${prop}.route.host`, r.host);
  }
}

function checkUnique(entries: ServiceEntry[], field: 'name' | 'component'): void {
  entries.forEach((e, i) => {
    const first = entries.findIndex(x => x[field] === e[field]);
    if (first !== i) {
      throw new PropValidationError(`${at(i, e)}.${field}`, e[field], `a ${field} no other entry uses (services[${first}] has it already)`);
    }
  });
}

function claims(route: ServiceRoute): RouteClaim[] {
  switch (route.kind) {
    case ServiceRouteKind.SITE:
      return [{ host: '*', path: '/' }, { host: '*', path: EdgeConventions.STATIC_ASSETS_PATH }];
    case ServiceRouteKind.API:
      return [{ host: '*', path: EdgeConventions.API_PATH_PREFIX }, { host: '*', path: EdgeConventions.LOGIN_PATH }, { host: API_HOSTS, path: '/' }];
    default:
      return [{ host: route.host ?? '*', path: route.pathPrefix! }];
  }
}

/** Two entries on one host and path would make the edge pick one silently. */
function checkRoutes(entries: ServiceEntry[]): void {
  const taken: Array<RouteClaim & { index: number }> = [];
  entries.forEach((e, i) => {
    if (!e.route) return;
    for (const c of claims(e.route)) {
      const clash = taken.find(t => t.path === c.path && (t.host === c.host || (t.host === '*' && c.host !== API_HOSTS) || (c.host === '*' && t.host !== API_HOSTS)));
      if (clash) {
        const where = c.host === '*' ? `${c.path} on every host` : c.host === API_HOSTS ? `${c.path} on the API hosts` : `${c.host}${c.path}`;
        throw new PropValidationError(`${at(i, e)}.route`, where, `a host and path no other entry is routed on (services[${clash.index}] (${entries[clash.index].name}) has it)`);
      }
      taken.push({ ...c, index: i });
    }
  });
}
