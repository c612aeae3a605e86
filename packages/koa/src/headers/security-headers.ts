import type { Middleware } from 'koa';
import { SecurityHeaders } from '../conventions.generated';

/** The guide's Content-Security-Policy (shared with the edge through the conventions). */
export const DEFAULT_CONTENT_SECURITY_POLICY = SecurityHeaders.HEADERS['Content-Security-Policy'];

export interface HstsOptions {
  /** @default 31536000 (one year, the guide's value) */
  readonly maxAgeSeconds?: number;
  /** @default true */
  readonly includeSubDomains?: boolean;
  /** Only set once the domain is submitted to the preload list. @default false */
  readonly preload?: boolean;
}

export interface SecurityHeadersOptions {
  /**
   * `development` leaves HSTS out: a browser that once saw HSTS on localhost
   * refuses plain HTTP to it for a year. @default 'production'
   */
  readonly mode?: 'production' | 'development';
  /** CSP string, or `false` to send none (e.g. a service whose HTML sets its own). @default DEFAULT_CONTENT_SECURITY_POLICY */
  readonly contentSecurityPolicy?: string | false;
  /** Report-only CSP, to trial a stricter policy beside the enforced one. @default none */
  readonly contentSecurityPolicyReportOnly?: string;
  /** HSTS settings, or `false` to disable. Ignored in development mode. @default the guide's: one year, includeSubDomains */
  readonly hsts?: HstsOptions | false;
  /** @default 'DENY' */
  readonly frameOptions?: 'DENY' | 'SAMEORIGIN';
  /** @default 'strict-origin-when-cross-origin' */
  readonly referrerPolicy?: string;
  /**
   * X-XSS-Protection value, or `false` to omit it.
   * @default - the shared convention's `0` (see README: the browser XSS auditor is gone)
   */
  readonly xssProtection?: string | false;
  /** Extra headers added as given. @default {} */
  readonly extra?: { readonly [name: string]: string };
  /**
   * The proxy in front sets `SecurityHeaders.HEADERS` on every response it
   * forwards, replacing the service's copies (the platform's edge does, and
   * writes `SECURITY_HEADERS=edge` for the services it routes to). Then only the
   * headers outside that list are sent (the report-only CSP, `extra`): the
   * others would be overwritten before any browser saw them.
   * @default false
   */
  readonly behindEdge?: boolean;
}

/** The header list for `options`, computed once (also handy to assert on in tests). */
export function buildSecurityHeaders(options: SecurityHeadersOptions = {}): { [name: string]: string } {
  const headers: { [name: string]: string } = { ...SecurityHeaders.HEADERS };
  headers['X-Frame-Options'] = options.frameOptions ?? headers['X-Frame-Options'];
  headers['Referrer-Policy'] = options.referrerPolicy ?? headers['Referrer-Policy'];
  if (options.xssProtection === false) delete headers['X-XSS-Protection'];
  else if (options.xssProtection) headers['X-XSS-Protection'] = options.xssProtection;
  const csp = options.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY;
  if (csp === false) delete headers['Content-Security-Policy'];
  else headers['Content-Security-Policy'] = csp;
  if (options.contentSecurityPolicyReportOnly) {
    headers['Content-Security-Policy-Report-Only'] = options.contentSecurityPolicyReportOnly;
  }
  if ((options.mode ?? 'production') === 'development' || options.hsts === false) {
    delete headers['Strict-Transport-Security'];
  } else if (options.hsts !== undefined) {
    const h = options.hsts;
    headers['Strict-Transport-Security'] = [
      `max-age=${h.maxAgeSeconds ?? 31_536_000}`,
      ...(h.includeSubDomains ?? true ? ['includeSubDomains'] : []),
      ...(h.preload ? ['preload'] : []),
    ].join('; ');
  }
  for (const [name, value] of Object.entries(options.extra ?? {})) headers[name] = value;
  if (options.behindEdge) {
    const edgeSets = new Set(Object.keys(SecurityHeaders.HEADERS).map((n) => n.toLowerCase()));
    for (const name of Object.keys(headers)) if (edgeSets.has(name.toLowerCase())) delete headers[name];
  }
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(value)) throw new Error(`securityHeaders: header ${name} must not contain line breaks`);
  }
  return headers;
}

/**
 * Sets the guide's security headers on every response. The list is built once;
 * per request it is a loop of `setHeader` calls on the raw response. With
 * `behindEdge` and nothing left to send, the middleware only calls `next`
 * (`createService` then leaves it out).
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): Middleware {
  // Lowercase on the wire (names are case-insensitive; HTTP/2 requires it): Node
  // files each header under its lowercased name, and a name that is already
  // lowercase saves a new string per header per request (~0.1 µs each).
  const entries = Object.entries(buildSecurityHeaders(options)).map(([name, value]) => [name.toLowerCase(), value] as const);
  // Not async: nothing to do after next(), so no extra promise per request.
  return (ctx, next) => {
    const res = ctx.res;
    for (let i = 0; i < entries.length; i++) res.setHeader(entries[i][0], entries[i][1]);
    return next();
  };
}
