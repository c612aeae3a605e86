import { RuntimeSettings } from '../conventions';
import { PropValidationError } from '../core/validate';

/**
 * A CDN or load balancer in front of the edge (Cloudflare, Vercel, a cloud
 * load balancer) that appends the client address to `X-Forwarded-For`. The
 * edge and the services take the client address from that header only when
 * the request comes from one of these ranges, so clients cannot pick their own
 * identity (and dodge per-client limits) by sending the header themselves.
 */
export interface CdnOptions {
  /**
   * Addresses the CDN connects to the edge from, as IPv4/IPv6 addresses or
   * CIDRs (the CDN's published ranges, e.g. Cloudflare's
   * https://www.cloudflare.com/ips/).
   */
  readonly cidrs: string[];
}

/** Where the edge's own proxies and a CDN in front of it are declared. */
export interface ClientTrustOptions {
  /**
   * Addresses the edge's proxy pods connect to services from: the cluster's
   * pod network. Narrow it to the pod CIDR where you know it: an address
   * trusted here but not a proxy could name any client it likes.
   * @default ClientTrust.PRIVATE_NETWORKS (RFC 1918 and IPv6 unique local)
   */
  readonly proxyCidrs?: string[];
  /**
   * A CDN or load balancer in front of the edge. Without it, the address the
   * edge sees is the client; with it, the address the CDN appended is.
   * @default - none: the edge's peer is the client
   */
  readonly cdn?: CdnOptions;
}

/**
 * Which proxies a service believes about its client's address
 * (`TRUSTED_PROXY_CIDRS`). The Koa package walks `X-Forwarded-For` from the
 * right and stops at the first address outside these CIDRs: entries a client
 * wrote itself sit further left and are never reached, whether it came
 * through the CDN or straight to the edge.
 */
export class ClientTrust {
  /** Private address ranges, where in-cluster proxies live when the pod CIDR is not given. */
  public static readonly PRIVATE_NETWORKS: string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];

  /** A service reached only inside the cluster: no proxy is believed, the socket address is the client. */
  public static none(): ClientTrust {
    return new ClientTrust([]);
  }

  /** A service the edge routes to: the edge's proxies and, when declared, the CDN in front of it. */
  public static behindEdge(options: ClientTrustOptions = {}): ClientTrust {
    const proxies = validCidrs('proxyCidrs', options.proxyCidrs ?? ClientTrust.PRIVATE_NETWORKS);
    if (options.proxyCidrs !== undefined && proxies.length === 0) {
      throw new PropValidationError('proxyCidrs', options.proxyCidrs, 'at least one address or CIDR of the edge\'s proxies');
    }
    const cdn = options.cdn === undefined ? [] : validCidrs('cdn.cidrs', options.cdn.cidrs);
    if (options.cdn !== undefined && cdn.length === 0) {
      throw new PropValidationError('cdn.cidrs', options.cdn.cidrs, 'at least one address or CIDR of the CDN');
    }
    return new ClientTrust([...proxies, ...cdn]);
  }

  private constructor(
    /** Trusted proxy addresses and CIDRs; empty when none is. */
    public readonly cidrs: string[],
  ) {}

  /** The service's environment variables that carry this trust (none when nothing is trusted). */
  public get env(): { [name: string]: string } {
    return this.cidrs.length === 0 ? {} : { TRUSTED_PROXY_CIDRS: this.cidrs.join(',') };
  }
}

function validCidrs(prop: string, cidrs: string[]): string[] {
  if (!Array.isArray(cidrs)) {
    throw new PropValidationError(prop, cidrs, 'a list of IP addresses or CIDRs');
  }
  cidrs.forEach((cidr, i) => {
    if (typeof cidr !== 'string' || !RuntimeSettings.isCidr(cidr)) {
      throw new PropValidationError(`${prop}[${i}]`, cidr, "an IPv4 or IPv6 address or CIDR such as '173.245.48.0/20' or '2400:cb00::/32'");
    }
  });
  return cidrs;
}
