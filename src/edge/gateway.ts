import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { EdgeBackendTrafficPolicy, EdgePathRateLimit } from './backend-traffic-policy';
import { EdgeClientTrafficPolicy } from './client-traffic-policy';
import { EdgeGatewayClass } from './gateway-class';
import { EDGE_DEFAULTS, ResolvedRoute, ResolvedRouting, nginxSizeToQuantity, resolveRouting, routeFor } from './private/routing';
import { EdgeRoutingProps } from './routing';

/** Props of {@link EdgeGateway}. */
export interface EdgeGatewayProps extends EdgeRoutingProps {
  /**
   * GatewayClass of the installed Gateway API implementation.
   * @default EdgeGatewayClass.envoy() (created with the edge)
   */
  readonly gatewayClass?: EdgeGatewayClass;
}

/** Name of the plain-HTTP listener (redirects, and cert-manager's HTTP-01 challenges). */
const HTTP_LISTENER = 'http';

/** One HTTPRoute: the hosts that share the same rules. */
interface RouteGroup {
  readonly role: string;
  readonly hosts: string[];
  readonly routes: ResolvedRoute[];
}

/**
 * The edge on Gateway API (`gateway.networking.k8s.io/v1`) implemented by
 * Envoy Gateway:
 * - a Gateway with one HTTPS listener per host on the cert-manager secret
 *   (cert-manager's gateway-shim issues one certificate for all listeners
 *   naming it; cert-manager needs `--enable-gateway-api`), and a plain-HTTP
 *   listener whose only route redirects to HTTPS;
 * - HTTPRoutes from the routing table, one per set of hosts with the same
 *   routes, with the security headers (and the assets' Cache-Control) as
 *   ResponseHeaderModifier filters and the request timeout;
 * - a ClientTrafficPolicy (TLS versions, HTTP/2, client address, client
 *   timeouts) and one BackendTrafficPolicy per HTTPRoute (balancing, passive
 *   health checks, connection reuse, gzip, rate limits, body size).
 *
 * docs/edge.md maps every directive of the guide's nginx.conf onto these fields.
 */
export class EdgeGateway extends Construct {
  /** Listener of one host: named after it, so templates need no index. */
  public static listenerName(host: string): string {
    return `https-${host}`;
  }

  /** Name of the Gateway. */
  public readonly gatewayName: string;
  /** Namespace of the Gateway. */
  public readonly gatewayNamespace: string;
  /** Listener for plain HTTP (cert-manager's HTTP-01 solver attaches its routes here). */
  public readonly httpListenerName: string = HTTP_LISTENER;
  /** The GatewayClass in use. */
  public readonly gatewayClass: EdgeGatewayClass;
  /** The Gateway (escape hatch). */
  public readonly gateway: ApiObject;
  /** The HTTPRoutes by role: redirect, then web, api (or web-1, ... for further host groups). */
  public readonly routes: { [role: string]: ApiObject };
  /** The ClientTrafficPolicy of the Gateway. */
  public readonly clientTrafficPolicy: EdgeClientTrafficPolicy;
  /** The BackendTrafficPolicies by route role. */
  public readonly backendTrafficPolicies: { [role: string]: EdgeBackendTrafficPolicy };
  /** Hosts served, in routing-table order. */
  public readonly hosts: string[];

  constructor(scope: Construct, id: string, props: EdgeGatewayProps) {
    super(scope, id);
    const r = resolveRouting(this, props);
    this.gatewayClass = props.gatewayClass ?? EdgeGatewayClass.envoy();
    this.gatewayName = r.name;
    this.gatewayNamespace = r.namespace;
    this.hosts = r.allHosts;
    if (this.gatewayClass.create) this.buildGatewayClass(r);
    this.gateway = this.buildGateway(r);
    this.clientTrafficPolicy = new EdgeClientTrafficPolicy(this, 'ClientTrafficPolicy', {
      name: r.name,
      namespace: r.namespace,
      gatewayName: r.name,
      tlsMinVersion: r.tls.minVersion,
      tlsMaxVersion: r.tls.maxVersion,
      trustedCidrs: r.cdnCidrs,
      labels: r.labels,
    });
    this.routes = { redirect: this.buildRedirect(r) };
    this.backendTrafficPolicies = {};
    for (const group of groupRoutes(r)) {
      const route = this.buildRoute(r, group);
      this.routes[group.role] = route;
      this.backendTrafficPolicies[group.role] = new EdgeBackendTrafficPolicy(this, `${group.role}-policy`, {
        name: route.name,
        namespace: r.namespace,
        routeName: route.name,
        rateLimits: rateLimitsOf(r, group),
        maxBodySize: nginxSizeToQuantity(r.maxBodySize),
        connectTimeoutSeconds: r.connectTimeoutSeconds,
        gzipMinLength: EDGE_DEFAULTS.gzipMinLength,
        labels: r.labels,
      });
    }
  }

