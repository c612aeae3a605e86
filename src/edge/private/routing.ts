import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Components, EdgeConventions, RuntimeDefaults, SecurityHeaders } from '../../conventions';
import {
  PropValidationError, parseDurationSeconds, validateCidr, validateDnsLabel, validateDnsSubdomain, validateHttpPath,
  validateInteger, validateNginxSize, validateOneOf,
} from '../../core/validate';
import { EdgeRateLimit, EdgeRoute, EdgeRoutingProps, EdgeTlsOptions } from '../routing';

// TLS versions the edge may negotiate (1.0 and 1.1 are deprecated by RFC 8996).
const TLS_VERSIONS = ['1.2', '1.3'];

/** Defaults of the edge, from the guide's nginx configuration. */
export const EDGE_DEFAULTS = {
  name: 'rauli-vision',
  host: 'rauli-vision.com',
  tlsSecretName: 'rauli-vision-tls',
  clusterIssuerName: 'letsencrypt-prod',
  /** The guide: `limit_req_zone ... rate=10r/s` and `limit_req zone=api burst=20`. */
  apiRateLimit: { requestsPerSecond: 10, burst: 20 } as EdgeRateLimit,
  /**
   * The guide: `zone=login rate=1r/s` (no burst given). ingress-nginx cannot
   * express burst 0; 5 tolerates a retyped password while the app's own
   * login limit (RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS a minute) stops guessing.
   */
  loginRateLimit: { requestsPerSecond: 1, burst: 5 } as EdgeRateLimit,
  /** The guide sets none; nginx's 1m default refuses ordinary uploads. */
  maxBodySize: '10m',
  connectTimeoutSeconds: 5,
  /** The guide: `gzip_min_length 1024` (smaller responses gain little and cost a compressor). */
  gzipMinLength: 1024,
  /** The guide's `gzip_types` (nginx always adds text/html). */
  gzipTypes: ['text/plain', 'text/css', 'application/json', 'application/javascript', 'text/xml', 'application/xml', 'application/xml+rss', 'text/javascript'],
};

/** A Service port the edge sends traffic to, read from the HttpService routed to. */
export interface EdgeBackend {
  readonly serviceName: string;
  readonly port: number;
}

/** A validated route, its service resolved to the Service name and port. */
export interface ResolvedRoute extends Omit<EdgeRoute, 'backend'> {
  readonly backend: EdgeBackend;
  readonly staticAssets: boolean;
}

/** Validated routing settings with defaults applied. */
export interface ResolvedRouting {
  readonly name: string;
  readonly namespace: string;
  /** The routing table, longest path prefix first within a host. */
  readonly routes: ResolvedRoute[];
  /** Every host, in the order they first appear in the routes. */
  readonly allHosts: string[];
  readonly tlsSecretName: string;
  readonly clusterIssuerName: string;
  readonly requestTimeout: string;
  readonly requestTimeoutSeconds: number;
  readonly connectTimeoutSeconds: number;
  readonly securityHeaders: boolean;
  readonly paths: { api: string; login: string; assets: string };
  readonly labels: { [key: string]: string };
  /** Response headers of every route, and of the static assets (cache for a year). */
  readonly responseHeaders: { [name: string]: string };
  readonly assetHeaders: { [name: string]: string };
  readonly apiRateLimit: EdgeRateLimit;
  readonly loginRateLimit: EdgeRateLimit;
  /** nginx size syntax; '0' means no limit. */
  readonly maxBodySize: string;
  /** Trusted CDN ranges; empty without a CDN. */
  readonly cdnCidrs: string[];
  /** TLS versions, oldest and newest. */
  readonly tls: { minVersion: string; maxVersion: string };
}

