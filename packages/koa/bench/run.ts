/* Benchmarks (not tests): every variant against its baseline, side by side.
 * A turn loads a variant and its baseline at the same time, both servers
 * pinned to core 0 (`taskset -c 0`) and sharing it, each driven by its own wrk
 * on core 1; the ratio of their CPU per request is taken within the turn. A
 * VM neighbour, a frequency change or a burst of steal then slows both alike,
 * where turns taken one after the other (the first design) let the same code's
 * median move by 0.25 between runs. Each round runs every pair once, in a new
 * random order; every BENCH_ROUNDS_PER_PROCESS rounds all servers are replaced
 * by fresh processes, since one Node process can run a few percent fast or slow
 * for its whole life. A second bare Koa process paired with the first is the
 * control: its ratio shows what the instrument itself reads for equal code.
 * Server CPU per request comes from the schedstat of every thread of the server
 * (ns), Redis commands per request from the INFO commandstats delta of the
 * turns against bare Koa (which sends none). The private redis-server runs on
 * core 1 with the wrks, off the servers' core, as Redis is off the service's
 * nodes in production.
 *
 *   npx projen bench            (BENCH_SECONDS=1 BENCH_ROUNDS=30 BENCH_ROUNDS_PER_PROCESS=5 BENCH_CONNECTIONS=50)
 *   BENCH_VARIANTS='rate limit only,fused floor' npx projen bench    (a subset, or the breakdown in server.ts)
 *   BENCH_RATIOS_FILE=run1.json npx projen bench    (also writes every turn's CPU ratios, to pool runs)
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { BENCH_REDIS_PORT, CONTROL, median, pinBesideLoadGenerators, positiveIntEnv, quantile, requireCommands, selectedVariants, Variant } from './server';
import { PrivateRedis } from '../test/support/redis-servers';

const run = promisify(execFile);
const SECONDS = positiveIntEnv('BENCH_SECONDS', 1);
const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 30);
const CONNECTIONS = positiveIntEnv('BENCH_CONNECTIONS', 50);
/** Rounds measured by one set of server processes before they are replaced. */
const ROUNDS_PER_PROCESS = positiveIntEnv('BENCH_ROUNDS_PER_PROCESS', 5);
const SELECTED = selectedVariants();
/** The selected variants and the control. */
const MEASURED: Variant[] = [...SELECTED.filter((v) => v !== CONTROL), CONTROL];
/** Variant i listens on FIRST_SERVER_PORT + i. */
const FIRST_SERVER_PORT = 7151;

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

/** What one server did during a turn. */
interface Load {
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly cpuNs: number;
}

/** Loads `servers` at the same time for `seconds`, each with its own wrk; their CPU is read around the same interval. */
async function loadTogether(servers: readonly Server[], seconds: number): Promise<Load[]> {
  const cpu0 = servers.map((s) => cpuNs(s.child.pid!));
  // The wrk started first has the core to itself for a moment: a random side each turn.
  const results: Awaited<ReturnType<typeof wrk>>[] = [];
  await Promise.all(shuffled(servers.map((_, i) => i)).map(async (i) => {
    results[i] = await wrk(servers[i].port, seconds);
  }));
  return results.map((r, i) => ({ ...r, cpuNs: cpuNs(servers[i].child.pid!) - cpu0[i] }));
}

interface Server {
  readonly variant: Variant;
  readonly child: ChildProcess;
  readonly port: number;
}

/** A variant and the baseline its ratio is taken against. */
interface Pair {
  readonly variant: Variant;
  readonly baseline: Variant;
}

/** Every selected variant against bare Koa, and the variants whose fair baseline is the deferred one against that too. */
function pairsOf(selected: readonly Variant[]): Pair[] {
  const pairs: Pair[] = selected.filter((v) => v !== 'bare Koa').map((variant) => ({ variant, baseline: 'bare Koa' }));
  if (selected.includes('deferred bare Koa')) {
    for (const variant of DEFERRED_BASELINE) {
      if (selected.includes(variant)) pairs.push({ variant, baseline: 'deferred bare Koa' });
    }
  }
  return pairs;
}

/** Variants that wait for one shared Redis round trip per batch: the deferred baseline is theirs. */
const DEFERRED_BASELINE: readonly Variant[] = ['deferred limiter script', 'deferred reply only', 'this stack', 'this stack behind the edge', 'rate limit only', 'fused floor', 'deferred busy loop'];

