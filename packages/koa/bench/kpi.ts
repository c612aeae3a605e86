/* KPI benchmark (not a test): the guide's throughput KPI on the full stack.
 *
 * bench/kpi-server.ts (createService on Redis and PostgreSQL, NODE_ENV=production,
 * one route that queries PostgreSQL per request) runs pinned to core 0. This
 * process, pinned to core 1, is an open-loop load generator: request i is due
 * at start + i / RATE seconds whatever happened to earlier ones, and its
 * latency is measured from that due time, not from when it was sent, so a
 * stalled server is charged for the whole wait (no coordinated omission, as
 * wrk2 does; wrk2 is not packaged in Debian). Requests come from CLIENTS
 * distinct addresses, round robin, in X-Forwarded-For as one trusted proxy
 * hop appends it (the service trusts the loopback proxy, TRUSTED_PROXY_CIDRS), over a
 * keep-alive pool of CONNECTIONS sockets like a proxy's upstream pool, so
 * the rate limiter keys 10,000 clients on Redis. Redis is a private
 * redis-server; PostgreSQL is the shared one (database `test`).
 *
 * Reports p50/p95/p99/max latency, the error rate (non-2xx, socket errors,
 * no answer within TIMEOUT), and the server's CPU time per request
 * (utime + stime from /proc over the measured window), from which it derives
 * the requests per second one replica sustains at the production CPU limit
 * (500m: 0.5 CPU-seconds per second) and the replicas 1000 req/s needs.
 *
 * On a shared host a pinned service competes with every other process on
 * its core, which a replica with a CPU request does not. With autogroup
 * scheduling (kernel.sched_autogroup_enabled, on here) the kernel first splits
 * a core equally between sessions, and nice only ranks the tasks of one
 * session: renicing the service alone changes nothing against another
 * session's build. So the service runs in a session of its own, and this
 * process (with the private Redis) in another, like two pods' cgroups; BENCH_NICE=-10
 * (as root) sets both the processes' and their sessions' nice
 * (/proc/<pid>/autogroup), a stand-in for the CPU weight a pod's CPU request
 * buys. The table says when it was used.
 *
 *   npx projen bench:kpi   (BENCH_RATE=1000 BENCH_SECONDS=60 BENCH_WARMUP_SECONDS=10 BENCH_CLIENTS=10000 BENCH_CONNECTIONS=64 BENCH_NICE=0)
 *   Extra server settings pass through: e.g. DATABASE_POOL_SIZE=1 npx projen bench:kpi
 *   Profile the service: BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx projen bench:kpi
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client } from 'pg';
import { schedstat, ServerSample } from './kpi-server';
import { pinBesideLoadGenerators, positiveIntEnv, quantile } from './server';
import { ServiceConventions } from '../src/conventions.generated';
import { PrivateRedis } from '../test/support/redis-servers';

const RATE = positiveIntEnv('BENCH_RATE', 1000);
const SECONDS = positiveIntEnv('BENCH_SECONDS', 60);
const WARMUP_SECONDS = positiveIntEnv('BENCH_WARMUP_SECONDS', 10);
const CLIENTS = positiveIntEnv('BENCH_CLIENTS', 10_000);
const CONNECTIONS = positiveIntEnv('BENCH_CONNECTIONS', 64);
const NICE = niceEnv();
/** Extra node flags for the service (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`; NODE_OPTIONS refuses --cpu-prof). */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
/** A request not answered within this counts as an error (the service's own timeout answers 503 sooner). */
const TIMEOUT_MS = 5000;
/** The production CPU limit of a backend replica (the platform chart's 500m). */
const CPU_LIMIT_CORES = 0.5;
const KPI_RATE = 1000;
/** Seconds per row of the printed timeline. */
const TIMELINE_SECONDS = 5;
// Ports of this benchmark (the 23000-23999 range is this bench's, apart from the other benches and tests).
const PORT = 23100;
const REDIS_PORT = 23150;
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** BENCH_NICE: a nice value from -20 to 19 (0 unless set). */
function niceEnv(): number {
  const raw = process.env.BENCH_NICE ?? '0';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -20 || n > 19) {
    process.stderr.write(`BENCH_NICE: '${raw}' is not a nice value (an integer from -20 to 19)\n`);
    process.exit(2);
  }
  return n;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The client address of request i: 10.x.y.z, CLIENTS of them. */
