import { HttpService } from '../workload/http-service';

/** One more path the edge sends to a service, besides the site and the API. */
export interface EdgeServiceRoute {
  /** The service routed to (its HTTP Service port). */
  readonly service: HttpService;
  /** Path prefix, such as `/reports/`. */
  readonly pathPrefix: string;
  /**
   * Host the path is routed on; one of `hosts` or `apiHosts`.
   * @default - every host in `hosts`
   */
  readonly host?: string;
}

/** A per-client request rate limit enforced at the edge. */
export interface EdgeRateLimit {
  /** Sustained requests per second per client IP. */
  readonly requestsPerSecond: number;
  /**
   * Requests a client may send at once above the sustained rate (nginx
   * `limit_req burst`, served without delay). Must be a whole multiple of
   * `requestsPerSecond`: ingress-nginx expresses it as a multiplier.
   */
  readonly burst: number;
}

/** Routing settings shared by every edge implementation (Ingress or Gateway API). */
export interface EdgeRoutingOptions {
  /**
   * Prefix of every object name the edge creates.
   * @default 'rauli-vision'
   */
  readonly name?: string;
  /**
   * Public hosts serving the frontend at `/` and the API at `/api/`.
   * @default ['rauli-vision.com']
   */
  readonly hosts?: string[];
  /**
   * Hosts dedicated to the API (such as `api.rauli-vision.com`): every path goes to the backend.
   * @default - none
   */
  readonly apiHosts?: string[];
  /**
   * Secret holding the TLS certificate for all hosts; cert-manager creates and renews it.
   * @default 'rauli-vision-tls'
   */
  readonly tlsSecretName?: string;
  /**
   * ClusterIssuer cert-manager uses to issue the certificate.
   * @default 'letsencrypt-prod'
   */
  readonly clusterIssuerName?: string;
  /**
   * Upper bound on one proxied request (read and send timeouts at the edge).
   * @default RuntimeDefaults.HTTP_TIMEOUT ('30s')
   */
  readonly requestTimeout?: string;
  /**
   * Set the shared security headers at the edge as well as in the app.
   * @default true
   */
  readonly securityHeaders?: boolean;
  /**
   * Namespace of the edge objects and of the Services (ingress-nginx resolves
   * the custom-headers ConfigMap by `namespace/name`).
   * @default - the chart's namespace; required when the chart has none
   */
  readonly namespace?: string;
}

/** Routing settings plus the services routed to. */
export interface EdgeRoutingProps extends EdgeRoutingOptions {
  /** The site (the React frontend): serves `/` and the static assets. */
  readonly frontend: HttpService;
  /** The API (the Go backend): serves `/api/` (and `/` on the API hosts). */
  readonly backend: HttpService;
  /**
   * More path prefixes routed to other services.
   * @default - none
   */
  readonly routes?: EdgeServiceRoute[];
}