async function main(): Promise<void> {
  requireCommands({ 'wrk': 'apt-get install wrk', 'redis-server': 'apt-get install redis-server', 'taskset': 'apt-get install util-linux' });
  const redis = new PrivateRedis(BENCH_REDIS_PORT, ['--io-threads', '1']);
  await redis.start();
  pinBesideLoadGenerators(redis.pid!);
  const pairs = pairsOf(MEASURED);
  const key = (p: Pair) => `${p.variant} / ${p.baseline}`;
  const ratios = new Map<string, number[]>(pairs.map((p) => [key(p), []]));
  /** Per variant, from its turns against bare Koa: CPU per request, req/s ratio, Redis use, errors. */
  const stats = new Map<Variant, { cpuUs: number[]; rpsRatio: number[]; commands: number[]; scripts: number[]; errors: number }>(
    MEASURED.map((v) => [v, { cpuUs: [], rpsRatio: [], commands: [], scripts: [], errors: 0 }]));
  /**
   * Two processes of its own per pair: a baseline shared by every pair would be
   * loaded every turn while each variant idles between its turns, and it read
   * every variant dearer (likely V8 shrinking the idle heaps; see the README).
   */
  let servers = new Map<Pair, [Server, Server]>();
  const stopServers = async () => {
    for (const { child } of [...servers.values()].flat()) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    servers = new Map();
  };
  const startPair = async (pair: Pair, i: number): Promise<[Server, Server]> => {
    const [variant, baseline] = await Promise.all([pair.variant, pair.baseline].map(async (v, j) => {
      const port = FIRST_SERVER_PORT + 2 * i + j;
      return { variant: v, port, child: await startServer(v, port, redis.url) };
    }));
    return [variant, baseline];
  };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      if (r % ROUNDS_PER_PROCESS === 0) {
        await stopServers(); // fresh processes: see the header comment
        servers = new Map(await Promise.all(pairs.map(async (pair, i) => [pair, await startPair(pair, i)] as const)));
        for (const pair of servers.values()) await loadTogether(pair, 2); // warm-up: JIT, connections, the cache entry, the Lua script
      }
      for (const pair of shuffled(pairs)) {
        const stats0 = await commandStats(redis);
        const [v, b] = await loadTogether(servers.get(pair)!, SECONDS);
        const stats1 = await commandStats(redis);
        const cpuV = v.cpuNs / 1000 / v.requests;
        const cpuB = b.cpuNs / 1000 / b.requests;
        ratios.get(key(pair))!.push(cpuV / cpuB);
        const st = stats.get(pair.variant)!;
        st.errors += v.errors;
        if (pair.baseline === 'bare Koa') {
          st.cpuUs.push(cpuV);
          st.rpsRatio.push(v.rps / b.rps);
          // Bare Koa sends no Redis command: the delta is the variant's.
          st.commands.push((stats1.all - stats0.all) / v.requests);
          st.scripts.push((stats1.scripts - stats0.scripts) / v.requests);
        }
        const base = stats.get(pair.baseline)!;
        base.cpuUs.push(cpuB);
        base.errors += b.errors;
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${key(pair).padEnd(36)} ${(cpuV / cpuB).toFixed(3)}  (${cpuV.toFixed(1)} / ${cpuB.toFixed(1)} µs CPU/req, ${v.rps.toFixed(0)} / ${b.rps.toFixed(0)} req/s, ${v.errors + b.errors} errors)\n`);
      }
    }
  } finally {
    await stopServers();
    await redis.stop();
  }
  const spread = (xs: readonly number[]) => `${median(xs).toFixed(2)} (${quantile(xs, 0.25).toFixed(2)} – ${quantile(xs, 0.75).toFixed(2)})`;
  const deferred = SELECTED.includes('deferred bare Koa');
  const lines = [
    `Medians of ${ROUNDS} rounds, each variant sharing core 0 with its baseline for ${SECONDS} s turns (ratios: median of the per-turn ratios, quartiles in brackets), wrk ${CONNECTIONS} connections per server, fresh processes every ${ROUNDS_PER_PROCESS} rounds; ${new Date().toISOString()}, ${execFileSync('uname', ['-m']).toString().trim()}, Node ${process.version}, load average at end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    '',
    `| variant | server CPU µs/request | CPU/request vs bare Koa |${deferred ? ' CPU/request vs deferred bare Koa |' : ''} req/s vs bare Koa | Redis commands/request (incl. inside scripts) | script round trips/request | errors |`,
    `|---|---|---|${deferred ? '---|' : ''}---|---|---|---|`,
  ];
  for (const v of MEASURED) {
    const st = stats.get(v)!;
    const vsBare = v === 'bare Koa' ? '1.00' : spread(ratios.get(`${v} / bare Koa`)!);
    const vsDeferred = deferred ? ` ${ratios.has(`${v} / deferred bare Koa`) ? spread(ratios.get(`${v} / deferred bare Koa`)!) : ''} |` : '';
    const perVariant = (xs: number[], digits: number) => (xs.length > 0 ? median(xs).toFixed(digits) : '0.00');
    lines.push(`| ${v} | ${median(st.cpuUs).toFixed(1)} | ${vsBare} |${vsDeferred} ${v === 'bare Koa' ? '1.00' : perVariant(st.rpsRatio, 2)} | ${perVariant(st.commands, 2)} | ${perVariant(st.scripts, 2)} | ${st.errors} |`);
  }
  // Every turn's CPU ratios, for pooling several runs (BENCH_RATIOS_FILE).
  if (process.env.BENCH_RATIOS_FILE) {
    const pooled = Object.fromEntries(MEASURED.filter((v) => v !== 'bare Koa').map((v) => [v, {
      vsBare: ratios.get(`${v} / bare Koa`)!,
      ...(ratios.has(`${v} / deferred bare Koa`) ? { vsDeferred: ratios.get(`${v} / deferred bare Koa`)! } : {}),
    }]));
    writeFileSync(process.env.BENCH_RATIOS_FILE, JSON.stringify(pooled));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
