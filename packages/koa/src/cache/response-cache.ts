import type { Context, Middleware, Next } from 'koa';
import { CacheCodec, TwoLevelCache, TwoLevelCacheOptions } from './two-level-cache';

/** A stored response, or (status 0) a marker naming the request headers its variants depend on. */
export interface CachedResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** The body as the string that encodes to exactly its bytes, when it is small and valid UTF-8 (in memory only): what a hit sends. */
  readonly text?: string;
  /** Set on markers: the lower-case request header names of the response's `Vary`. */
  readonly varyOn?: readonly string[];
}

/**
 * Node writes a string body in one write with the header block, and a Buffer
 * as a second chunk through writev: on Node 24 that costs an L1 hit about 1 µs,
 * a tenth of bare Koa's request. Up to 16 KiB Node writes a string from its
 * stack buffer at once; beyond that the bytes go out as they are.
 */
const TEXT_BODY_MAX_BYTES = 16 * 1024;
// fatal: bytes that are not UTF-8 stay bytes; ignoreBOM: a BOM stays in the text, so the bytes sent are the bytes stored.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `entry` with its `text`, when a string can carry its body unchanged. */
function withText(entry: CachedResponse): CachedResponse {
  const { body, headers } = entry;
  // Without a stored Content-Type, Koa would type a string body text/plain where the bytes were application/octet-stream.
  if (body.length === 0 || body.length > TEXT_BODY_MAX_BYTES || !headers.some(([name]) => name === 'content-type')) return entry;
  try {
    return { ...entry, text: utf8.decode(body) };
  } catch {
    return entry;
  }
}

/** Metadata as one JSON line, then the raw body: no base64 for binary bodies. */
export const responseCodec: CacheCodec<CachedResponse> = {
  encode: ({ status, headers, varyOn, body }) => Buffer.concat([Buffer.from(`${JSON.stringify({ status, headers, varyOn })}\n`), body]),
  decode: (raw) => {
    const nl = raw.indexOf(10);
    const meta = JSON.parse(raw.subarray(0, nl).toString('utf8'));
    return withText({ status: meta.status, headers: meta.headers, varyOn: meta.varyOn, body: raw.subarray(nl + 1) });
  },
};

export interface ResponseCacheOptions extends Omit<TwoLevelCacheOptions<CachedResponse>, 'codec'> {
  /** Use this cache instead of building one from the other options. @default a new TwoLevelCache */
  readonly cache?: TwoLevelCache<CachedResponse>;
  /**
   * Look up and store responses to requests carrying `Authorization` or
   * `Cookie`. Only for responses that are the same for every user (or that
   * name those headers in `Vary`). @default false
   */
  readonly cacheAuthenticated?: boolean;
  /** The key of a request. @default the URL (path and query) */
  readonly key?: (ctx: Context) => string;
  /** Larger bodies are not stored. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /**
   * Response headers stored with the body (lower case). Per-request headers
   * (request id, rate-limit state, cookies) must never be replayed, hence a
   * list of representation headers rather than "everything".
   * @default content-type, content-language, content-encoding, content-disposition, etag, last-modified, cache-control, expires, vary, link
   */
  readonly storedHeaders?: readonly string[];
  /** Header telling HIT or MISS; false for none. @default 'X-Cache' */
  readonly statusHeader?: string | false;
}

const DEFAULT_STORED_HEADERS = ['content-type', 'content-language', 'content-encoding', 'content-disposition', 'etag', 'last-modified', 'cache-control', 'expires', 'vary', 'link'];
const EMPTY = Buffer.alloc(0);

