import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { Components } from '../conventions';
import { PropValidationError, validateDnsLabel, validateDnsSubdomain, validateEmail } from '../core/validate';

/** A Gateway listener that serves cert-manager's HTTP-01 challenge routes. */
export interface AcmeGatewayRef {
  /** Name of the Gateway. */
  readonly name: string;
  /** Namespace of the Gateway. */
  readonly namespace: string;
  /**
   * Listener (section) of the Gateway on port 80.
   * @default 'http'
   */
  readonly sectionName?: string;
}

/** Props of {@link LetsEncryptClusterIssuer}. */
export interface LetsEncryptClusterIssuerProps {
  /**
   * Name of the ClusterIssuer (Ingresses and Gateways name it in `cert-manager.io/cluster-issuer`).
   * @default 'letsencrypt-prod'
   */
  readonly name?: string;
  /**
   * Account e-mail: Let's Encrypt writes here about expiring certificates and account problems.
   * @default 'platform@rauli-vision.com'
   */
  readonly email?: string;
  /**
   * ACME directory.
   * @default LetsEncryptClusterIssuer.PRODUCTION_SERVER
   */
  readonly server?: string;
  /**
   * Ingress class whose controller serves the HTTP-01 challenges. Ignored when `http01Gateway` is set.
   * @default 'nginx'
   */
  readonly http01IngressClassName?: string;
  /**
   * Serve the HTTP-01 challenges through this Gateway (HTTPRoutes attached to it) instead of an Ingress class.
   * @default - the Ingress class solver
   */
  readonly http01Gateway?: AcmeGatewayRef;
}

/**
 * A cert-manager ClusterIssuer for Let's Encrypt with the HTTP-01 solver.
 * Cluster-scoped: when several environments share a cluster, only one chart
 * should emit it (the others reference it by name).
 */
export class LetsEncryptClusterIssuer extends Construct {
  /** Let's Encrypt production directory. */
  public static readonly PRODUCTION_SERVER = 'https://acme-v02.api.letsencrypt.org/directory';
  /** Let's Encrypt staging directory (untrusted certificates, generous rate limits). */
  public static readonly STAGING_SERVER = 'https://acme-staging-v02.api.letsencrypt.org/directory';

  /** Name of the ClusterIssuer. */
  public readonly name: string;
  /** The underlying API object (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: LetsEncryptClusterIssuerProps = {}) {
    super(scope, id);
    this.name = validateDnsSubdomain('name', props.name ?? 'letsencrypt-prod');
    const email = validateEmail('email', props.email ?? 'platform@rauli-vision.com');
    const server = props.server ?? LetsEncryptClusterIssuer.PRODUCTION_SERVER;
    if (!/^https:\/\/[^\s]+$/.test(server)) {
      throw new PropValidationError('server', server, 'an https:// ACME directory URL');
    }
    let http01: object;
    if (props.http01Gateway) {
      const gw = props.http01Gateway;
      http01 = {
        gatewayHTTPRoute: {
          parentRefs: [{
            name: validateDnsSubdomain('http01Gateway.name', gw.name),
            namespace: validateDnsLabel('http01Gateway.namespace', gw.namespace),
            kind: 'Gateway',
            sectionName: validateDnsSubdomain('http01Gateway.sectionName', gw.sectionName ?? 'http'),
          }],
        },
      };
    } else {
      http01 = { ingress: { ingressClassName: validateDnsSubdomain('http01IngressClassName', props.http01IngressClassName ?? 'nginx') } };
    }
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: this.name, labels: { [Components.PART_OF_LABEL]: Components.PART_OF } },
      spec: {
        acme: {
          email,
          server,
          privateKeySecretRef: { name: `${this.name}-account-key` },
          solvers: [{ http01 }],
        },
      },
    });
    // cdk8s stamps the chart's namespace on every object; the API server
    // rejects a namespace on a cluster-scoped kind.
    if (Chart.of(this).namespace) this.apiObject.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}
