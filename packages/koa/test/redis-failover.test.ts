/* Redis killed, restarted and frozen in the middle of traffic (a private
 * redis-server: the shared one is never stopped). The rate limiter and the
 * caches must keep answering, fast, with no 5xx, and use Redis again once it
 * is back. */
import Koa from 'koa';
import { Registry } from 'prom-client';
import { responseCache, ResponseCacheMiddleware, TwoLevelCache } from '../src/cache';
import { MetricNames } from '../src/conventions.generated';
import { rateLimit } from '../src/rate-limit';
import { createRedisClient, REDIS_FAIL_FAST_DEFAULTS, RedisClient, waitForRedis } from '../src/redis';
import { HostStalls } from './support/host-stalls';
import { hit, listen, Listening, sleep } from './support/redis-http';
import { PrivateRedis } from './support/redis-servers';

const redisServer = new PrivateRedis(7100);
/**
 * What one request may wait for Redis on one node: a single deadline, since
 * the first timeout suspends Redis use for every later call of every request.
 */
const FAIL_FAST_MS = REDIS_FAIL_FAST_DEFAULTS.commandTimeoutMs;
let redis: RedisClient;
let server: Listening;
let values: TwoLevelCache<{ n: number }>;
let httpCache: ResponseCacheMiddleware;
const registry = new Registry();
let loads = 0;
/** Server-side time of each request: what Redis trouble can add, without the test client's own scheduling. */
const serverMs: number[] = [];

beforeAll(async () => {
  await redisServer.start();
  redis = createRedisClient({ url: redisServer.url });
  await waitForRedis(redis);
  values = new TwoLevelCache<{ n: number }>({ redis, namespace: 'failover:v:', ttlMs: 60_000, l1MaxTtlMs: 20 });
  const app = new Koa();
  app.use(async (_ctx, next) => {
    const started = performance.now();
    await next();
    serverMs.push(performance.now() - started);
  });
  app.use(rateLimit({ redis, limit: 1_000_000, registry, trustedProxies: 1 }));
  httpCache = responseCache({ redis, namespace: 'failover:http:', ttlMs: 60_000, l1MaxTtlMs: 20 });
  app.use(httpCache);
  app.use(async (ctx) => {
    if (ctx.path === '/value') {
      ctx.body = await values.wrap('item', () => ({ n: ++loads }));
    } else {
      ctx.body = { page: ctx.path };
    }
  });
  server = await listen(app);
}, 30_000);

afterAll(async () => {
  await server.close();
  await httpCache.close();
  await values.close();
  redis.disconnect();
  await redisServer.stop();
});

interface Sample { status: number; ms: number }

/** `loops` clients, each sending requests back to back for `durationMs`. */
async function traffic(durationMs: number, loops = 6): Promise<Sample[]> {
  const samples: Sample[] = [];
  const end = Date.now() + durationMs;
  await Promise.all(Array.from({ length: loops }, async (_, i) => {
    let n = 0;
    while (Date.now() < end) {
      const path = ['/value', `/page/${n % 5}`, '/plain'][n++ % 3];
      const r = await hit(`${server.url}${path}`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } });
      samples.push({ status: r.status, ms: r.ms });
    }
  }));
  return samples;
}

async function fallbacks(): Promise<number> {
  const m = await registry.getSingleMetric(MetricNames.RATE_LIMIT_FALLBACK_TOTAL)!.get();
  return m.values.reduce((sum, v) => sum + v.value, 0);
}

/** EVALSHA + EVAL calls the private server has run since it started. */
async function scriptCalls(): Promise<number> {
  const stats = await redisServer.cli('info', 'commandstats');
  return [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

function expectHealthy(samples: Sample[]): void {
  expect(samples.length).toBeGreaterThanOrEqual(6);
  expect(samples.filter((s) => s.status !== 200)).toEqual([]);
}

test('killed, restarted and frozen Redis: no 5xx, no request held past one deadline, Redis used again after restart', async () => {
  expectHealthy(await traffic(500));
  expect(await fallbacks()).toBe(0);

  // Crash.
  serverMs.length = 0;
  const crashStalls = new HostStalls();
  const during = traffic(1500);
  await sleep(300);
  await redisServer.kill();
  const crashed = await during;
  expectHealthy(crashed);
  crashStalls.expectSlowestWithin('crashed', serverMs, FAIL_FAST_MS);
  expect(await fallbacks()).toBeGreaterThan(0);

  // Restart (empty: no persistence): the client reconnects by itself.
  await redisServer.start();
  await waitForRedis(redis, 10_000);
  const before = await fallbacks();
  const resumed = await traffic(500);
  expectHealthy(resumed);
  expect(await fallbacks()).toBe(before);
  // Every limiter decision ran on the new server (no fallback above; decisions of one turn share a script call),
  // and both caches' L2 entries are back.
  expect(await scriptCalls()).toBeGreaterThan(0);
  const keys = (await redisServer.cli('--scan')).split('\n');
  expect(keys).toContain('failover:v:item');
  expect(keys.some((k) => k.startsWith('failover:http:/page/'))).toBe(true);

  // Frozen (SIGSTOP: connections stay open, nothing answers): each Redis call gives up at the deadline.
  serverMs.length = 0;
  const frozenStalls = new HostStalls();
  process.kill(redisServer.pid!, 'SIGSTOP');
  let frozen: Sample[];
  try {
    frozen = await traffic(1200);
  } finally {
    process.kill(redisServer.pid!, 'SIGCONT');
  }
  expectHealthy(frozen);
  frozenStalls.expectSlowestWithin('frozen', serverMs, FAIL_FAST_MS);
  expect(await fallbacks()).toBeGreaterThan(before);
  // Redis use resumes once the suspension that followed the timeouts ends.
  await sleep(1100);
  const afterFreeze = await fallbacks();
  expectHealthy(await traffic(300));
  expect(await fallbacks()).toBe(afterFreeze);
}, 60_000);