export function resolveRouting(scope: Construct, props: EdgeRoutingProps): ResolvedRouting {
  const name = validateDnsLabel('name', props.name ?? EDGE_DEFAULTS.name, 40);
  const namespace = props.namespace ?? Chart.of(scope).namespace;
  if (!namespace) {
    throw new PropValidationError('namespace', namespace, 'a namespace: the chart has none, and ingress-nginx resolves ConfigMaps as namespace/name');
  }
  validateDnsLabel('namespace', namespace);
  const requestTimeout = props.requestTimeout ?? RuntimeDefaults.HTTP_TIMEOUT;
  const requestTimeoutSeconds = parseDurationSeconds('requestTimeout', requestTimeout);
  if (!Number.isInteger(requestTimeoutSeconds) || requestTimeoutSeconds < 1) {
    throw new PropValidationError('requestTimeout', requestTimeout, 'a whole number of seconds, at least 1s (nginx proxy timeouts are in seconds)');
  }
  const paths = {
    api: validateHttpPath('EdgeConventions.API_PATH_PREFIX', EdgeConventions.API_PATH_PREFIX),
    login: validateHttpPath('EdgeConventions.LOGIN_PATH', EdgeConventions.LOGIN_PATH),
    assets: validateHttpPath('EdgeConventions.STATIC_ASSETS_PATH', EdgeConventions.STATIC_ASSETS_PATH),
  };
  const apiRateLimit = validateRateLimit('apiRateLimit', props.apiRateLimit ?? EDGE_DEFAULTS.apiRateLimit);
  const loginRateLimit = validateRateLimit('loginRateLimit', props.loginRateLimit ?? EDGE_DEFAULTS.loginRateLimit);
  const routes = resolveRoutes(props, paths.api, apiRateLimit);
  const allHosts = [...new Set(routes.map(r => r.host))];
  const securityHeaders = props.securityHeaders ?? true;
  const responseHeaders: { [name: string]: string } = securityHeaders ? { ...SecurityHeaders.HEADERS } : {};
  return {
    name,
    namespace,
    routes,
    allHosts,
    tlsSecretName: validateDnsSubdomain('tlsSecretName', props.tlsSecretName ?? EDGE_DEFAULTS.tlsSecretName),
    clusterIssuerName: validateDnsSubdomain('clusterIssuerName', props.clusterIssuerName ?? EDGE_DEFAULTS.clusterIssuerName),
    requestTimeout,
    requestTimeoutSeconds,
    connectTimeoutSeconds: Math.min(EDGE_DEFAULTS.connectTimeoutSeconds, requestTimeoutSeconds),
    securityHeaders,
    paths,
    labels: { [Components.PART_OF_LABEL]: Components.PART_OF },
    responseHeaders,
    assetHeaders: { ...responseHeaders, 'Cache-Control': EdgeConventions.STATIC_ASSETS_CACHE_CONTROL },
    apiRateLimit,
    loginRateLimit,
    maxBodySize: validateNginxSize('maxBodySize', props.maxBodySize ?? EDGE_DEFAULTS.maxBodySize),
    cdnCidrs: resolveCdn(props),
    tls: validateTls(props.tls ?? {}),
  };
}

