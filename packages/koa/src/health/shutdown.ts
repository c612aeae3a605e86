import type { Server } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../logging';
import type { Lifecycle } from './health';

export interface GracefulShutdownOptions {
  readonly lifecycle: Lifecycle;
  /** Servers to close after the drain delay (the app server, the metrics server). */
  readonly servers: readonly Server[];
  /** How long to keep serving with /readyz failing, so endpoints stop routing here first. */
  readonly drainMs: number;
  /** The pod's termination grace period; everything is forced closed well before it. */
  readonly terminationGraceMs: number;
  /** Closers run after the servers closed (pools, Redis), in order, each bounded by the remaining time. @default [] */
  readonly closers?: readonly (() => Promise<unknown>)[];
  readonly logger?: Logger;
}

/**
 * Tells keep-alive clients to reconnect elsewhere once shutdown started: a pooled
 * connection otherwise keeps sending here until the socket is cut.
 */
export function connectionCloseOnShutdown(lifecycle: Lifecycle): Middleware {
  return async (ctx, next) => {
    if (lifecycle.shuttingDown) ctx.set('Connection', 'close');
    await next();
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
// Deadline timers must not keep the process alive once everything closed.
const deadlineAfter = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    // close() stops accepting and resolves once in-flight requests finished.
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/**
 * The shutdown sequence, in the order Kubernetes needs it:
 * 1. readiness fails (`lifecycle.shuttingDown = true`) while the server keeps serving;
 * 2. after `drainMs` the servers stop accepting and in-flight requests finish;
 * 3. pools and clients close;
 * everything bounded so the process is done ~2 s (or 10%) before `terminationGraceMs`.
 * Returns the number of milliseconds it took; never throws.
 */
export async function gracefulShutdown(options: GracefulShutdownOptions): Promise<number> {
  const started = Date.now();
  const margin = Math.min(2000, options.terminationGraceMs * 0.1);
  const deadline = started + options.terminationGraceMs - margin;
  const log = options.logger;
  options.lifecycle.shuttingDown = true;
  log?.info('shutdown started: readiness failing, draining', { drainMs: options.drainMs });

  await sleep(Math.max(0, Math.min(options.drainMs, deadline - Date.now())));
  const closing = Promise.all(options.servers.map(closeServer));
  const forced = await Promise.race([
    closing.then(() => false),
    deadlineAfter(Math.max(0, deadline - Date.now() - 500)).then(() => true),
  ]);
  if (forced) {
    log?.warn('in-flight requests did not finish before the grace period: closing connections');
    for (const s of options.servers) s.closeAllConnections();
  }
  for (const close of options.closers ?? []) {
    try {
      await Promise.race([close(), deadlineAfter(Math.max(0, deadline - Date.now()))]);
    } catch (err) {
      log?.warn('error while closing a resource', { err });
    }
  }
  const took = Date.now() - started;
  log?.info('shutdown complete', { durationMs: took });
  return took;
}
