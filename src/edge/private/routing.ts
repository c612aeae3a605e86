import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Components, EdgeConventions, RuntimeDefaults, SecurityHeaders } from '../../conventions';
import {
  PropValidationError, parseDurationSeconds, validateDnsLabel, validateDnsSubdomain, validateHttpPath, validateInteger,
} from '../../core/validate';
import { HttpService } from '../../workload/http-service';
import { EdgeRateLimit, EdgeRoutingProps } from '../routing';

/** Defaults of the edge, from the seed's nginx configuration. */
export const EDGE_DEFAULTS = {
  name: 'rauli-vision',
  host: 'rauli-vision.com',
  tlsSecretName: 'rauli-vision-tls',
  clusterIssuerName: 'letsencrypt-prod',
  /** The seed: `limit_req_zone ... rate=10r/s` and `limit_req zone=api burst=20`. */
  apiRateLimit: { requestsPerSecond: 10, burst: 20 } as EdgeRateLimit,
  /**
   * The seed: `zone=login rate=1r/s` (no burst given). ingress-nginx cannot
   * express burst 0; 5 tolerates a retyped password while the app's own
   * login limit (RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS a minute) stops guessing.
   */
  loginRateLimit: { requestsPerSecond: 1, burst: 5 } as EdgeRateLimit,
  /** The seed sets none; nginx's 1m default refuses ordinary uploads. */
  maxBodySize: '10m',
  connectTimeoutSeconds: 5,
};

/** A Service port the edge sends traffic to. */
export interface EdgeBackend {
  readonly serviceName: string;
  readonly port: number;
}

/** An extra path route, resolved: the hosts it is served on. */
export interface ResolvedRoute {
  /** Short name of the route (the service's name), for object names. */
  readonly name: string;
  readonly backend: EdgeBackend;
  readonly pathPrefix: string;
  readonly hosts: string[];
}

/** Validated routing settings with defaults applied. */
export interface ResolvedRouting {
  readonly name: string;
  readonly namespace: string;
  readonly frontend: EdgeBackend;
  readonly backend: EdgeBackend;
  readonly routes: ResolvedRoute[];
  readonly hosts: string[];
  readonly apiHosts: string[];
  readonly allHosts: string[];
  readonly tlsSecretName: string;
  readonly clusterIssuerName: string;
  readonly requestTimeout: string;
  readonly requestTimeoutSeconds: number;
  readonly securityHeaders: boolean;
  readonly paths: { api: string; login: string; assets: string };
  readonly labels: { [key: string]: string };
  /** Response headers of every route, and of the static assets (cache for a year). */
  readonly responseHeaders: { [name: string]: string };
  readonly assetHeaders: { [name: string]: string };
}

