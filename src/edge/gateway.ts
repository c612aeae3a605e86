import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { validateDnsSubdomain } from '../core/validate';
import { EdgeBackend, resolveRouting } from './private/routing';
import { EdgeRoutingProps } from './routing';

/** Props of {@link EdgeGateway}. */
export interface EdgeGatewayProps extends EdgeRoutingProps {
  /**
   * GatewayClass of the installed Gateway API implementation.
   * @default 'nginx' (NGINX Gateway Fabric, the usual successor of ingress-nginx)
   */
  readonly gatewayClassName?: string;
}

/** Name of the plain-HTTP listener (redirects, and cert-manager's HTTP-01 challenges). */
const HTTP_LISTENER = 'http';

/**
 * The same edge as {@link EdgeIngress} on Gateway API (`gateway.networking.k8s.io/v1`):
 * a Gateway with one HTTPS listener per host (cert-manager's gateway-shim
 * issues one certificate for all listeners naming the same secret; cert-manager
 * needs `--enable-gateway-api`), an HTTPRoute redirecting HTTP to HTTPS, and
 * HTTPRoutes with the same paths: `/` and `/assets/` -> frontend, `/api/` and the
 * login path -> backend, `/` -> backend on the API hosts. Security headers and
 * the assets' Cache-Control are ResponseHeaderModifier filters.
 *
 * Not portable in the standard API: per-client rate limits and the body-size
 * limit. Use the implementation's policy resources for them; the app's own
 * Redis rate limiter applies either way.
 */
export class EdgeGateway extends Construct {
  /** Name of the Gateway. */
  public readonly gatewayName: string;
  /** Namespace of the Gateway. */
  public readonly gatewayNamespace: string;
  /** Listener for plain HTTP (cert-manager's HTTP-01 solver attaches its routes here). */
  public readonly httpListenerName: string = HTTP_LISTENER;
  /** The Gateway (escape hatch). */
  public readonly gateway: ApiObject;
  /** The HTTPRoutes by role: redirect, web, api (present only with API hosts), and each extra route by its service's name. */
  public readonly routes: { [role: string]: ApiObject };
  /** Hosts served, frontend hosts first. */
  public readonly hosts: string[];

  constructor(scope: Construct, id: string, props: EdgeGatewayProps) {
    super(scope, id);
    const r = resolveRouting(this, props);
    const gatewayClassName = validateDnsSubdomain('gatewayClassName', props.gatewayClassName ?? 'nginx');
    this.gatewayName = r.name;
    this.gatewayNamespace = r.namespace;
    this.hosts = r.allHosts;
    const listenerOf = (host: string) => `https-${r.allHosts.indexOf(host)}`;

    this.gateway = new ApiObject(this, 'Gateway', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: {
        name: r.name,
        namespace: props.namespace,
        labels: r.labels,
        annotations: { 'cert-manager.io/cluster-issuer': r.clusterIssuerName },
      },
      spec: {
        gatewayClassName,
        listeners: [
          { name: HTTP_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } },
          ...r.allHosts.map(host => ({
            name: listenerOf(host),
            hostname: host,
            protocol: 'HTTPS',
            port: 443,
            tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', group: '', name: r.tlsSecretName }] },
            allowedRoutes: { namespaces: { from: 'Same' } },
          })),
        ],
      },
    });

    const parentRefs = (hosts: string[]) => hosts.map(h => ({ name: r.name, sectionName: listenerOf(h) }));
    const headers = (set: { [name: string]: string }) => Object.keys(set).length === 0 ? undefined : [{
      type: 'ResponseHeaderModifier',
      responseHeaderModifier: { set: Object.entries(set).map(([name, value]) => ({ name, value })) },
    }];
    const to = (b: EdgeBackend) => [{ name: b.serviceName, port: b.port }];
    const timeouts = { request: r.requestTimeout };
    const route = (role: string, spec: object) => new ApiObject(this, `${role}-route`, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `${r.name}-${role}`, namespace: props.namespace, labels: r.labels },
      spec,
    });

    this.routes = {
      redirect: route('redirect', {
        parentRefs: [{ name: r.name, sectionName: HTTP_LISTENER }],
        hostnames: r.allHosts,
        rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
      }),
      web: route('web', {
        parentRefs: parentRefs(r.hosts),
        hostnames: r.hosts,
        rules: [
          { matches: [{ path: { type: 'Exact', value: r.paths.login } }], backendRefs: to(r.backend), filters: headers(r.responseHeaders), timeouts },
          { matches: [{ path: { type: 'PathPrefix', value: r.paths.api } }], backendRefs: to(r.backend), filters: headers(r.responseHeaders), timeouts },
          { matches: [{ path: { type: 'PathPrefix', value: r.paths.assets } }], backendRefs: to(r.frontend), filters: headers(r.assetHeaders), timeouts },
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to(r.frontend), filters: headers(r.responseHeaders), timeouts },
        ],
      }),
    };
    if (r.apiHosts.length > 0) {
      this.routes.api = route('api', {
        parentRefs: parentRefs(r.apiHosts),
        hostnames: r.apiHosts,
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to(r.backend), filters: headers(r.responseHeaders), timeouts }],
      });
    }
    // One HTTPRoute per extra route (hostnames are per HTTPRoute): Gateway API ranks
    // the longest prefix first across the routes of a listener.
    r.routes.forEach((extra, i) => {
      const earlier = r.routes.slice(0, i).filter(x => x.name === extra.name).length;
      const role = earlier ? `${extra.name}-${earlier + 1}` : extra.name;
      this.routes[role] = route(role, {
        parentRefs: parentRefs(extra.hosts),
        hostnames: extra.hosts,
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: extra.pathPrefix } }], backendRefs: to(extra.backend), filters: headers(r.responseHeaders), timeouts }],
      });
    });
  }
}