function clientAddress(i: number): string {
  const c = i % CLIENTS;
  return `10.${Math.floor(c / 65536) % 256}.${Math.floor(c / 256) % 256}.${c % 256}`;
}

/** Process ids of the PostgreSQL backends serving the service's pool (found after the warm-up). */
let pgBackends: number[] = [];

async function findBackends(): Promise<number[]> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'kpi-bench'");
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** The service's once-a-second reports (see kpi-server.ts), in arrival order. */
const serverSamples: ServerSample[] = [];

/** One second of this process: what the load generator itself did. */
interface ClientSample {
  readonly sent: number;
  readonly answered: number;
  /** Most requests waiting in the agent for a free connection, and connections busy (sampled every 10 ms). */
  readonly queuedMax: number;
  readonly busyMax: number;
  /** This process's event-loop delay, ms (its timers pace the sends). */
  readonly loopP99Ms: number;
  /** This process's JavaScript thread on a CPU / waiting for one, ms in the second. */
  readonly onCpuMs: number;
  readonly runQueueMs: number;
  /** PostgreSQL backends of the service's pool, summed: on a CPU / waiting for one, ms in the second. */
  readonly pgOnCpuMs: number;
  readonly pgRunQueueMs: number;
}

const countOf = (lists: NodeJS.ReadOnlyDict<readonly unknown[]>): number => Object.values(lists).reduce((n, l) => n + (l?.length ?? 0), 0);

