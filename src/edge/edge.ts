import { Construct } from 'constructs';
import { ClientTrust } from './client-trust';
import { LetsEncryptClusterIssuer } from './cluster-issuer';
import { EdgeGateway } from './gateway';
import { EdgeGatewayClass } from './gateway-class';
import { EdgeIngress } from './ingress';
import { EdgeRoutingOptions } from './routing';
import { HttpService } from '../workload/http-service';

/** Which edge implementation routes traffic into the cluster. */
export enum EdgeKind {
  /** ingress-nginx Ingresses (retired upstream in March 2026: no more security fixes). */
  INGRESS_NGINX = 'ingress-nginx',
  /** Gateway API Gateway + HTTPRoutes on Envoy Gateway, the maintained path. */
  GATEWAY_API = 'gateway-api',
}

/** Settings of {@link Edge} (everything but the Services routed to). */
export interface EdgeOptions extends EdgeRoutingOptions {
  /**
   * Edge implementation.
   * @default EdgeKind.GATEWAY_API
   */
  readonly kind?: EdgeKind;
  /**
   * Emit the cert-manager ClusterIssuer. It is cluster-scoped: when several
   * environments share a cluster, let only one of them create it.
   * @default true
   */
  readonly createClusterIssuer?: boolean;
  /**
   * ACME account e-mail of the ClusterIssuer.
   * @default 'platform@rauli-vision.com'
   */
  readonly acmeEmail?: string;
  /**
   * ACME directory of the ClusterIssuer.
   * @default LetsEncryptClusterIssuer.PRODUCTION_SERVER
   */
  readonly acmeServer?: string;
  /**
   * IngressClass (ingress-nginx only).
   * @default 'nginx'
   */
  readonly ingressClassName?: string;
  /**
   * Namespace the ingress-nginx controller runs in (ingress-nginx only): network policies admit traffic from it.
   * @default 'ingress-nginx'
   */
  readonly ingressControllerNamespace?: string;
  /**
   * Extra annotations of the Ingress that owns the certificate (ingress-nginx only).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * GatewayClass (Gateway API only).
   * @default EdgeGatewayClass.envoy()
   */
  readonly gatewayClass?: EdgeGatewayClass;
}

/** Props of {@link Edge}. */
export interface EdgeProps extends EdgeOptions {
  /**
   * The site (the React frontend): serves `/` and the static assets.
   * @default - required unless `routes` is set
   */
  readonly frontend?: HttpService;
  /**
   * The API (the Go backend): serves `/api/` (and `/` on the API hosts).
   * @default - required unless `routes` is set
   */
  readonly backend?: HttpService;
}

/**
 * The public edge of one environment: TLS from Let's Encrypt through
 * cert-manager and the routing table, on Gateway API with Envoy Gateway (the
 * default) or on ingress-nginx.
 */
export class Edge extends Construct {
  /** Namespace the ingress-nginx controller runs in by default (its Helm chart's usual release namespace). */
  public static readonly INGRESS_NGINX_NAMESPACE = 'ingress-nginx';

  /**
   * The environment of a service an edge with `options` routes to: the
   * proxies it believes about its clients (`ClientTrust.behindEdge`) and, while
   * the edge sets the security headers, `SECURITY_HEADERS=edge`. The edge
   * replaces those headers on every response it forwards, so the service's own
   * copies would be work that no browser sees.
   */
  public static routedServiceEnv(options: EdgeOptions): { [name: string]: string } {
    return {
      ...ClientTrust.behindEdge(options).env,
      ...(options.securityHeaders ?? true) ? { SECURITY_HEADERS: 'edge' } : {},
    };
  }

  /** The implementation in use. */
  public readonly kind: EdgeKind;
  /** The Ingresses, with EdgeKind.INGRESS_NGINX. */
  public readonly ingress?: EdgeIngress;
  /** The Gateway, routes and policies, with EdgeKind.GATEWAY_API. */
  public readonly gateway?: EdgeGateway;
  /** The ClusterIssuer, unless `createClusterIssuer` is false. */
  public readonly clusterIssuer?: LetsEncryptClusterIssuer;
  /** Hosts served. */
  public readonly hosts: string[];
  /** Namespace the edge's proxies run in: traffic into the application arrives from there. */
  public readonly proxyNamespace: string;
  /** What the services it routes to believe about their clients' addresses (its proxies and the CDN). */
  public readonly clientTrust: ClientTrust;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    this.kind = props.kind ?? EdgeKind.GATEWAY_API;
    this.clientTrust = ClientTrust.behindEdge(props);
    if (this.kind === EdgeKind.GATEWAY_API) {
      this.gateway = new EdgeGateway(this, 'Gateway', props);
      this.hosts = this.gateway.hosts;
      this.proxyNamespace = this.gateway.gatewayClass.proxyNamespace;
    } else {
      this.ingress = new EdgeIngress(this, 'Ingress', { ...props, className: props.ingressClassName });
      this.hosts = this.ingress.hosts;
      this.proxyNamespace = props.ingressControllerNamespace ?? Edge.INGRESS_NGINX_NAMESPACE;
    }
    if (props.createClusterIssuer ?? true) {
      this.clusterIssuer = new LetsEncryptClusterIssuer(this, 'ClusterIssuer', {
        name: props.clusterIssuerName,
        email: props.acmeEmail,
        server: props.acmeServer,
        http01IngressClassName: props.ingressClassName,
        http01Gateway: this.gateway && {
          name: this.gateway.gatewayName,
          namespace: this.gateway.gatewayNamespace,
          sectionName: this.gateway.httpListenerName,
        },
      });
    }
  }
}
