import type { Middleware } from 'koa';
import { RuntimeDefaults } from '../conventions.generated';

export interface ConcurrencyLimitOptions {
  /** @default RuntimeDefaults.MAX_CONCURRENT_REQUESTS */
  readonly max?: number;
  /** Retry-After sent with the 503, in seconds. @default 1 */
  readonly retryAfterSeconds?: number;
}

/** `MAX_CONCURRENT_REQUESTS`: past the cap, 503 with Retry-After instead of queueing without bound. */
export function concurrencyLimit(options: ConcurrencyLimitOptions = {}): Middleware & { readonly inFlight: () => number } {
  const max = options.max ?? RuntimeDefaults.MAX_CONCURRENT_REQUESTS;
  if (!Number.isInteger(max) || max < 1) throw new Error(`concurrencyLimit: max must be a positive integer, got ${max}`);
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  let inFlight = 0;
  const mw: Middleware = async (ctx, next) => {
    if (inFlight >= max) {
      ctx.status = 503;
      ctx.set('Retry-After', retryAfter);
      ctx.body = { error: 'too many concurrent requests' };
      return;
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
  return Object.assign(mw, { inFlight: () => inFlight });
}