async function startServer(redisUrl: string): Promise<ChildProcess> {
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    SERVICE_NAME: 'kpi-bench',
    PORT: String(PORT),
    METRICS_PORT: String(PORT + 1),
    DATABASE_URL,
    REDIS_URL: redisUrl,
    JWT_SECRET: 'kpi-bench-secret-that-is-at-least-32-bytes',
    // The load generator connects from loopback, standing in for the edge's proxy;
    // what the chart writes for a service the edge routes to (Edge.routedServiceEnv).
    TRUSTED_PROXY_CIDRS: '127.0.0.1/32',
    SECURITY_HEADERS: 'edge',
  };
  const child = spawn('nice', ['-n', String(NICE), 'taskset', '-c', '0', process.execPath, ...SERVER_NODE_ARGS, '-r', join(__dirname, 'transpile.js'), join(__dirname, 'kpi-server.ts')], {
    cwd: join(__dirname, '..'),
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Its own session, so its own scheduling group (see the top of this file).
    detached: true,
  });
  setSessionNice(child.pid!, NICE);
  child.on('message', (m) => serverSamples.push(m as ServerSample));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${PORT}${ServiceConventions.READINESS_PATH}`).then((r) => r.ok, () => false);
    if (ok) return child;
    if (Date.now() > deadline) throw new Error('the service did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Outcome {
  readonly latencyMs: number;
  /** How late the load generator sent it (ms after its due time): large values mean this process, not the service, fell behind. */
  readonly sendLagMs: number;
  readonly ok: boolean;
  readonly status: number;
  /** RateLimit-Remaining of the answer (Infinity without one). */
  readonly remaining: number;
}

/** Sends request `i` now; resolves with its latency from `dueAt` (ms, performance.now()). */
function send(agent: Agent, i: number, dueAt: number): Promise<Outcome> {
  const sendLagMs = performance.now() - dueAt;
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, remaining = Infinity) => {
      if (settled) return;
      settled = true;
      resolve({ latencyMs: performance.now() - dueAt, sendLagMs, ok: status >= 200 && status < 300, status, remaining });
    };
    const req = request({
      host: '127.0.0.1',
      port: PORT,
      path: `/items/${i % 100_000}`,
      agent,
      headers: { 'x-forwarded-for': clientAddress(i) },
      timeout: TIMEOUT_MS,
    }, (res) => {
      res.resume();
      const remaining = res.headers['ratelimit-remaining'];
      res.on('end', () => done(res.statusCode ?? 0, remaining === undefined ? Infinity : Number(remaining)));
      res.on('error', () => done(0));
    });
    req.on('timeout', () => {
      req.destroy();
      done(0);
    });
    req.on('error', () => done(0));
    req.end();
  });
}

/** Runs the fixed schedule for `seconds`; returns every request's outcome and the server CPU over the run. */
interface Run {
  readonly outcomes: Outcome[];
  readonly cpuS: number;
  readonly wallS: number;
  readonly clientSamples: ClientSample[];
  readonly serverSamples: ServerSample[];
}

async function drive(agent: Agent, server: ChildProcess, seconds: number, firstIndex: number): Promise<Run> {
  const total = RATE * seconds;
  const outcomes: Promise<Outcome>[] = [];
  const cpu0 = cpuSeconds(server.pid!);
  const firstServerSample = serverSamples.length;
  const clientSamples: ClientSample[] = [];
  let answered = 0;
  let sentBefore = 0;
  let queuedMax = 0;
  let busyMax = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const mainThread = `/proc/self/task/${process.pid}/schedstat`;
  // Per backend: one that closed (the pool's idle timeout) leaves the sum instead of subtracting its past.
  const backendStat = (): Map<number, { onCpuNs: number; waitNs: number }> => {
    const stats = new Map<number, { onCpuNs: number; waitNs: number }>();
    for (const pid of pgBackends) {
      try {
        stats.set(pid, schedstat(`/proc/${pid}/schedstat`));
      } catch {
        // the backend exited
      }
    }
    return stats;
  };
  const backendDelta = (before: Map<number, { onCpuNs: number; waitNs: number }>, after: Map<number, { onCpuNs: number; waitNs: number }>) => {
    let onCpuNs = 0;
    let waitNs = 0;
    for (const [pid, a] of after) {
      const b = before.get(pid);
      if (b === undefined) continue;
      onCpuNs += a.onCpuNs - b.onCpuNs;
      waitNs += a.waitNs - b.waitNs;
    }
    return { onCpuNs, waitNs };
  };
  let sched = schedstat(mainThread);
  let pgSched = backendStat();
  const probe = setInterval(() => {
    queuedMax = Math.max(queuedMax, countOf(agent.requests));
    busyMax = Math.max(busyMax, countOf(agent.sockets) - countOf(agent.freeSockets));
  }, 10);
  const second = setInterval(() => {
    const now = schedstat(mainThread);
    const pgNow = backendStat();
    const pg = backendDelta(pgSched, pgNow);
    clientSamples.push({
      sent: outcomes.length - sentBefore,
      answered,
      queuedMax,
      busyMax,
      loopP99Ms: loop.percentile(99) / 1e6,
      onCpuMs: (now.onCpuNs - sched.onCpuNs) / 1e6,
      runQueueMs: (now.waitNs - sched.waitNs) / 1e6,
      pgOnCpuMs: pg.onCpuNs / 1e6,
      pgRunQueueMs: pg.waitNs / 1e6,
    });
    sched = now;
    pgSched = pgNow;
    sentBefore = outcomes.length;
    answered = 0;
    queuedMax = 0;
    busyMax = 0;
    loop.reset();
  }, 1000);
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) * RATE) / 1000) + 1);
      // A timer that fires late sends the overdue requests at once; their latency still counts from their due time.
      while (outcomes.length < due) {
        const n = outcomes.length;
        outcomes.push(send(agent, firstIndex + n, start + (n * 1000) / RATE).then((o) => {
          answered++;
          return o;
        }));
      }
      if (outcomes.length < total) setTimeout(pump, 1);
      else resolve();
    };
    pump();
  });
  const settled = await Promise.all(outcomes);
  const cpuS = cpuSeconds(server.pid!) - cpu0;
  const wallS = (performance.now() - start) / 1000;
  clearInterval(probe);
  clearInterval(second);
  loop.disable();
  return { outcomes: settled, cpuS, wallS, clientSamples, serverSamples: serverSamples.slice(firstServerSample) };
}

/** Where the time went, per TIMELINE_SECONDS of the measured run: the load generator's side, then the service's. */
function timeline(client: readonly ClientSample[], server: readonly ServerSample[]): string[] {
  const max = (xs: readonly number[]) => (xs.length === 0 ? 0 : Math.max(...xs));
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : sum(xs) / xs.length).toFixed(0);
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const out = [
    `Per ${TIMELINE_SECONDS} s (max of the seconds unless a count): load generator sent / answered, requests queued in it for a connection, connections busy (of ${CONNECTIONS}), its event-loop delay p99, its JavaScript thread on a CPU / waiting for one; the service's requests in flight, event-loop delay p99 / max, callers waiting for a PostgreSQL connection, pool size, arrival-to-answer p50 / p99, query p50 / p99 (ms), its JavaScript thread on a CPU / waiting for one; the ${pgBackends.length} PostgreSQL backends of its pool after the warm-up (while open), summed, the same. On a CPU / waiting: ms per second, mean of the seconds.`,
    '',
    '| s | sent | answered | queued | busy | gen loop p99 | gen CPU / wait | in flight | loop p99 / max | pool waiting | pool | server p50 / p99 | query p50 / p99 | service CPU / wait | PostgreSQL CPU / wait |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (let t = 0; t < Math.max(client.length, server.length); t += TIMELINE_SECONDS) {
    const c = client.slice(t, t + TIMELINE_SECONDS);
    const v = server.slice(t, t + TIMELINE_SECONDS);
    out.push(`| ${t}–${t + TIMELINE_SECONDS} | ${sum(c.map((x) => x.sent))} | ${sum(c.map((x) => x.answered))} | ${max(c.map((x) => x.queuedMax))} | ${max(c.map((x) => x.busyMax))} | ${f(max(c.map((x) => x.loopP99Ms)))} | ${mean(c.map((x) => x.onCpuMs))} / ${mean(c.map((x) => x.runQueueMs))} `
      + `| ${max(v.map((x) => x.inFlightMax))} | ${f(max(v.map((x) => x.loopP99Ms)))} / ${f(max(v.map((x) => x.loopMaxMs)))} | ${max(v.map((x) => x.poolWaitingMax))} | ${max(v.map((x) => x.poolTotal))} `
      + `| ${f(max(v.map((x) => x.serverP50Ms)))} / ${f(max(v.map((x) => x.serverP99Ms)))} | ${f(max(v.map((x) => x.queryP50Ms)))} / ${f(max(v.map((x) => x.queryP99Ms)))} `
      + `| ${mean(v.map((x) => x.onCpuMs))} / ${mean(v.map((x) => x.runQueueMs))} | ${mean(c.map((x) => x.pgOnCpuMs))} / ${mean(c.map((x) => x.pgRunQueueMs))} |`);
  }
  return out;
}

