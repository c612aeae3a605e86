/* What waiting longer for the same Redis reply costs this process: one script
 * call of BENCH_KEYS keys at a time, each answered with the limiter's reply
 * shape (a debt and an admitted count per key) after Redis has spun for a given number of Lua
 * iterations. The process does the same work for every call; only how long it
 * waits differs. Holds take turns in short slices (many rounds, a rotating
 * order), and each round's CPU per call is divided by that of the call that
 * does not spin; the median of those ratios is printed. The limiter's own
 * script (GCRA_LUA, on distinct clients) runs beside them for comparison.
 *
 * On a host where going idle and being woken costs the waiting process CPU (a
 * virtual machine whose vCPU halts, caches that go cold), CPU per call grows
 * with the hold: why the limiter's script call, whose Redis time is its
 * per-key writes, costs the server more than a PING with the same batching
 * (see the README's "Against the targets").
 *
 *   npx projen bench:redis-wait    (BENCH_ROUNDS=20 BENCH_SLICE_MS=200 BENCH_KEYS=50)
 */
import { readFileSync } from 'node:fs';
import { BENCH_REDIS_PORT, median, NO_LIMIT, pinBesideLoadGenerators, pinToMeasuredCore, positiveIntEnv, quantile, REPLY_ONLY_LUA, WINDOW_MS } from './server';
import { GCRA_LUA } from '../src/rate-limit/gcra';
import { createRedisClient, RedisClient, waitForRedis } from '../src/redis';
import { PrivateRedis } from '../test/support/redis-servers';

const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 20);
const SLICE_MS = positiveIntEnv('BENCH_SLICE_MS', 200);
const KEYS = positiveIntEnv('BENCH_KEYS', 50);
const heldReply = (spins: number): string => `local x = 0 for j = 1, ${spins} do x = x + j end ${REPLY_ONLY_LUA}`;

/** The scripts compared: the first, which replies at once, is the baseline; the limiter's own script last. */
const SCRIPTS = [
  ...[0, 10_000, 50_000, 100_000, 200_000].map((n) => ({ name: `reply after ${n} Lua iterations`, lua: heldReply(n) })),
  { name: 'the limiter\'s script (distinct clients)', lua: GCRA_LUA },
];

interface Slice { cpuUs: number; wallUs: number }

/** Calls the script one at a time for `ms` and returns the process's CPU and the wall time per call. */
async function slice(redis: RedisClient, sha: string, keys: readonly string[], ms: number): Promise<Slice> {
  // One request per client, as the limiter sends a batch of distinct clients.
  const requests = keys.map(() => 1);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < ms) {
    await redis.evalsha(sha, keys.length, ...keys, NO_LIMIT, WINDOW_MS, ...requests);
    calls++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / calls, wallUs: ((performance.now() - t0) * 1000) / calls };
}

async function main(): Promise<void> {
  const server = new PrivateRedis(BENCH_REDIS_PORT, ['--io-threads', '1']);
  await server.start();
  try {
    pinBesideLoadGenerators(server.pid!);
    pinToMeasuredCore(process.pid);
    const redis = createRedisClient({ url: server.url, commandTimeoutMs: 10_000 });
    await waitForRedis(redis);
    const keys = Array.from({ length: KEYS }, (_, i) => `rl:default:10.0.${Math.floor(i / 256)}.${i % 256}`);
    const shas = await Promise.all(SCRIPTS.map(({ lua }) => redis.script('LOAD', lua) as Promise<string>));
    for (const sha of shas) await slice(redis, sha, keys, 500); // warm-up: JIT, the connection, the script cache
    const ratios = SCRIPTS.map((): number[] => []);
    const cpu = SCRIPTS.map((): number[] => []);
    const wall = SCRIPTS.map((): number[] => []);
    for (let r = 0; r < ROUNDS; r++) {
      const round: Slice[] = [];
      for (let k = 0; k < SCRIPTS.length; k++) {
        const i = (r + k) % SCRIPTS.length;
        round[i] = await slice(redis, shas[i], keys, SLICE_MS);
      }
      round.forEach((s, i) => {
        ratios[i].push(s.cpuUs / round[0].cpuUs);
        cpu[i].push(s.cpuUs);
        wall[i].push(s.wallUs);
      });
    }
    redis.disconnect();
    const f = (x: number) => x.toFixed(2);
    process.stdout.write([
      `One script call of ${KEYS} keys at a time, the limiter's reply shape; ${ROUNDS} rounds of ${SLICE_MS} ms slices per script; ` +
        `${new Date().toISOString()}, Node ${process.version}, load average at end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
      '',
      '| script | wall µs/call | this process\'s CPU µs/call | CPU/call vs the immediate reply |',
      '|---|---|---|---|',
      ...SCRIPTS.map(({ name }, i) => `| ${name} | ${median(wall[i]).toFixed(0)} | ${median(cpu[i]).toFixed(1)} | ${i === 0 ? '1.00' : `${f(median(ratios[i]))} (${f(quantile(ratios[i], 0.25))} – ${f(quantile(ratios[i], 0.75))})`} |`),
      '',
    ].join('\n'));
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