/** The routes as given, or the platform's layout from hosts, apiHosts, frontend and backend. */
function resolveRoutes(props: EdgeRoutingProps, apiPrefix: string, apiLimit: EdgeRateLimit): ResolvedRoute[] {
  let routes: Array<EdgeRoute & { prop: string }>;
  if (props.routes) {
    if (props.frontend || props.backend || props.hosts || props.apiHosts) {
      throw new PropValidationError('routes', '(set)', 'either routes or hosts/apiHosts/frontend/backend, not both');
    }
    routes = props.routes.map((r, i) => ({ ...r, prop: `routes[${i}]` }));
  } else {
    if (!props.frontend || !props.backend) {
      throw new PropValidationError(props.frontend ? 'backend' : 'frontend', undefined, 'an HttpService, or a routing table in `routes`');
    }
    const hosts = props.hosts ?? [EDGE_DEFAULTS.host];
    if (hosts.length === 0) throw new PropValidationError('hosts', hosts, 'at least one host');
    hosts.forEach((h, i) => validateDnsSubdomain(`hosts[${i}]`, h));
    (props.apiHosts ?? []).forEach((h, i) => validateDnsSubdomain(`apiHosts[${i}]`, h));
    const all = [...hosts, ...props.apiHosts ?? []];
    const duplicate = all.find((h, i) => all.indexOf(h) !== i);
    if (duplicate) throw new PropValidationError('hosts', duplicate, 'each host once across hosts and apiHosts');
    routes = [
      ...hosts.flatMap(host => [
        { backend: props.frontend!, host, pathPrefix: '/', staticAssets: true, prop: 'frontend' },
        { backend: props.backend!, host, pathPrefix: apiPrefix, rateLimit: apiLimit, prop: 'backend' },
      ]),
      ...(props.apiHosts ?? []).map(host => ({ backend: props.backend!, host, pathPrefix: '/', rateLimit: apiLimit, prop: 'backend' })),
    ];
  }
  if (routes.length === 0) throw new PropValidationError('routes', [], 'at least one route');
  const seen = new Map<string, string>();
  const out = routes.map(r => {
    const prop = r.prop;
    if (!r.backend) throw new PropValidationError(`${prop}.backend`, r.backend, 'an HttpService');
    const host = validateDnsSubdomain(prop.startsWith('routes') ? `${prop}.host` : 'hosts', r.host);
    const pathPrefix = validateHttpPath(`${prop}.pathPrefix`, r.pathPrefix);
    const key = `${host}${pathPrefix}`;
    if (seen.has(key)) {
      throw new PropValidationError(prop.startsWith('routes') ? prop : 'routes', key, `one route per host and path prefix (${seen.get(key)} already routes ${key})`);
    }
    seen.set(key, prop);
    const rateLimit = r.rateLimit ? validateRateLimit(`${prop}.rateLimit`, r.rateLimit) : undefined;
    const backend = { serviceName: r.backend.name, port: r.backend.servicePort };
    return { backend, host, pathPrefix, rateLimit, staticAssets: r.staticAssets ?? false };
  });
  // Longest prefix first: Ingress and HTTPRoute both prefer it, and the order makes output stable.
  return out.sort((a, b) => (a.host === b.host ? b.pathPrefix.length - a.pathPrefix.length : 0));
}

function resolveCdn(props: EdgeRoutingProps): string[] {
  if (!props.cdn) return [];
  const cidrs = props.cdn.cidrs ?? [];
  if (cidrs.length === 0) throw new PropValidationError('edge.cdn.cidrs', cidrs, 'at least one CIDR block the CDN connects from');
  return cidrs.map((c, i) => validateCidr(`edge.cdn.cidrs[${i}]`, c));
}

/** The route of `host` that serves `path` (longest matching prefix), if any. */
export function routeFor(routing: ResolvedRouting, host: string, path: string): ResolvedRoute | undefined {
  return routing.routes.filter(r => r.host === host && path.startsWith(r.pathPrefix))
    .sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)[0];
}

/** TLS 1.2 or 1.3 at both ends, the newest not older than the oldest. */
export function validateTls(tls: EdgeTlsOptions): { minVersion: string; maxVersion: string } {
  const minVersion = validateOneOf('tls.minVersion', tls.minVersion ?? '1.2', TLS_VERSIONS);
  const maxVersion = validateOneOf('tls.maxVersion', tls.maxVersion ?? '1.3', TLS_VERSIONS.filter(v => Number(v) >= Number(minVersion)));
  return { minVersion, maxVersion };
}

export function validateRateLimit(prop: string, limit: EdgeRateLimit): EdgeRateLimit {
  validateInteger(`${prop}.requestsPerSecond`, limit.requestsPerSecond, 1, 10_000);
  validateInteger(`${prop}.burst`, limit.burst, limit.requestsPerSecond, 100_000);
  if (limit.burst % limit.requestsPerSecond !== 0) {
    throw new PropValidationError(`${prop}.burst`, limit.burst, `a multiple of requestsPerSecond (${limit.requestsPerSecond}): ingress-nginx sets burst as limit-burst-multiplier x limit-rps`);
  }
  return limit;
}

/** nginx size syntax as a Kubernetes quantity ('10m' -> '10Mi'), or undefined for '0' (no limit). */
export function nginxSizeToQuantity(size: string): string | undefined {
  const m = /^([0-9]+)([kKmMgG]?)$/.exec(size);
  if (!m || Number(m[1]) === 0) return undefined;
  return `${m[1]}${{ '': '', 'k': 'Ki', 'm': 'Mi', 'g': 'Gi' }[m[2].toLowerCase()]}`;
}