/** The nice of `pid`'s session's scheduling group (autogroup); without autogroup there is nothing to set. */
function setSessionNice(pid: number, nice: number): void {
  if (nice === 0 || !existsSync(`/proc/${pid}/autogroup`)) return;
  writeFileSync(`/proc/${pid}/autogroup`, String(nice));
}

/** `on` when the kernel splits a core between sessions first (kernel.sched_autogroup_enabled). */
function autogroup(): string {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1' ? 'on' : 'off';
  } catch {
    return 'absent';
  }
}

async function main(): Promise<void> {
  // The load generator on the other core; the service is pinned to core 0 by startServer.
  pinBesideLoadGenerators(process.pid);
  setPriority(NICE);
  setSessionNice(process.pid, NICE);
  const redis = new PrivateRedis(REDIS_PORT, ['--io-threads', '1']);
  await redis.start(); // started by this process, so at its priority
  let server: ChildProcess | undefined;
  try {
    server = await startServer(redis.url);
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    process.stderr.write(`warm-up: ${WARMUP_SECONDS} s at ${RATE} req/s\n`);
    await drive(agent, server, WARMUP_SECONDS, 0);
    pgBackends = await findBackends();
    process.stderr.write(`measuring: ${SECONDS} s at ${RATE} req/s from ${CLIENTS} clients over ${CONNECTIONS} connections\n`);
    const run = await drive(agent, server, SECONDS, RATE * WARMUP_SECONDS);
    agent.destroy();
    const latencies = run.outcomes.map((o) => o.latencyMs);
    const sendLags = run.outcomes.map((o) => o.sendLagMs);
    const errors = run.outcomes.filter((o) => !o.ok).length;
    const cpuUs = (run.cpuS * 1e6) / run.outcomes.length;
    const perReplica = (CPU_LIMIT_CORES * 1e6) / cpuUs;
    const p95 = quantile(latencies, 0.95);
    const errorRate = errors / run.outcomes.length;
    const met = (ok: boolean) => (ok ? 'met' : '**not met**');
    const lines = [
      `${run.outcomes.length} requests at a fixed ${RATE} req/s (open loop, latency from the scheduled time) for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up, from ${CLIENTS} clients through one trusted proxy hop over ${CONNECTIONS} keep-alive connections; service pinned to core 0, load on core 1; ${new Date().toISOString()}, Node ${process.version}, load average at end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, service and load generator each a session (autogroup ${autogroup()})${NICE !== 0 ? `, BENCH_NICE=${NICE}` : ''}${process.env.DATABASE_POOL_SIZE ? `, DATABASE_POOL_SIZE=${process.env.DATABASE_POOL_SIZE}` : ''}.`,
      '',
      '| figure | value | target |',
      '|---|---|---|',
      `| p50 latency | ${quantile(latencies, 0.5).toFixed(1)} ms | |`,
      `| p95 latency | ${p95.toFixed(1)} ms | < 200 ms: ${met(p95 < 200)} |`,
      `| p99 latency | ${quantile(latencies, 0.99).toFixed(1)} ms | |`,
      `| max latency | ${quantile(latencies, 1).toFixed(1)} ms | |`,
      `| errors | ${errors} (${(errorRate * 100).toFixed(3)} %) | < 0.1 %: ${met(errorRate < 0.001)} |`,
      `| load generator's send lag p99 / max | ${quantile(sendLags, 0.99).toFixed(1)} / ${quantile(sendLags, 1).toFixed(1)} ms | (counted in the latencies) |`,
      `| server CPU per request | ${cpuUs.toFixed(0)} µs (${((run.cpuS / run.wallS) * 100).toFixed(0)} % of a core at ${RATE} req/s) | |`,
      `| req/s one replica sustains at ${CPU_LIMIT_CORES * 1000}m CPU (CPU-bound estimate) | ${perReplica.toFixed(0)} | ≥ ${KPI_RATE}: ${met(perReplica >= KPI_RATE)} |`,
      `| replicas for ${KPI_RATE} req/s | ${Math.ceil(KPI_RATE / perReplica)} | |`,
      // Each client sends RATE * 60 / CLIENTS requests a minute: far below the limit only if the limiter keys the forwarded client, not the proxy.
      `| lowest RateLimit-Remaining seen / 429 answers | ${Math.min(...run.outcomes.map((o) => o.remaining))} / ${run.outcomes.filter((o) => o.status === 429).length} | |`,
    ];
    lines.push('', ...timeline(run.clientSamples, run.serverSamples));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await redis.stop();
  }
}

/**
 * This process runs again as the leader of a new session, so that it (with
 * the Redis it starts) is a scheduling group of its own whose nice BENCH_NICE
 * may set without touching the caller's shell.
 */
function inOwnSession(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_KPI_SESSION: String(process.pid) },
    detached: true,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.env.BENCH_KPI_SESSION === undefined) {
  inOwnSession();
} else {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
