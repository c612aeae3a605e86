import { BlockList, isIP } from 'node:net';
import type { Context } from 'koa';

/**
 * Who may set `X-Forwarded-For`: the proxies' addresses / CIDRs (what
 * `TRUSTED_PROXY_CIDRS` carries), or a number of proxy hops in front of the app.
 * Prefer CIDRs: a hop count believes whatever sits that many entries from the
 * right, so a client that can bypass one of the proxies (a CDN in front of
 * the edge) chooses its own identity; CIDRs stop at the first address no
 * trusted proxy vouches for. Without it the client is the socket address and
 * the header is ignored.
 */
export type TrustedProxies = number | readonly string[];

const MAPPED_V4 = '::ffff:';
const MAX_ID_LENGTH = 64;

/** `::ffff:10.0.0.1` -> `10.0.0.1`, so one client has one identity on dual-stack sockets. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) {
    return 'unknown';
  }
  return address.startsWith(MAPPED_V4) && isIP(address.slice(MAPPED_V4.length)) === 4 ? address.slice(MAPPED_V4.length) : address;
}

function forwardedChain(ctx: Context): string[] {
  const header = ctx.get('x-forwarded-for');
  if (!header) {
    return [];
  }
  return header.split(',').map((s) => normalizeAddress(s.trim()).slice(0, MAX_ID_LENGTH));
}

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0) {
      throw new Error(`trustedProxies: '${entry}' is not an IP address or CIDR`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(address, type);
    } else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`trustedProxies: '${entry}' has an invalid prefix length`);
      }
      list.addSubnet(address, prefix, type);
    }
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Builds the function that names the client of a request. Proxies append the
 * address they saw to the right of `X-Forwarded-For`, so only entries counted
 * from the right, past trusted hops, are believed; whatever a client writes on
 * the left cannot change its identity.
 */
export function clientIdentity(trustedProxies?: TrustedProxies): (ctx: Context) => string {
  if (trustedProxies === undefined || (Array.isArray(trustedProxies) && trustedProxies.length === 0) || trustedProxies === 0) {
    return (ctx) => normalizeAddress(ctx.req.socket.remoteAddress);
  }
  if (typeof trustedProxies === 'number') {
    if (!Number.isInteger(trustedProxies) || trustedProxies < 0) {
      throw new Error(`trustedProxies: ${trustedProxies} is not a hop count (a non-negative integer) or a list of CIDRs`);
    }
    const hops = trustedProxies;
    return (ctx) => {
      const chain = forwardedChain(ctx);
      chain.push(normalizeAddress(ctx.req.socket.remoteAddress));
      return chain[Math.max(0, chain.length - 1 - hops)];
    };
  }
  const list = blockList(trustedProxies as readonly string[]);
  return (ctx) => {
    const peer = normalizeAddress(ctx.req.socket.remoteAddress);
    if (!isTrusted(list, peer)) {
      return peer;
    }
    const chain = forwardedChain(ctx);
    for (let i = chain.length - 1; i >= 0; i--) {
      if (!isTrusted(list, chain[i])) {
        return chain[i];
      }
    }
    return chain.length > 0 ? chain[0] : peer;
  };
}
