import type { Middleware } from 'koa';
import type { Pool } from 'pg';
import { ServiceConventions } from '../conventions.generated';
import type { RedisClient } from '../redis';
import { withTimeout } from '../util/timeout';

/** One readiness dependency. `check` rejects when the dependency is not usable. */
export interface ReadinessCheck {
  readonly name: string;
  readonly check: () => Promise<unknown>;
  /** Overrides the middleware's `timeoutMs` for this check. @default options.timeoutMs */
  readonly timeoutMs?: number;
}

/** Shared by the health middleware and graceful shutdown: readiness fails once `shuttingDown` is set. */
export interface Lifecycle {
  shuttingDown: boolean;
}

export interface HealthOptions {
  readonly checks?: readonly ReadinessCheck[];
  /** Per-check timeout. @default 2000 */
  readonly timeoutMs?: number;
  /** When `shuttingDown` is true, /readyz answers 503 at once. @default a fresh lifecycle */
  readonly lifecycle?: Lifecycle;
  /** @default ServiceConventions.LIVENESS_PATH */
  readonly livenessPath?: string;
  /** @default ServiceConventions.READINESS_PATH */
  readonly readinessPath?: string;
}

/** Readiness check for a pg / pg-pool pool: one `SELECT 1`. */
export function postgresCheck(pool: Pick<Pool, 'query'>, name = 'postgres'): ReadinessCheck {
  return { name, check: () => pool.query('SELECT 1') };
}

/** Readiness check for an ioredis client or cluster: `PING`. */
export function redisCheck(client: RedisClient, name = 'redis'): ReadinessCheck {
  return { name, check: () => client.ping() };
}

interface CheckResult {
  status: 'ok' | 'fail';
  durationMs: number;
  error?: string;
}

/**
 * `/healthz`: liveness, answers 200 while the process can run JavaScript; it
 * checks no dependency, so a database outage never restarts every pod.
 * `/readyz`: runs every check in parallel, each bounded by its timeout;
 * 200 when all pass, 503 otherwise or while shutting down.
 * Mount it before rate limits and concurrency caps: probes must not be throttled.
 */
export function health(options: HealthOptions = {}): Middleware {
  const checks = options.checks ?? [];
  const timeoutMs = options.timeoutMs ?? 2000;
  const lifecycle = options.lifecycle ?? { shuttingDown: false };
  const live = options.livenessPath ?? ServiceConventions.LIVENESS_PATH;
  const ready = options.readinessPath ?? ServiceConventions.READINESS_PATH;

  const run = async (c: ReadinessCheck): Promise<[string, CheckResult]> => {
    const start = Date.now();
    try {
      await withTimeout(c.check(), c.timeoutMs ?? timeoutMs, c.name);
      return [c.name, { status: 'ok', durationMs: Date.now() - start }];
    } catch (err) {
      return [c.name, { status: 'fail', durationMs: Date.now() - start, error: (err as Error).message }];
    }
  };

  return async (ctx, next) => {
    if (ctx.path === live) {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path !== ready) {
      await next();
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    if (lifecycle.shuttingDown) {
      ctx.status = 503;
      ctx.body = { status: 'shutting_down' };
      return;
    }
    const results = Object.fromEntries(await Promise.all(checks.map(run)));
    const ok = Object.values(results).every((r) => r.status === 'ok');
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ok' : 'fail', checks: results };
  };
}
