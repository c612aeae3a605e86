/* The service under test of bench/kpi.ts: the full createService stack
 * (request log, security headers, health, metrics, concurrency limit,
 * timeout, rate limit on Redis, JSON body, router) configured from the
 * environment as in production, with one route that asks PostgreSQL on
 * every request. Its request log goes to stdout, as in production (the
 * runner points it at /dev/null); the runner waits for /readyz.
 *
 * Started by the runner with an IPC channel, it reports once a second where a
 * request's time went on this side: event-loop delay, requests in flight,
 * the PostgreSQL pool (busy, idle, callers waiting for a connection) and the
 * time from a request's arrival to its answer and inside the query. Nothing
 * of it runs on the measured path but two timestamps and a counter. */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createService } from '../src';

/** One second of the service, as bench/kpi.ts prints it. */
export interface ServerSample {
  /** Event-loop delay in the second, ms: p99 and max. */
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /** Most HTTP requests in flight at once (sampled every 10 ms). */
  readonly inFlightMax: number;
  /** Most callers waiting for a PostgreSQL connection, and pool connections open (sampled every 10 ms). */
  readonly poolWaitingMax: number;
  readonly poolTotal: number;
  /** Arrival to `finish` of the requests answered in the second, ms: p50 / p99. */
  readonly serverP50Ms: number;
  readonly serverP99Ms: number;
  /** Time inside `db.query` (pool checkout + round trip), ms: p50 / p99. */
  readonly queryP50Ms: number;
  readonly queryP99Ms: number;
  readonly answered: number;
  /** The JavaScript thread's time on a CPU and waiting in the run queue for one, ms in the second (schedstat). */
  readonly onCpuMs: number;
  readonly runQueueMs: number;
}

/** On-CPU and run-queue-wait nanoseconds of one thread (`/proc/<pid>/task/<tid>/schedstat`). */
export function schedstat(path: string): { onCpuNs: number; waitNs: number } {
  const [onCpu, wait] = readFileSync(path, 'utf8').split(' ');
  return { onCpuNs: Number(onCpu), waitNs: Number(wait) };
}

const pick = (xs: number[], q: number): number => {
  if (xs.length === 0) return 0;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
};

async function main(): Promise<void> {
  const service = createService({ env: process.env });
  const db = service.db;
  if (!db) throw new Error('DATABASE_URL is required');
  let queryMs: number[] = [];
  service.router.get('/items/:id', async (ctx) => {
    const t0 = performance.now();
    const { rows } = await db.query('SELECT $1::int AS id, now() AS loaded_at', [Number(ctx.params.id)]);
    queryMs.push(performance.now() - t0);
    ctx.body = rows[0];
  });
  await service.start();
  if (!process.send) return;

  let inFlight = 0;
  let inFlightMax = 0;
  let poolWaitingMax = 0;
  let serverMs: number[] = [];
  service.server!.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    inFlight++;
    res.once('finish', () => {
      inFlight--;
      serverMs.push(performance.now() - t0);
    });
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  setInterval(() => {
    inFlightMax = Math.max(inFlightMax, inFlight);
    poolWaitingMax = Math.max(poolWaitingMax, db.waitingCount);
  }, 10).unref();
  const mainThread = `/proc/self/task/${process.pid}/schedstat`;
  let sched = schedstat(mainThread);
  setInterval(() => {
    const now = schedstat(mainThread);
    const sample: ServerSample = {
      loopP99Ms: loop.percentile(99) / 1e6,
      loopMaxMs: loop.max / 1e6,
      inFlightMax,
      poolWaitingMax,
      poolTotal: db.totalCount,
      serverP50Ms: pick(serverMs, 0.5),
      serverP99Ms: pick(serverMs, 0.99),
      queryP50Ms: pick(queryMs, 0.5),
      queryP99Ms: pick(queryMs, 0.99),
      answered: serverMs.length,
      onCpuMs: (now.onCpuNs - sched.onCpuNs) / 1e6,
      runQueueMs: (now.waitNs - sched.waitNs) / 1e6,
    };
    sched = now;
    process.send!(sample);
    loop.reset();
    inFlightMax = inFlight;
    poolWaitingMax = db.waitingCount;
    serverMs = [];
    queryMs = [];
  }, 1000).unref();
}

// bench/kpi.ts imports the sample's shape and schedstat from here.
if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
