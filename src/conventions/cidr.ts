/**
 * An IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`,
 * `::1`, `2001:db8::/32`. The one address grammar of TRUSTED_PROXY_CIDRS and
 * edge.cdn.cidrs.
 */
export function isCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  let bits: number;
  if (v4) {
    if (v4.slice(1).some(o => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) return false;
    bits = 32;
  } else {
    const halves = address.split('::');
    if (halves.length > 2) return false;
    const groups = halves.map(h => (h === '' ? [] : h.split(':')));
    const count = groups.reduce((n, g) => n + g.length, 0);
    if (!groups.every(g => g.every(x => /^[0-9a-fA-F]{1,4}$/.test(x)))) return false;
    if (halves.length === 2 ? count > 7 : count !== 8) return false;
    bits = 128;
  }
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
}
