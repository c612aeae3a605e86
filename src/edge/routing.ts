import { ClientTrustOptions } from './client-trust';
import { HttpService } from '../workload/http-service';

/**
 * One entry of the edge's routing table: requests for `host` whose path starts
 * with `pathPrefix` go to `backend`. The shape of a service catalog entry, so a
 * catalog maps onto it one to one.
 */
export interface EdgeRoute {
  /** The service that serves the route (the edge sends to its HTTP Service port). */
  readonly backend: HttpService;
  /** Public host name. */
  readonly host: string;
  /** Path prefix, such as `/` or `/api/`. */
  readonly pathPrefix: string;
  /**
   * Per-client limit on this route.
   * @default - none (the API prefix and the login path keep their own limits)
   */
  readonly rateLimit?: EdgeRateLimit;
  /**
   * The backend serves content-hashed build output under
   * EdgeConventions.STATIC_ASSETS_PATH: the edge marks it cacheable for a year, immutable.
   * @default false
   */
  readonly staticAssets?: boolean;
}

/** TLS protocol versions the edge negotiates with clients. */
export interface EdgeTlsOptions {
  /**
   * Oldest version accepted: '1.2' or '1.3' (1.0 and 1.1 are deprecated by RFC 8996).
   * @default '1.2'
   */
  readonly minVersion?: string;
  /**
   * Newest version accepted: '1.2' or '1.3'.
   * @default '1.3'
   */
  readonly maxVersion?: string;
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
export interface EdgeRoutingOptions extends ClientTrustOptions {
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
   * Per-client limit on the API (`/api/` and the API hosts).
   * @default 10 requests/s, burst 20 (the guide)
   */
  readonly apiRateLimit?: EdgeRateLimit;
  /**
   * Per-client limit on the login endpoint (EdgeConventions.LOGIN_PATH), on
   * every host where a rate-limited (API) route serves that path.
   * @default 1 request/s, burst 5
   */
  readonly loginRateLimit?: EdgeRateLimit;
  /**
   * Largest request body the edge accepts (nginx size syntax: bytes, or a number with k, m or g; '0' for no limit).
   * @default '10m'
   */
  readonly maxBodySize?: string;
  /**
   * TLS versions offered to clients (Gateway API: ClientTrafficPolicy; ingress-nginx: the controller's `ssl-protocols`).
   * @default 1.2 to 1.3
   */
  readonly tls?: EdgeTlsOptions;
  /**
   * Set the shared security headers at the edge, replacing the services' copies.
   * The services it routes to then leave them to it (`SECURITY_HEADERS=edge`,
   * see `Edge.routedServiceEnv`).
   * @default true
   */
  readonly securityHeaders?: boolean;
  /**
   * The routing table. Two routes may not share a host and path prefix.
   * @default - built from `hosts`, `apiHosts`, `frontend` and `backend`:
   * `/` -> frontend and `/api/` -> backend on every host, `/` -> backend on the API hosts
   */
  readonly routes?: EdgeRoute[];
  /**
   * Namespace of the edge objects and of the Services (ingress-nginx resolves
   * the custom-headers ConfigMap by `namespace/name`).
   * @default - the chart's namespace; required when the chart has none
   */
  readonly namespace?: string;
}

/** Routing settings plus the services routed to. */
export interface EdgeRoutingProps extends EdgeRoutingOptions {
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
