import { createHash } from 'node:crypto';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { MetricNames, RuntimeDefaults } from '../src/conventions.generated';
import { clientIdentity, GCRA_LUA, GcraDecision, gcraStep, MemoryGcraStore, rateLimit, RateLimitOptions, RedisGcraStore } from '../src/rate-limit';
import { createRedisClient, RedisClient, waitForRedis } from '../src/redis';
import { hit, listen, Listening, sleep, uniquePrefix } from './support/redis-http';
import { PrivateRedis, SHARED_REDIS_URL } from './support/redis-servers';

const GCRA_SHA_FOR_TEST = createHash('sha1').update(GCRA_LUA).digest('hex');

let redis: RedisClient;
const servers: Listening[] = [];

beforeAll(async () => {
  redis = createRedisClient({ url: SHARED_REDIS_URL });
  await waitForRedis(redis);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(() => redis.disconnect());

async function serve(options: RateLimitOptions): Promise<string> {
  const app = new Koa();
  app.use(rateLimit(options));
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  const s = await listen(app);
  servers.push(s);
  return s.url;
}

async function statuses(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const results = await Promise.all(Array.from({ length: n }, () => hit(url, { headers })));
  return results.map((r) => r.status);
}

const count = (list: number[], status: number) => list.filter((s) => s === status).length;

describe('GCRA', () => {
  test('admits a burst of exactly limit, then one per interval', () => {
    const limit = 7;
    const interval = 1000 / limit;
    let debt = 0;
    const admitted = [];
    for (let i = 0; i < 20; i++) {
      const d = gcraStep(debt, limit, interval);
      if (d.allowed) {
        admitted.push(d.remaining);
        debt += 1;
      }
    }
    expect(admitted).toEqual([6, 5, 4, 3, 2, 1, 0]);
    // One interval later exactly one request is paid back.
    expect(gcraStep(debt - 1, limit, interval).allowed).toBe(true);
    const rejected = gcraStep(debt - 1 / interval, limit, interval);
    expect(rejected).toMatchObject({ allowed: false, remaining: 0 });
    expect(rejected.retryAfterMs).toBeGreaterThan(0);
  });
});

describe('rateLimit on the shared Redis', () => {
  test('defaults come from the conventions and headers are set', async () => {
    const url = await serve({ redis, keyPrefix: uniquePrefix('defaults') });
    const res = await hit(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe(String(RuntimeDefaults.RATE_LIMIT_REQUESTS));
    expect(res.headers.get('ratelimit-remaining')).toBe(String(RuntimeDefaults.RATE_LIMIT_REQUESTS - 1));
    expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
  });

  test('exactly limit requests pass, the rest get 429 with Retry-After', async () => {
    const registry = new Registry();
    const url = await serve({ redis, limit: 5, window: '1m', keyPrefix: uniquePrefix('exact'), registry });
    const got = await statuses(url, 25);
    expect(count(got, 200)).toBe(5);
    expect(count(got, 429)).toBe(20);
    const rejected = await hit(url);
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(rejected.headers.get('retry-after'))).toBeLessThanOrEqual(12);
    expect(JSON.parse(rejected.body)).toEqual({ error: 'too_many_requests' });
    const metric = await registry.getSingleMetric(MetricNames.RATE_LIMIT_REJECTED_TOTAL)!.get();
    expect(metric.values.find((v) => v.labels.route === 'default')?.value).toBe(21);
  });

  test('the quota comes back as the window passes', async () => {
    const url = await serve({ redis, limit: 3, window: 600, keyPrefix: uniquePrefix('refill') });
    expect(count(await statuses(url, 6), 200)).toBe(3);
    await sleep(650);
    expect(count(await statuses(url, 6), 200)).toBe(3);
  });

  test('a login route has its own, stricter quota', async () => {
    const url = await serve({
      redis,
      limit: 50,
      keyPrefix: uniquePrefix('login'),
      routes: [{ name: 'login', path: '/login', method: 'POST', limit: RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS }],
    });
    const logins = await Promise.all(Array.from({ length: 12 }, () => hit(`${url}/login`, { method: 'POST' })));
    expect(count(logins.map((r) => r.status), 200)).toBe(RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS);
    expect(logins[0].headers.get('ratelimit-limit')).toBe(String(RuntimeDefaults.LOGIN_RATE_LIMIT_REQUESTS));
    // Other routes and other methods still use the default quota.
    expect((await hit(`${url}/login`)).status).toBe(200);
    expect((await hit(`${url}/items`)).headers.get('ratelimit-limit')).toBe('50');
  });

  test('a spoofed X-Forwarded-For does not change the client without trusted proxies', async () => {
    const url = await serve({ redis, limit: 4, keyPrefix: uniquePrefix('spoof') });
    const got = await Promise.all(Array.from({ length: 12 }, (_, i) => hit(url, { headers: { 'x-forwarded-for': `203.0.113.${i}` } })));
    expect(count(got.map((r) => r.status), 200)).toBe(4);
  });

  test('behind a trusted proxy each forwarded client has its own quota, and prepending does not help', async () => {
    const url = await serve({ redis, limit: 2, keyPrefix: uniquePrefix('proxy'), trustedProxies: ['127.0.0.0/8', '::1'] });
    for (const client of ['198.51.100.1', '198.51.100.2']) {
      expect(count(await statuses(url, 5, { 'x-forwarded-for': client }), 200)).toBe(2);
    }
    // The proxy appends the real address; whatever the client wrote on the left is ignored.
    const spoofed = await Promise.all(Array.from({ length: 4 }, (_, i) => hit(url, { headers: { 'x-forwarded-for': `10.9.9.${i}, 198.51.100.1` } })));
    expect(count(spoofed.map((r) => r.status), 200)).toBe(0);
  });
});

describe('batching (private Redis, to count its commands)', () => {
  const server = new PrivateRedis(7101);
  let client: RedisClient;

  beforeAll(async () => {
    await server.start();
    client = createRedisClient({ url: server.url, commandTimeoutMs: 2000 });
    await waitForRedis(client);
    // Load the script, so the counts below are not inflated by the first NOSCRIPT and its EVAL.
    await new RedisGcraStore(client).take(uniquePrefix('warm'), { limit: 100, windowMs: 1000 });
  });

  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  async function scriptCalls(): Promise<number> {
    const stats = await server.cli('info', 'commandstats');
    return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  }

  /** 3 clients x 12 decisions asked in the same event-loop turn, through the store directly. */
  async function burst(store: RedisGcraStore, prefix: string): Promise<Map<string, number>> {
    const clients = ['a', 'b', 'c'];
    const asks = clients.flatMap((c) => Array.from({ length: 12 }, () => c));
    const limit = { limit: 5, windowMs: 60_000 };
    const decisions = await Promise.all(asks.map((c) => store.take(`${prefix}${c}`, limit)));
    const allowed = new Map(clients.map((c) => [c, 0]));
    decisions.forEach((d, i) => d.allowed && allowed.set(asks[i], allowed.get(asks[i])! + 1));
    return allowed;
  }

  test('decisions of one turn share a script call and stay exact per client', async () => {
    const before = await scriptCalls();
    const allowed = await burst(new RedisGcraStore(client), uniquePrefix('batch'));
    expect(Object.fromEntries(allowed)).toEqual({ a: 5, b: 5, c: 5 });
    expect(await scriptCalls() - before).toBe(1);
  });

  test('admitted and rejected decisions carry their numbers; each limit gets its own call', async () => {
    const store = new RedisGcraStore(client);
    const strict = { limit: 2, windowMs: 60_000 };
    const loose = { limit: 60, windowMs: 60_000 };
    const key = uniquePrefix('numbers');
    const before = await scriptCalls();
    const [first, second, third, other] = await Promise.all([store.take(key, strict), store.take(key, strict), store.take(key, strict), store.take(`${key}:other`, loose)]);
    expect(await scriptCalls() - before).toBe(2);
    // Milliseconds are rounded up from a stored float: allow 1 ms.
    const ms = (n: number) => ({ asymmetricMatch: (actual: number) => Math.abs(actual - n) <= 1, toAsymmetricMatcher: () => `${n} ± 1` });
    expect(first).toEqual({ allowed: true, remaining: 1, resetMs: ms(30_000), retryAfterMs: 0 });
    expect(second).toEqual({ allowed: true, remaining: 0, resetMs: ms(60_000), retryAfterMs: 0 });
    expect(third).toEqual({ allowed: false, remaining: 0, resetMs: ms(60_000), retryAfterMs: ms(30_000) });
    expect(other).toEqual({ allowed: true, remaining: 59, resetMs: ms(1000), retryAfterMs: 0 });
  });

  test('a call writes each admitted client once, with its last state: 36 decisions of 3 clients are 3 writes', async () => {
    const prefix = uniquePrefix('writes');
    await server.cli('config', 'resetstat');
    expect(Object.fromEntries(await burst(new RedisGcraStore(client), prefix))).toEqual({ a: 5, b: 5, c: 5 });
    const stats = await server.cli('info', 'commandstats');
    expect(/^cmdstat_set:calls=(\d+)/m.exec(stats)?.[1]).toBe('3');
    // The survivor is the fifth admission: it owes 5 requests and its quota is back a whole window (60 s) later.
    const [stored, ttl] = [await client.get(`${prefix}a`), await client.pttl(`${prefix}a`)];
    expect(Number(stored!.split(' ')[1])).toBeCloseTo(5, 6);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  test('a call carries each client once with its number of requests, and each request gets the decision its rank earns', async () => {
    const prefix = uniquePrefix('ranks');
    await server.cli('config', 'set', 'slowlog-log-slower-than', '0');
    await server.cli('slowlog', 'reset');
    const store = new RedisGcraStore(client);
    const limit = { limit: 5, windowMs: 60_000 };
    const asks = ['a', 'b', 'a', 'a', 'c', 'a', 'a', 'a', 'a'].map((c) => `${prefix}${c}`);
    const decisions = await Promise.all(asks.map((key) => store.take(key, limit)));
    const calls = (await server.cli('slowlog', 'get', '20')).split('\n').join(' ');
    await server.cli('config', 'set', 'slowlog-log-slower-than', '10000');
    // EVALSHA <sha> 3 <a> <b> <c> 5 60000 7 1 1: the call's size follows the clients, not the requests.
    expect(calls).toContain(` 3 ${prefix}a ${prefix}b ${prefix}c 5 60000 7 1 1 `);
    // The same requests one by one through the in-process limiter, which steps them in turn.
    const memory = new MemoryGcraStore(100);
    const expected = asks.map((key) => memory.take(key, limit));
    const close = (d: GcraDecision) =>
      ({ ...d, resetMs: Math.round(d.resetMs / 10), retryAfterMs: Math.round(d.retryAfterMs / 10) });
    expect(decisions.map(close)).toEqual(expected.map(close));
    expect(decisions.filter((d) => d.allowed).map((d) => d.remaining)).toEqual([4, 4, 3, 2, 4, 1, 0]);
  });

  test('maxBatch bounds a call: 36 decisions with maxBatch 10 take 4 calls; maxBatch 1 takes one per decision', async () => {
    let before = await scriptCalls();
    expect(Object.fromEntries(await burst(new RedisGcraStore(client, 10), uniquePrefix('batch10')))).toEqual({ a: 5, b: 5, c: 5 });
    expect(await scriptCalls() - before).toBe(4);
    before = await scriptCalls();
    expect(Object.fromEntries(await burst(new RedisGcraStore(client, 1), uniquePrefix('batch1')))).toEqual({ a: 5, b: 5, c: 5 });
    expect(await scriptCalls() - before).toBe(36);
  });

  test('a key written by an earlier version (a plain TAT in ms) keeps its quota', async () => {
    const key = uniquePrefix('old-format');
    // One of two requests per minute used 0 ms ago: the TAT is one interval (30 s) ahead.
    await client.set(key, String(Date.now() + 30_000), 'PX', 30_000);
    const store = new RedisGcraStore(client);
    const limit = { limit: 2, windowMs: 60_000 };
    expect(await store.take(key, limit)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await store.take(key, limit)).toMatchObject({ allowed: false });
  });

  test('when the script cache is emptied (a restart, SCRIPT FLUSH), EVAL reloads it and decisions go on', async () => {
    const store = new RedisGcraStore(client);
    await store.take(uniquePrefix('reload'), { limit: 100, windowMs: 1000 });
    await server.cli('script', 'flush');
    const decision = await store.take(uniquePrefix('reload'), { limit: 100, windowMs: 1000 });
    expect(decision).toMatchObject({ allowed: true });
    expect(await server.cli('script', 'exists', GCRA_SHA_FOR_TEST)).toBe('1');
  });
});

describe('client identity', () => {
  const ctx = (remoteAddress: string, xff?: string) => ({
    req: { socket: { remoteAddress } },
    get: (name: string) => (name === 'x-forwarded-for' ? xff ?? '' : ''),
  }) as unknown as Koa.Context;

  test('socket address by default, IPv4-mapped addresses normalized', () => {
    const id = clientIdentity();
    expect(id(ctx('::ffff:192.0.2.7', '1.2.3.4'))).toBe('192.0.2.7');
  });

  test('hop count takes the entry that many hops from the right', () => {
    const id = clientIdentity(1);
    expect(id(ctx('10.0.0.2', '198.51.100.9'))).toBe('198.51.100.9');
    expect(id(ctx('10.0.0.2', '6.6.6.6, 198.51.100.9'))).toBe('198.51.100.9');
    expect(id(ctx('10.0.0.2'))).toBe('10.0.0.2');
  });

  test('CIDR list: an untrusted peer is the client whatever it sends', () => {
    const id = clientIdentity(['10.0.0.0/8']);
    expect(id(ctx('192.0.2.1', '198.51.100.9'))).toBe('192.0.2.1');
    expect(id(ctx('10.1.2.3', '6.6.6.6, 198.51.100.9, 10.0.0.5'))).toBe('198.51.100.9');
  });

  test('rejects malformed proxy lists', () => {
    expect(() => clientIdentity(['not-an-ip'])).toThrow(/trustedProxies/);
    expect(() => clientIdentity(['10.0.0.0/40'])).toThrow(/prefix/);
    expect(() => clientIdentity(-1)).toThrow(/hop count/);
  });
});

describe('without Redis', () => {
  test('the in-process limiter keeps memory bounded however many clients come', () => {
    const store = new MemoryGcraStore(100);
    for (let i = 0; i < 20_000; i++) {
      store.take(`client-${i}`, { limit: 100, windowMs: 60_000 });
    }
    expect(store.size).toBe(100);
  });

  test('with many clients the oldest are evicted (a fresh quota), never an unbounded map', async () => {
    const url = await serve({ limit: 1, maxMemoryKeys: 50, trustedProxies: 1 });
    expect((await hit(url, { headers: { 'x-forwarded-for': '192.0.2.1' } })).status).toBe(200);
    expect((await hit(url, { headers: { 'x-forwarded-for': '192.0.2.1' } })).status).toBe(429);
    for (let i = 0; i < 100; i++) {
      await hit(url, { headers: { 'x-forwarded-for': `198.51.100.${i}` } });
    }
    expect((await hit(url, { headers: { 'x-forwarded-for': '192.0.2.1' } })).status).toBe(200);
  });

  test('an unreachable Redis fails open to the in-process limiter at once', async () => {
    const registry = new Registry();
    const dead = createRedisClient({ url: 'redis://127.0.0.1:7199' });
    try {
      const url = await serve({ redis: dead, limit: 2, registry });
      const got = await Promise.all(Array.from({ length: 5 }, () => hit(url)));
      expect(count(got.map((r) => r.status), 200)).toBe(2);
      expect(count(got.map((r) => r.status), 429)).toBe(3);
      expect(Math.max(...got.map((r) => r.ms))).toBeLessThan(200);
      const fallback = await registry.getSingleMetric(MetricNames.RATE_LIMIT_FALLBACK_TOTAL)!.get();
      expect(fallback.values.find((v) => v.labels.mode === 'fail_open')?.value).toBe(5);
    } finally {
      dead.disconnect();
    }
  });

  test('failClosed answers 503 at once', async () => {
    const dead = createRedisClient({ url: 'redis://127.0.0.1:7199' });
    try {
      const url = await serve({ redis: dead, failClosed: true });
      const res = await hit(url);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.ms).toBeLessThan(200);
    } finally {
      dead.disconnect();
    }
  });

  test('invalid options are refused at creation', () => {
    expect(() => rateLimit({ limit: 0 })).toThrow(/limit/);
    expect(() => rateLimit({ window: 'soon' })).toThrow(/window/);
    expect(() => rateLimit({ routes: [{ limit: 1 }] })).toThrow(/path or match/);
    expect(() => rateLimit({ routes: [{ name: 'a', path: '/a', limit: 1 }, { name: 'a', path: '/b', limit: 1 }] })).toThrow(/unique/);
    expect(() => rateLimit({ maxBatch: 0.5 })).toThrow(/^maxBatch: 0.5 is not a positive integer$/);
  });
});

describe('high limits (more than 2 requests per millisecond)', () => {
  /** A request context as far as rateLimit reads and writes it: calling the middleware directly puts a whole burst in one turn. */
  function call(middleware: Koa.Middleware): Promise<{ status: number; remaining: number }> {
    const headers = new Map<string, string>();
    const ctx = {
      req: { socket: { remoteAddress: '192.0.2.1' }, headers: {} },
      res: { setHeader: (name: string, value: string) => headers.set(name, value) },
      set: (name: string, value: string) => headers.set(name.toLowerCase(), value),
      method: 'GET',
      path: '/',
      status: 200,
      body: undefined,
    };
    return Promise.resolve(middleware(ctx as unknown as Koa.Context, async () => {})).then(() => ({ status: ctx.status, remaining: Number(headers.get('ratelimit-remaining')) }));
  }

  /** `n` requests of one client at one instant: the Date.now() of the in-process limiter is frozen; on Redis they share one script call, so one TIME. */
  async function burst(options: RateLimitOptions, n: number): Promise<{ status: number; remaining: number }[]> {
    const middleware = rateLimit({ maxBatch: n, ...options });
    const frozen = jest.spyOn(Date, 'now').mockReturnValue(Date.now());
    try {
      return await Promise.all(Array.from({ length: n }, () => call(middleware)));
    } finally {
      frozen.mockRestore();
    }
  }

  const stores: [string, () => Partial<RateLimitOptions>][] = [
    ['in process', () => ({})],
    ['on Redis', () => ({ redis, keyPrefix: uniquePrefix('high') })],
  ];

  describe.each(stores)('%s', (_name, store) => {
    test('a 10,000,000 per minute limit reports 9,999,999 remaining after the first request', async () => {
      const [first] = await burst({ ...store(), limit: 10_000_000, window: '1m' }, 1);
      expect(first).toEqual({ status: 200, remaining: 9_999_999 });
    });

    test.each([[3000, 1000], [7000, 1000], [20_000, 1000], [50_000, 10_000]])('a burst admits exactly %i per %i ms, Remaining counting down to 0', async (limit, window) => {
      const got = await burst({ ...store(), limit, window }, limit + 50);
      const admitted = got.filter((r) => r.status === 200);
      expect(admitted.length).toBe(limit);
      expect(admitted.map((r) => r.remaining)).toEqual(Array.from({ length: limit }, (_, i) => limit - 1 - i));
      expect(got.slice(limit).every((r) => r.status === 429 && r.remaining === 0)).toBe(true);
    });
  });
});
