/* Benchmarks (not tests): every variant side by side in one run. The
 * variants take short turns under load in a new random order each round: host
 * drift (a noisy VM neighbour) then spoils a round, not a variant, and ratios
 * are taken within a round. Every BENCH_ROUNDS_PER_PROCESS rounds all servers
 * are replaced by fresh processes, since one Node process can run fast or slow
 * for its whole life. The servers are pinned to core 0 (`taskset -c 0`), wrk to
 * core 1; the private redis-server floats. Server CPU per request comes from
 * the schedstat of every thread of the server (ns), Redis commands per request from the
 * INFO commandstats delta. Prints a markdown table of medians and ratios to
 * bare Koa.
 *
 *   npx projen bench            (BENCH_SECONDS=1 BENCH_ROUNDS=40 BENCH_ROUNDS_PER_PROCESS=10 BENCH_CONNECTIONS=50)
 *   BENCH_VARIANTS='rate limit only,fused floor' npx projen bench    (a subset, or the breakdown in server.ts)
 *   BENCH_RATIOS_FILE=run1.json npx projen bench    (also writes every round's CPU ratios, to pool runs)
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { PrivateRedis } from '../test/support/redis-servers';
import { BENCH_REDIS_PORT, median, positiveIntEnv, quantile, selectedVariants, Variant } from './server';

const run = promisify(execFile);
const SECONDS = positiveIntEnv('BENCH_SECONDS', 1);
const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 40);
const CONNECTIONS = positiveIntEnv('BENCH_CONNECTIONS', 50);
/** Rounds measured by one set of server processes before they are replaced. */
const ROUNDS_PER_PROCESS = positiveIntEnv('BENCH_ROUNDS_PER_PROCESS', 10);
const SELECTED = selectedVariants();
/** Variant i listens on FIRST_SERVER_PORT + i. */
const FIRST_SERVER_PORT = 7151;

interface Sample {
  readonly rps: number;
  readonly cpuUsPerRequest: number;
  readonly redisCommandsPerRequest: number;
  readonly scriptCallsPerRequest: number;
  readonly errors: number;
}

/** A new random order each round, so no variant always follows the same one. */
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * CPU time of every thread of `pid` in ns (/proc/<pid>/task/<tid>/schedstat):
 * /proc/<pid>/stat counts 10 ms ticks, and a 1 s turn of a server on a busy
 * host may use only 20 of them.
 */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns;
}

async function commandStats(redis: PrivateRedis): Promise<{ all: number; scripts: number }> {
  const text = await redis.cli('info', 'commandstats');
  let all = 0;
  let scripts = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === 'info') continue;
    all += Number(m[2]);
    if (m[1] === 'eval' || m[1] === 'evalsha') scripts += Number(m[2]);
  }
  return { all, scripts };
}

