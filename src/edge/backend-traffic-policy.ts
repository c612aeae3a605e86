import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { PropValidationError, validateHttpPath, validateInteger } from '../core/validate';

/** A per-client limit on the paths matching one prefix or one exact path. */
export interface EdgePathRateLimit {
  /** The path (a prefix, or exact when `exact` is true). */
  readonly path: string;
  /**
   * Match the path exactly instead of as a prefix.
   * @default false
   */
  readonly exact?: boolean;
  /** Requests per second per client address. */
  readonly requestsPerSecond: number;
}

/** Props of {@link EdgeBackendTrafficPolicy}. */
export interface EdgeBackendTrafficPolicyProps {
  /** Name of the policy. */
  readonly name: string;
  /** Namespace of the HTTPRoute. */
  readonly namespace: string;
  /** The HTTPRoute whose backends it configures. */
  readonly routeName: string;
  /**
   * Per-client limits by path. A request matching several is held to the strictest.
   * @default - none
   */
  readonly rateLimits?: EdgePathRateLimit[];
  /** Largest request body as a Kubernetes quantity ('10Mi'), or undefined for none. */
  readonly maxBodySize?: string;
  /** Time to open a connection to a backend, in seconds. */
  readonly connectTimeoutSeconds: number;
  /** Responses smaller than this are sent uncompressed (bytes). */
  readonly gzipMinLength: number;
  /** Labels of the policy. */
  readonly labels?: { [key: string]: string };
}

/** Passive health checking: the guide's `max_fails=3 fail_timeout=30s`. */
const PASSIVE_HEALTH_CHECK = {
  consecutive5XxErrors: 3,
  baseEjectionTime: '30s',
  // How often ejected backends are reconsidered; ejection itself is immediate.
  interval: '10s',
  // nginx never takes the last server out; Envoy's default (10 %) ejects nothing below 10 pods.
  maxEjectionPercent: 50,
};

// Every client address is its own bucket; one rule per address family.
const ALL_CLIENTS = ['0.0.0.0/0', '::/0'];

/**
 * Envoy Gateway BackendTrafficPolicy for the proxy-to-backend side of one
 * HTTPRoute: least-request balancing, passive ejection of failing backends,
 * reused connections, gzip, per-client rate limits (429), the body-size limit
 * and the connect timeout.
 *
 * Rate limits are local (counted by each Envoy replica): a global limit needs
 * Envoy Gateway's rate-limit service and a Redis it calls on every request,
 * configured outside these objects, and a Redis outage would then fail the
 * whole site. The edge limit sheds floods per client; the exact, shared limit
 * is the apps' Redis limiter, which fails open. With N proxy replicas a client
 * gets up to N times the limit.
 */
export class EdgeBackendTrafficPolicy extends Construct {
  /** The policy (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: EdgeBackendTrafficPolicyProps) {
    super(scope, id);
    validateInteger('connectTimeoutSeconds', props.connectTimeoutSeconds, 1, 3600);
    validateInteger('gzipMinLength', props.gzipMinLength, 30, 1_073_741_824);
    const limits = props.rateLimits ?? [];
    if (limits.length * ALL_CLIENTS.length > 16) {
      throw new PropValidationError('rateLimits', limits.length, `at most ${16 / ALL_CLIENTS.length} limits (Envoy Gateway takes 16 rules)`);
    }
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'BackendTrafficPolicy',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: props.routeName }],
        loadBalancer: { type: 'LeastRequest' },
        healthCheck: { passive: PASSIVE_HEALTH_CHECK },
        // Envoy reuses upstream connections by default and has no cap on idle ones;
        // idle pooled connections close after nginx's upstream keepalive_timeout.
        timeout: { tcp: { connectTimeout: `${props.connectTimeoutSeconds}s` }, http: { connectionIdleTimeout: '60s' } },
        compressor: [{ type: 'Gzip', minContentLength: props.gzipMinLength }],
        ...this.rateLimit(limits),
        ...(props.maxBodySize ? { requestBuffer: { limit: props.maxBodySize } } : {}),
      },
    });
  }

  private rateLimit(limits: EdgePathRateLimit[]): object {
    if (limits.length === 0) return {};
    const rules = limits.flatMap((l, i) => {
      validateHttpPath(`rateLimits[${i}].path`, l.path);
      validateInteger(`rateLimits[${i}].requestsPerSecond`, l.requestsPerSecond, 1, 10_000);
      return ALL_CLIENTS.map(value => ({
        clientSelectors: [{
          path: { type: l.exact ? 'Exact' : 'PathPrefix', value: l.path },
          sourceCIDR: { type: 'Distinct', value },
        }],
        limit: { requests: l.requestsPerSecond, unit: 'Second' },
      }));
    });
    return { rateLimit: { local: { rules } } };
  }
}