  private buildGatewayClass(r: ResolvedRouting): ApiObject {
    const gc = new ApiObject(this, 'GatewayClass', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: this.gatewayClass.name, labels: r.labels },
      spec: { controllerName: EdgeGatewayClass.ENVOY_CONTROLLER },
    });
    // Cluster-scoped: the API server rejects the namespace cdk8s stamps on every object.
    if (Chart.of(this).namespace) gc.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    return gc;
  }

  private buildGateway(r: ResolvedRouting): ApiObject {
    return new ApiObject(this, 'Gateway', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: {
        name: r.name,
        namespace: r.namespace,
        labels: r.labels,
        annotations: { 'cert-manager.io/cluster-issuer': r.clusterIssuerName },
      },
      spec: {
        gatewayClassName: this.gatewayClass.name,
        listeners: [
          { name: HTTP_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } },
          ...r.allHosts.map(host => ({
            name: EdgeGateway.listenerName(host),
            hostname: host,
            protocol: 'HTTPS',
            port: 443,
            tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', group: '', name: r.tlsSecretName }] },
            allowedRoutes: { namespaces: { from: 'Same' } },
          })),
        ],
      },
    });
  }

  private httpRoute(r: ResolvedRouting, role: string, spec: object): ApiObject {
    return new ApiObject(this, `${role}-route`, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `${r.name}-${role}`, namespace: r.namespace, labels: r.labels },
      spec,
    });
  }

  private buildRedirect(r: ResolvedRouting): ApiObject {
    return this.httpRoute(r, 'redirect', {
      parentRefs: [{ name: r.name, sectionName: HTTP_LISTENER }],
      hostnames: r.allHosts,
      rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
    });
  }

  private buildRoute(r: ResolvedRouting, group: RouteGroup): ApiObject {
    const headers = (set: { [name: string]: string }) => Object.keys(set).length === 0 ? undefined : [{
      type: 'ResponseHeaderModifier',
      responseHeaderModifier: { set: Object.entries(set).map(([name, value]) => ({ name, value })) },
    }];
    const rule = (pathPrefix: string, route: ResolvedRoute, set: { [name: string]: string }) => ({
      matches: [{ path: { type: 'PathPrefix', value: pathPrefix } }],
      backendRefs: [{ name: route.backend.serviceName, port: route.backend.port }],
      filters: headers(set),
      timeouts: { request: r.requestTimeout },
    });
    const host = group.hosts[0];
    const assets = routeFor(r, host, r.paths.assets);
    const rules = [
      ...group.routes.map(route => ({ prefix: route.pathPrefix, rule: rule(route.pathPrefix, route, r.responseHeaders) })),
      ...(assets?.staticAssets && assets.pathPrefix !== r.paths.assets
        ? [{ prefix: r.paths.assets, rule: rule(r.paths.assets, assets, r.assetHeaders) }] : []),
    ].sort((a, b) => b.prefix.length - a.prefix.length).map(x => x.rule);
    return this.httpRoute(r, group.role, {
      parentRefs: group.hosts.map(h => ({ name: r.name, sectionName: EdgeGateway.listenerName(h) })),
      hostnames: group.hosts,
      rules,
    });
  }
}

/**
 * Hosts with the same routes share one HTTPRoute (and so one policy). The
 * first group is `web`; a group whose every route is rate limited is `api`.
 */
function groupRoutes(r: ResolvedRouting): RouteGroup[] {
  const signature = (routes: ResolvedRoute[]) => JSON.stringify(routes.map(x => [x.pathPrefix, x.backend, x.rateLimit, x.staticAssets]));
  const byHost = new Map<string, ResolvedRoute[]>();
  for (const route of r.routes) byHost.set(route.host, [...byHost.get(route.host) ?? [], route]);
  const groups = new Map<string, { hosts: string[]; routes: ResolvedRoute[] }>();
  for (const [host, routes] of byHost) {
    const sig = signature(routes);
    const g = groups.get(sig) ?? { hosts: [], routes };
    g.hosts.push(host);
    groups.set(sig, g);
  }
  const used = new Set<string>();
  return [...groups.values()].map(g => {
    const base = g.routes.every(x => x.rateLimit) ? 'api' : 'web';
    let role = base;
    for (let i = 1; used.has(role); i++) role = `${base}-${i}`;
    used.add(role);
    return { role, ...g };
  });
}

/** The group's rate-limited routes, and the login path where a rate-limited (API) route serves it. */
function rateLimitsOf(r: ResolvedRouting, group: RouteGroup): EdgePathRateLimit[] {
  const limits: EdgePathRateLimit[] = group.routes.filter(x => x.rateLimit)
    .map(x => ({ path: x.pathPrefix, requestsPerSecond: x.rateLimit!.requestsPerSecond }));
  if (routeFor(r, group.hosts[0], r.paths.login)?.rateLimit) {
    limits.push({ path: r.paths.login, exact: true, requestsPerSecond: r.loginRateLimit.requestsPerSecond });
  }
  return limits;
}