function cacheControlTtlMs(cacheControl: string): number | undefined {
  const m = /(?:^|,)\s*s-maxage\s*=\s*"?(\d+)/i.exec(cacheControl) ?? /(?:^|,)\s*max-age\s*=\s*"?(\d+)/i.exec(cacheControl);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** The body as bytes, or undefined when it cannot be stored (streams, oversized). */
function bodyBytes(body: unknown, max: number): Buffer | undefined {
  let bytes: Buffer;
  if (body === null || body === undefined) {
    bytes = EMPTY;
  } else if (Buffer.isBuffer(body)) {
    bytes = body;
  } else if (typeof body === 'string') {
    bytes = Buffer.from(body);
  } else if (typeof (body as { pipe?: unknown }).pipe === 'function' || body instanceof Uint8Array || typeof body !== 'object') {
    return undefined;
  } else {
    bytes = Buffer.from(JSON.stringify(body));
  }
  return bytes.length <= max ? bytes : undefined;
}

function varyKey(base: string, varyOn: readonly string[], ctx: Context): string {
  let key = base;
  for (const name of varyOn) {
    key += `\n${name}:${ctx.get(name) ?? ''}`;
  }
  return key;
}

/** The response cache middleware, with `close()` for the cache it built (a `cache` passed in stays the caller's to close). */
export type ResponseCacheMiddleware = Middleware & { close(): Promise<void> };

/**
 * Response cache for GET and HEAD on a TwoLevelCache. Stores only what is
 * safe to replay to someone else: never a response to a request with
 * `Authorization`/`Cookie` (unless `cacheAuthenticated`), never one with
 * `Set-Cookie`, `Cache-Control: no-store`, `private` or `no-cache`, `Vary: *`,
 * a non-2xx (or 206) status or a streamed body. `Vary` is honoured: the named
 * request headers become part of the key. TTL: `s-maxage`/`max-age` of the
 * response when present, else the cache's TTL. Redis trouble never fails a
 * request: lookups miss and the downstream handler answers.
 */
export function responseCache(options: ResponseCacheOptions = {}): ResponseCacheMiddleware {
  const { cache: given, cacheAuthenticated = false, key: keyOf = (ctx: Context) => ctx.url, maxBodyBytes = 1024 * 1024, statusHeader = 'X-Cache', ...cacheOptions } = options;
  const cache = given ?? new TwoLevelCache<CachedResponse>({ namespace: 'http:', ...cacheOptions, codec: responseCodec });
  const stored = new Set((options.storedHeaders ?? DEFAULT_STORED_HEADERS).map((h) => h.toLowerCase()));

  function serve(ctx: Context, entry: CachedResponse): void {
    ctx.status = entry.status;
    // Raw setHeader: stored names are lowercase strings and Node still validates each value (an L2 entry comes from another replica).
    const res = ctx.res;
    for (const [name, value] of entry.headers) {
      res.setHeader(name, value);
    }
    if (statusHeader) {
      ctx.set(statusHeader, 'HIT');
    }
    ctx.body = entry.text ?? entry.body;
  }

  async function lookup(ctx: Context, base: string, local: CachedResponse | undefined): Promise<CachedResponse | undefined> {
    let entry = local ?? await cache.get(base);
    if (entry?.varyOn) {
      const variant = varyKey(base, entry.varyOn, ctx);
      entry = cache.peek(variant) ?? await cache.get(variant);
    }
    return entry && entry.status !== 0 ? entry : undefined;
  }

  function store(ctx: Context, base: string): void {
    const status = ctx.status;
    if (status < 200 || status > 299 || status === 206 || ctx.response.get('set-cookie')) {
      return;
    }
    const cacheControl = String(ctx.response.get('cache-control') ?? '');
    if (cacheControl && /(?:^|,)\s*(?:no-store|private|no-cache)\b/i.test(cacheControl)) {
      return;
    }
    const varyOn = String(ctx.response.get('vary') ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean).sort();
    if (varyOn.includes('*')) {
      return;
    }
    const ttlMs = (cacheControl ? cacheControlTtlMs(cacheControl) : undefined) ?? options.ttlMs ?? 60_000;
    const body = bodyBytes(ctx.body, maxBodyBytes);
    if (!(ttlMs > 0) || body === undefined) {
      return;
    }
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(ctx.response.headers)) {
      if (stored.has(name) && value !== undefined) {
        headers.push([name, Array.isArray(value) ? value.join(', ') : String(value)]);
      }
    }
    const entry = withText({ status, headers, body });
    // L1 is written synchronously inside set(); the L2 write is not awaited so the response is not delayed.
    if (varyOn.length > 0) {
      void cache.set(base, { status: 0, headers: [], body: EMPTY, varyOn }, ttlMs);
      void cache.set(varyKey(base, varyOn, ctx), entry, ttlMs);
    } else {
      void cache.set(base, entry, ttlMs);
    }
  }

  /** Everything but an L1 hit: the L2 lookup, the handler and the store. */
  async function missL1(ctx: Context, next: Next, method: string, base: string, local: CachedResponse | undefined): Promise<void> {
    const hit = await lookup(ctx, base, local);
    if (hit) {
      serve(ctx, hit);
      return;
    }
    await next();
    if (statusHeader) {
      ctx.set(statusHeader, 'MISS');
    }
    // A HEAD handler may legitimately leave the body empty: only GET fills the cache.
    if (method === 'GET') {
      store(ctx, base);
    }
  }

  // Not async: an L1 hit is answered synchronously and costs no promise of its own (Koa wraps the return value anyway).
  const responseCacheMiddleware: Middleware = (ctx, next) => {
    const method = ctx.method;
    const headers = ctx.req.headers;
    if ((method !== 'GET' && method !== 'HEAD') || (!cacheAuthenticated && (headers.authorization || headers.cookie))) {
      return next();
    }
    const base = keyOf(ctx);
    const local = cache.peek(base);
    if (local !== undefined && local.status !== 0) {
      serve(ctx, local);
      return undefined;
    }
    return missL1(ctx, next, method, base, local);
  };
  // Its own cache holds a pub/sub connection that would keep the process alive after shutdown.
  return Object.assign(responseCacheMiddleware, { close: () => (given ? Promise.resolve() : cache.close()) });
}
