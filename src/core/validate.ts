/**
 * Prop validation shared by every construct. Each check throws at
 * construction time with a message that names the prop, the value and what is
 * allowed, so a mistake never reaches a manifest.
 */
import { isCidr } from '../conventions/cidr';
import { Durations } from '../conventions/duration';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CPU_QUANTITY = /^([0-9]+m|[0-9]+(\.[0-9]+)?)$/;
const MEMORY_QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** Error thrown for an invalid construct prop. */
export class PropValidationError extends Error {
  constructor(prop: string, value: unknown, expected: string) {
    super(`Invalid ${prop}: ${JSON.stringify(value)}. Expected ${expected}.`);
    this.name = 'PropValidationError';
  }
}

export function validateDnsLabel(prop: string, value: string, maxLength = 63): string {
  if (value.length > maxLength || !DNS1123_LABEL.test(value)) {
    throw new PropValidationError(prop, value, `a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${maxLength} characters`);
  }
  return value;
}

export function validateDnsSubdomain(prop: string, value: string): string {
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new PropValidationError(prop, value, "a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters");
  }
  return value;
}

export function validateInteger(prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PropValidationError(prop, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

export function validateCpu(prop: string, value: string): string {
  if (!CPU_QUANTITY.test(value)) {
    throw new PropValidationError(prop, value, "a CPU quantity such as '250m' or '0.5'");
  }
  return value;
}

export function validateMemory(prop: string, value: string): string {
  if (!MEMORY_QUANTITY.test(value)) {
    throw new PropValidationError(prop, value, "a memory quantity with a binary or decimal suffix such as '256Mi', '1Gi' or '512M' (not 'MB')");
  }
  return value;
}

/** A duration of the one grammar every layer shares (`Durations`): '500ms', '30s', '1m30s', '1h30m', '7d'. */
export function validateDuration(prop: string, value: string): string {
  if (typeof value !== 'string' || Durations.tryParseMilliseconds(value) === undefined) {
    throw new PropValidationError(prop, value, Durations.EXPECTATION);
  }
  return value;
}

export function validateOneOf<T extends string>(prop: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new PropValidationError(prop, value, `one of ${allowed.map(a => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

export function validateCron(prop: string, value: string): string {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every(f => /^[0-9*/,\-A-Za-z?]+$/.test(f))) {
    throw new PropValidationError(prop, value, "a five-field cron expression such as '0 2 * * *'");
  }
  return value;
}

/** Parses quantities such as '250m', '0.5', '256Mi', '1G' into base units (cores or bytes). */
export function parseQuantity(value: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(value);
  if (!m) throw new PropValidationError('quantity', value, 'a Kubernetes quantity');
  const factors: Record<string, number> = {
    '': 1,
    'm': 1e-3,
    'k': 1e3,
    'M': 1e6,
    'G': 1e9,
    'T': 1e12,
    'P': 1e15,
    'E': 1e18,
    'Ki': 2 ** 10,
    'Mi': 2 ** 20,
    'Gi': 2 ** 30,
    'Ti': 2 ** 40,
    'Pi': 2 ** 50,
    'Ei': 2 ** 60,
  };
  const factor = factors[m[2]];
  if (factor === undefined) throw new PropValidationError('quantity', value, 'a Kubernetes quantity suffix (m, Ki, Mi, Gi, k, M, G)');
  return Number(m[1]) * factor;
}

/** Images must carry a tag or digest; `latest` is refused where `strict`. */
export function validateImage(prop: string, image: string, strict: boolean): string {
  const digest = image.includes('@sha256:');
  const lastSegment = image.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  if (!image || /\s/.test(image)) {
    throw new PropValidationError(prop, image, "an image reference such as 'ghcr.io/rauli-vision/backend:1.4.2'");
  }
  if (strict && !digest && (!tag || tag === 'latest')) {
    throw new PropValidationError(prop, image, "a pinned image: a version tag such as ':1.4.2' or a '@sha256:' digest (untagged and ':latest' images are refused in staging and production)");
  }
  return image;
}

const EMAIL = /^[^\s@]+@[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/i;
const HTTP_PATH = /^\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*$/;
const NGINX_SIZE = /^[0-9]+[kmg]?$/;

export function validateEmail(prop: string, value: string): string {
  if (!EMAIL.test(value)) {
    throw new PropValidationError(prop, value, "an e-mail address such as 'platform@rauli-vision.com'");
  }
  return value;
}

export function validateHttpPath(prop: string, value: string): string {
  if (!HTTP_PATH.test(value)) {
    throw new PropValidationError(prop, value, "an absolute URL path such as '/api/' (starting with '/', no spaces, query or fragment)");
  }
  return value;
}

/** nginx size syntax (`client_max_body_size`): bytes, or a number with k, m or g; '0' disables the check. */
export function validateNginxSize(prop: string, value: string): string {
  if (!NGINX_SIZE.test(value)) {
    throw new PropValidationError(prop, value, "an nginx size such as '10m', '512k' or '1g'");
  }
  return value;
}

/** Seconds in a duration accepted by validateDuration ('30s', '1m30s', '500ms' -> 0.5). */
export function parseDurationSeconds(prop: string, value: string): number {
  validateDuration(prop, value);
  return Durations.tryParseMilliseconds(value)! / 1000;
}

/** Numbers in a closed range, or half-open when `minExclusive` (percentages: greater than 0, at most 100). */
export function validateRange(prop: string, value: number, min: number, max: number, minExclusive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (minExclusive ? value <= min : value < min) || value > max) {
    throw new PropValidationError(prop, value, `a number ${minExclusive ? 'greater than' : 'from'} ${min} ${minExclusive ? 'and at most' : 'to'} ${max}`);
  }
  return value;
}

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const S3_RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** S3 general purpose bucket naming rules (used by the AWS bucket and by the CronJobs that write to it). */
export function validateS3BucketName(prop: string, value: string): string {
  if (!S3_BUCKET.test(value) || value.includes('..') || value.includes('.-') || value.includes('-.')
    || /^\d+\.\d+\.\d+\.\d+$/.test(value)
    || S3_RESERVED_PREFIXES.some(p => value.startsWith(p)) || S3_RESERVED_SUFFIXES.some(s => value.endsWith(s))) {
    throw new PropValidationError(prop, value, `an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address, no '..', not starting with ${S3_RESERVED_PREFIXES.join(', ')} and not ending with ${S3_RESERVED_SUFFIXES.join(', ')}`);
  }
  return value;
}

/**
 * An IPv4 or IPv6 CIDR block in canonical form: no host bits set, because
 * Envoy and nginx would silently mask them and trust a different range than the one written.
 */
export function validateCidr(prop: string, value: string): string {
  const expected = "an IPv4 or IPv6 CIDR block without host bits, such as '173.245.48.0/20' or '2400:cb00::/32'";
  // The address grammar is the runtime setting's (TRUSTED_PROXY_CIDRS), so both layers accept the same blocks; here the prefix is required.
  if (typeof value !== 'string' || !value.includes('/') || !isCidr(value)) throw new PropValidationError(prop, value, expected);
  const [address, prefix] = value.split('/');
  const v4 = address.includes('.');
  const width = v4 ? 32 : 128;
  const block = v4 ? BigInt(address.split('.').reduce((n, o) => n * 256 + Number(o), 0)) : ipv6ToBigInt(address);
  // Host bits are the low (width - prefix) bits: set when the address is not a multiple of the block size.
  if (block % (BigInt(2) ** BigInt(width - Number(prefix))) !== BigInt(0)) throw new PropValidationError(prop, value, `${expected} (host bits are set)`);
  return value;
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parts = (s: string) => (s ? s.split(':') : []);
  const groups = tail === undefined ? parts(head) : [...parts(head), ...Array(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
  return groups.reduce((n, g) => n * BigInt(65536) + BigInt(parseInt(g, 16)), BigInt(0));
}
