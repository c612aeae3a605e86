import { validateDnsLabel, validateDnsSubdomain } from '../core/validate';

/**
 * The GatewayClass an {@link EdgeGateway} attaches to: Envoy Gateway's, which
 * the edge creates, or one that already exists in the cluster.
 */
export class EdgeGatewayClass {
  /** Controller name of Envoy Gateway. */
  public static readonly ENVOY_CONTROLLER = 'gateway.envoyproxy.io/gatewayclass-controller';
  /** Namespace where Envoy Gateway runs the Envoy proxies of every Gateway (its default deployment mode). */
  public static readonly ENVOY_PROXY_NAMESPACE = 'envoy-gateway-system';

  /**
   * Envoy Gateway's class, created with the edge. GatewayClasses are
   * cluster-scoped: when several environments share a cluster, give the
   * others `EdgeGatewayClass.existing('envoy')`.
   * @param name name of the GatewayClass
   * @param proxyNamespace namespace of the Envoy proxies (Envoy Gateway's own namespace)
   */
  public static envoy(name = 'envoy', proxyNamespace = EdgeGatewayClass.ENVOY_PROXY_NAMESPACE): EdgeGatewayClass {
    return new EdgeGatewayClass(validateDnsSubdomain('gatewayClass.name', name), true, validateDnsLabel('gatewayClass.proxyNamespace', proxyNamespace));
  }

  /**
   * A GatewayClass installed by other means; the edge only names it.
   * @param name name of the GatewayClass
   * @param proxyNamespace namespace its proxies run in (network policies admit traffic from it)
   */
  public static existing(name: string, proxyNamespace = EdgeGatewayClass.ENVOY_PROXY_NAMESPACE): EdgeGatewayClass {
    return new EdgeGatewayClass(validateDnsSubdomain('gatewayClass.name', name), false, validateDnsLabel('gatewayClass.proxyNamespace', proxyNamespace));
  }

  private constructor(
    /** Name of the GatewayClass. */
    public readonly name: string,
    /** Whether the edge creates it. */
    public readonly create: boolean,
    /** Namespace of the proxies that carry the Gateway's traffic. */
    public readonly proxyNamespace: string,
  ) {}
}
