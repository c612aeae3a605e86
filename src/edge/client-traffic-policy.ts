import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { validateCidr, validateDuration } from '../core/validate';
import { validateTls } from './private/routing';

/** Props of {@link EdgeClientTrafficPolicy}. */
export interface EdgeClientTrafficPolicyProps {
  /** Name of the policy. */
  readonly name: string;
  /** Namespace of the Gateway. */
  readonly namespace: string;
  /** The Gateway it applies to. */
  readonly gatewayName: string;
  /**
   * Oldest TLS version: '1.2' or '1.3'.
   * @default '1.2'
   */
  readonly tlsMinVersion?: string;
  /**
   * Newest TLS version: '1.2' or '1.3'.
   * @default '1.3'
   */
  readonly tlsMaxVersion?: string;
  /**
   * Ranges of a CDN or load balancer in front whose X-Forwarded-For is trusted.
   * @default - none: the client is the connection's source address
   */
  readonly trustedCidrs?: string[];
  /**
   * Longest wait for a client's request headers (slow clients hold a connection otherwise).
   * @default '10s'
   */
  readonly requestHeadersTimeout?: string;
  /**
   * Idle client connections are closed after this long (nginx's `keepalive_timeout` default).
   * @default '75s'
   */
  readonly idleTimeout?: string;
  /** Labels of the policy. */
  readonly labels?: { [key: string]: string };
}

/**
 * Envoy Gateway ClientTrafficPolicy for the client side of the edge: the TLS
 * versions, HTTP/2 through ALPN, where the client address comes from, and
 * client timeouts.
 */
export class EdgeClientTrafficPolicy extends Construct {
  /** The policy (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: EdgeClientTrafficPolicyProps) {
    super(scope, id);
    const { minVersion, maxVersion } = validateTls({ minVersion: props.tlsMinVersion, maxVersion: props.tlsMaxVersion });
    const cidrs = (props.trustedCidrs ?? []).map((c, i) => validateCidr(`edge.cdn.cidrs[${i}]`, c));
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'ClientTrafficPolicy',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: props.gatewayName }],
        tls: { minVersion, maxVersion, alpnProtocols: ['h2', 'http/1.1'] },
        ...this.clientIPDetection(cidrs),
        timeout: {
          http: {
            requestHeadersReceivedTimeout: validateDuration('requestHeadersTimeout', props.requestHeadersTimeout ?? '10s'),
            idleTimeout: validateDuration('idleTimeout', props.idleTimeout ?? '75s'),
          },
        },
      },
    });
  }

  /**
   * Behind a CDN the client is the right-most address the CDN did not add;
   * without one, X-Forwarded-For is whatever the client wrote, so it is ignored.
   */
  private clientIPDetection(cidrs: string[]): object {
    return cidrs.length === 0 ? {} : { clientIPDetection: { xForwardedFor: { trustedCIDRs: cidrs } } };
  }
}
