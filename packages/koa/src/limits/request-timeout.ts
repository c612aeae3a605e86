import type { Server } from 'node:http';
import type { Middleware } from 'koa';
import { RuntimeDefaults } from '../conventions.generated';
import { toMs } from '../util/duration';

export interface RequestTimeoutOptions {
  /** ms or `30s`. @default RuntimeDefaults.HTTP_TIMEOUT */
  readonly timeout?: number | string;
  /** Status sent on timeout. @default 503 */
  readonly status?: 503 | 504;
}

/**
 * `HTTP_TIMEOUT` per request: past it the client gets 503 (or 504) at once
 * and `ctx.state.signal` aborts, so handlers passing it to their queries and
 * fetches stop working for nobody.
 */
export function requestTimeout(options: RequestTimeoutOptions = {}): Middleware {
  const ms = toMs(options.timeout ?? RuntimeDefaults.HTTP_TIMEOUT);
  const status = options.status ?? 503;
  return async (ctx, next) => {
    const controller = new AbortController();
    ctx.state.signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    });
    const work = next();
    try {
      if (await Promise.race([work.then(() => false), timedOut]) === true) {
        controller.abort(new Error(`request exceeded ${ms} ms`));
        // The handler may still reject later; nobody is listening any more.
        work.catch(() => undefined);
        ctx.status = status;
        ctx.set('Retry-After', '1');
        ctx.body = { error: 'request timed out', timeoutMs: ms };
      }
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Node's own server timeouts, aligned with `HTTP_TIMEOUT`: a client that sends
 * its headers or body too slowly (slowloris) is cut off by the server, and idle
 * keep-alive sockets outlive the load balancer's so it never reuses a closed one.
 */
export function applyServerTimeouts(server: Server, options: { readonly timeout?: number | string } = {}): void {
  const ms = toMs(options.timeout ?? RuntimeDefaults.HTTP_TIMEOUT);
  server.headersTimeout = Math.min(ms, 60_000);
  server.requestTimeout = ms + 5_000;
  server.keepAliveTimeout = 65_000;
  server.timeout = 0;
}