async function wrk(port: number, seconds: number): Promise<{ requests: number; rps: number; errors: number }> {
  const { stdout } = await run('taskset', ['-c', '1', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`], { timeout: (seconds + 30) * 1000 });
  const requests = Number(/(\d+) requests in/.exec(stdout)![1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = (non2xx ? Number(non2xx[1]) : 0) + (socketErrors ? socketErrors.slice(1).reduce((s, v) => s + Number(v), 0) : 0);
  return { requests, rps, errors };
}

async function startServer(variant: Variant, port: number, redisUrl: string): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', process.execPath, '-r', join(__dirname, 'transpile.js'), join(__dirname, 'server.ts'), variant, String(port), redisUrl], {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve());
  });
  return child;
}

/** One slice of load on one server: wrk for `seconds`, with the server's CPU and Redis's commands over it. */
async function measure(server: { child: ChildProcess; port: number }, redis: PrivateRedis, seconds: number): Promise<Sample> {
  const cpu0 = cpuNs(server.child.pid!);
  const stats0 = await commandStats(redis);
  const { requests, rps, errors } = await wrk(server.port, seconds);
  const ns = cpuNs(server.child.pid!) - cpu0;
  const stats1 = await commandStats(redis);
  return {
    rps,
    cpuUsPerRequest: ns / 1000 / requests,
    redisCommandsPerRequest: (stats1.all - stats0.all) / requests,
    scriptCallsPerRequest: (stats1.scripts - stats0.scripts) / requests,
    errors,
  };
}

async function main(): Promise<void> {
  const redis = new PrivateRedis(BENCH_REDIS_PORT, ['--io-threads', '1']);
  await redis.start();
  const samples = new Map<Variant, Sample[]>(SELECTED.map((v) => [v, []]));
  let servers: { variant: Variant; child: ChildProcess; port: number }[] = [];
  const stopServers = async () => {
    for (const { child } of servers) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    servers = [];
  };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      if (r % ROUNDS_PER_PROCESS === 0) {
        await stopServers(); // fresh processes: see the header comment
        for (const [i, variant] of SELECTED.entries()) {
          servers.push({ variant, port: FIRST_SERVER_PORT + i, child: await startServer(variant, FIRST_SERVER_PORT + i, redis.url) });
        }
        for (const server of servers) await measure(server, redis, 2); // warm-up: JIT, connections, the cache entry, the Lua script
      }
      for (const server of shuffled(servers)) {
        const s = await measure(server, redis, SECONDS);
        samples.get(server.variant)!.push(s);
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${server.variant.padEnd(10)} ${s.rps.toFixed(0)} req/s, ${s.cpuUsPerRequest.toFixed(1)} µs CPU/req, ${s.redisCommandsPerRequest.toFixed(2)} Redis cmds/req, ${s.scriptCallsPerRequest.toFixed(2)} scripts/req, ${s.errors} errors\n`);
      }
    }
  } finally {
    await stopServers();
    await redis.stop();
  }
  const med = (v: Variant, f: (s: Sample) => number) => median(samples.get(v)!.map(f));
  // Ratios are taken within a round (same host conditions), then the median (and quartiles) across rounds.
  const ratios = (v: Variant, base: Variant, f: (s: Sample) => number) => samples.get(v)!.map((s, i) => f(s) / f(samples.get(base)![i]));
  const ratio = (v: Variant, f: (s: Sample) => number) => median(ratios(v, 'bare Koa', f));
  const cpu = (s: Sample) => s.cpuUsPerRequest;
  const spread = (xs: number[]) => `${median(xs).toFixed(2)} (${quantile(xs, 0.25).toFixed(2)} – ${quantile(xs, 0.75).toFixed(2)})`;
  const deferred = SELECTED.includes('deferred bare Koa');
  const lines = [
    `Medians of ${ROUNDS} rounds (ratios: median of the per-round ratios, quartiles in brackets), ${SECONDS} s turns, wrk ${CONNECTIONS} connections; ${new Date().toISOString()}, ${execFileSync('uname', ['-m']).toString().trim()}, Node ${process.version}, load average at end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    '',
    `| variant | req/s | req/s vs bare Koa | server CPU µs/request | CPU/request vs bare Koa |${deferred ? ' CPU/request vs deferred bare Koa |' : ''} Redis commands/request (incl. inside scripts) | script round trips/request | errors |`,
    `|---|---|---|---|---|${deferred ? '---|' : ''}---|---|---|`,
  ];
  for (const v of SELECTED) {
    const vsDeferred = deferred ? ` ${v === 'this stack' || v === 'rate limit only' || v === 'fused floor' ? spread(ratios(v, 'deferred bare Koa', cpu)) : ''} |` : '';
    lines.push(`| ${v} | ${med(v, (s) => s.rps).toFixed(0)} | ${ratio(v, (s) => s.rps).toFixed(2)} | ${med(v, cpu).toFixed(1)} | ${spread(ratios(v, 'bare Koa', cpu))} |${vsDeferred} ${med(v, (s) => s.redisCommandsPerRequest).toFixed(2)} | ${med(v, (s) => s.scriptCallsPerRequest).toFixed(2)} | ${samples.get(v)!.reduce((n, s) => n + s.errors, 0)} |`);
  }
  // Every round's CPU ratios, for pooling several runs (BENCH_RATIOS_FILE).
  if (process.env.BENCH_RATIOS_FILE) {
    const pooled = Object.fromEntries(SELECTED.map((v) => [v, { vsBare: ratios(v, 'bare Koa', cpu), ...(deferred ? { vsDeferred: ratios(v, 'deferred bare Koa', cpu) } : {}) }]));
    writeFileSync(process.env.BENCH_RATIOS_FILE, JSON.stringify(pooled));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