export function resolveRouting(scope: Construct, props: EdgeRoutingProps): ResolvedRouting {
  const name = validateDnsLabel('name', props.name ?? EDGE_DEFAULTS.name, 40);
  const namespace = props.namespace ?? Chart.of(scope).namespace;
  if (!namespace) {
    throw new PropValidationError('namespace', namespace, 'a namespace: the chart has none, and ingress-nginx resolves ConfigMaps as namespace/name');
  }
  validateDnsLabel('namespace', namespace);
  const hosts = (props.hosts ?? [EDGE_DEFAULTS.host]).map((h, i) => validateDnsSubdomain(`hosts[${i}]`, h));
  const apiHosts = (props.apiHosts ?? []).map((h, i) => validateDnsSubdomain(`apiHosts[${i}]`, h));
  if (hosts.length === 0) throw new PropValidationError('hosts', hosts, 'at least one host');
  const allHosts = [...hosts, ...apiHosts];
  const duplicate = allHosts.find((h, i) => allHosts.indexOf(h) !== i);
  if (duplicate) throw new PropValidationError('hosts', duplicate, 'each host once across hosts and apiHosts');
  const requestTimeout = props.requestTimeout ?? RuntimeDefaults.HTTP_TIMEOUT;
  const requestTimeoutSeconds = parseDurationSeconds('requestTimeout', requestTimeout);
  if (!Number.isInteger(requestTimeoutSeconds) || requestTimeoutSeconds < 1) {
    throw new PropValidationError('requestTimeout', requestTimeout, 'a whole number of seconds, at least 1s (nginx proxy timeouts are in seconds)');
  }
  const securityHeaders = props.securityHeaders ?? true;
  const responseHeaders: { [name: string]: string } = securityHeaders ? { ...SecurityHeaders.HEADERS } : {};
  return {
    name,
    namespace,
    frontend: backendOf(props.frontend),
    backend: backendOf(props.backend),
    routes: resolveRoutes(props, hosts, allHosts),
    hosts,
    apiHosts,
    allHosts,
    tlsSecretName: validateDnsSubdomain('tlsSecretName', props.tlsSecretName ?? EDGE_DEFAULTS.tlsSecretName),
    clusterIssuerName: validateDnsSubdomain('clusterIssuerName', props.clusterIssuerName ?? EDGE_DEFAULTS.clusterIssuerName),
    requestTimeout,
    requestTimeoutSeconds,
    securityHeaders,
    paths: {
      api: validateHttpPath('EdgeConventions.API_PATH_PREFIX', EdgeConventions.API_PATH_PREFIX),
      login: validateHttpPath('EdgeConventions.LOGIN_PATH', EdgeConventions.LOGIN_PATH),
      assets: validateHttpPath('EdgeConventions.STATIC_ASSETS_PATH', EdgeConventions.STATIC_ASSETS_PATH),
    },
    labels: { [Components.PART_OF_LABEL]: Components.PART_OF },
    responseHeaders,
    assetHeaders: { ...responseHeaders, 'Cache-Control': EdgeConventions.STATIC_ASSETS_CACHE_CONTROL },
  };
}

export function validateRateLimit(prop: string, limit: EdgeRateLimit): EdgeRateLimit {
  validateInteger(`${prop}.requestsPerSecond`, limit.requestsPerSecond, 1, 10_000);
  validateInteger(`${prop}.burst`, limit.burst, limit.requestsPerSecond, 100_000);
  if (limit.burst % limit.requestsPerSecond !== 0) {
    throw new PropValidationError(`${prop}.burst`, limit.burst, `a multiple of requestsPerSecond (${limit.requestsPerSecond}): ingress-nginx sets burst as limit-burst-multiplier x limit-rps`);
  }
  return limit;
}

function backendOf(service: HttpService): EdgeBackend {
  return { serviceName: service.name, port: service.servicePort };
}

function resolveRoutes(props: EdgeRoutingProps, hosts: string[], allHosts: string[]): ResolvedRoute[] {
  const seen = new Set<string>();
  return (props.routes ?? []).map((route, i) => {
    const pathPrefix = validateHttpPath(`routes[${i}].pathPrefix`, route.pathPrefix);
    const reserved = ['/', EdgeConventions.API_PATH_PREFIX, EdgeConventions.LOGIN_PATH, EdgeConventions.STATIC_ASSETS_PATH];
    if (reserved.includes(pathPrefix)) {
      throw new PropValidationError(`routes[${i}].pathPrefix`, pathPrefix, `a path the site and the API do not use (not ${reserved.join(', ')})`);
    }
    if (route.host !== undefined && !allHosts.includes(route.host)) {
      throw new PropValidationError(`routes[${i}].host`, route.host, `one of the edge's hosts (${allHosts.join(', ')}): the certificate covers only those`);
    }
    if (['web', 'api', 'login', 'assets', 'redirect'].includes(route.service.name)) {
      throw new PropValidationError(`routes[${i}].service`, route.service.name, 'a service not named web, api, login, assets or redirect (the edge\'s own routes are named so)');
    }
    const routeHosts = route.host !== undefined ? [route.host] : hosts;
    for (const h of routeHosts) {
      if (seen.has(`${h}${pathPrefix}`)) throw new PropValidationError(`routes[${i}]`, `${h}${pathPrefix}`, 'a host and path no other route has');
      seen.add(`${h}${pathPrefix}`);
    }
    return { name: route.service.name, backend: backendOf(route.service), pathPrefix, hosts: routeHosts };
  });
}
