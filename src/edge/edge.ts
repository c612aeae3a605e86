import { Construct } from 'constructs';
import { ClientTrust, ClientTrustOptions } from './client-trust';
import { LetsEncryptClusterIssuer } from './cluster-issuer';
import { EdgeGateway } from './gateway';
import { EdgeIngress } from './ingress';
import { EdgeRateLimit, EdgeRoutingOptions, EdgeServiceRoute } from './routing';
import { HttpService } from '../workload/http-service';

/** Which edge implementation routes traffic into the cluster. */
export enum EdgeKind {
  /** ingress-nginx Ingresses (retired upstream in March 2026: no more security fixes). */
  INGRESS_NGINX = 'ingress-nginx',
  /** Gateway API Gateway + HTTPRoutes, the maintained path. */
  GATEWAY_API = 'gateway-api',
}

/** Settings of {@link Edge} (everything but the Services routed to). */
export interface EdgeOptions extends EdgeRoutingOptions, ClientTrustOptions {
  /**
   * Edge implementation.
   * @default EdgeKind.INGRESS_NGINX
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
   * API rate limit (ingress-nginx only).
   * @default 10 requests/s, burst 20
   */
  readonly apiRateLimit?: EdgeRateLimit;
  /**
   * Login rate limit (ingress-nginx only).
   * @default 1 request/s, burst 5
   */
  readonly loginRateLimit?: EdgeRateLimit;
  /**
   * Largest request body (ingress-nginx only).
   * @default '10m'
   */
  readonly maxBodySize?: string;
  /**
   * Extra annotations of the Ingress that owns the certificate (ingress-nginx only).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * GatewayClass (Gateway API only).
   * @default 'nginx'
   */
  readonly gatewayClassName?: string;
}

/** Props of {@link Edge}. */
export interface EdgeProps extends EdgeOptions {
  /** The site (the React frontend): serves `/` and the static assets. */
  readonly frontend: HttpService;
  /** The API (the Go backend): serves `/api/` (and `/` on the API hosts). */
  readonly backend: HttpService;
  /**
   * More path prefixes routed to other services (API rate limit and security headers apply).
   * @default - none
   */
  readonly routes?: EdgeServiceRoute[];
}

/**
 * The public edge of one environment: TLS from Let's Encrypt through
 * cert-manager, `/` to the frontend, `/api/` to the Go backend, on
 * ingress-nginx or on Gateway API.
 */
export class Edge extends Construct {
  /** The implementation in use. */
  public readonly kind: EdgeKind;
  /** The Ingresses, with EdgeKind.INGRESS_NGINX. */
  public readonly ingress?: EdgeIngress;
  /** The Gateway and routes, with EdgeKind.GATEWAY_API. */
  public readonly gateway?: EdgeGateway;
  /** The ClusterIssuer, unless `createClusterIssuer` is false. */
  public readonly clusterIssuer?: LetsEncryptClusterIssuer;
  /** Hosts served. */
  public readonly hosts: string[];
  /** What the services it routes to believe about their clients' addresses (its proxies and the CDN). */
  public readonly clientTrust: ClientTrust;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    this.kind = props.kind ?? EdgeKind.INGRESS_NGINX;
    this.clientTrust = ClientTrust.behindEdge(props);
    if (this.kind === EdgeKind.GATEWAY_API) {
      this.gateway = new EdgeGateway(this, 'Gateway', { ...props, gatewayClassName: props.gatewayClassName });
      this.hosts = this.gateway.hosts;
    } else {
      this.ingress = new EdgeIngress(this, 'Ingress', { ...props, className: props.ingressClassName });
      this.hosts = this.ingress.hosts;
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
