import Koa from 'koa';
import { Registry } from 'prom-client';
import { CachedResponse, responseCache, ResponseCacheOptions, responseCodec, TwoLevelCache } from '../src/cache';
import { MetricNames } from '../src/conventions.generated';
import { createRedisClient, RedisClient, waitForRedis } from '../src/redis';
import { hit, listen, sleep, uniquePrefix } from './support/redis-http';
import { SHARED_REDIS_URL } from './support/redis-servers';

let redis: RedisClient;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // Semantics tests: a generous deadline so a cold, CPU-starved test process
  // is not mistaken for a hung Redis (redis-failover.test.ts covers deadlines).
  redis = createRedisClient({ url: SHARED_REDIS_URL, commandTimeoutMs: 1000 });
  await waitForRedis(redis);
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

afterAll(() => redis.disconnect());

function cache<V>(options: ConstructorParameters<typeof TwoLevelCache<V>>[0] = {}): TwoLevelCache<V> {
  const c = new TwoLevelCache<V>({ redis, namespace: uniquePrefix('tlc'), ...options });
  closers.push(() => c.close());
  return c;
}

describe('TwoLevelCache', () => {
  test('get, set, delete through both levels', async () => {
    const namespace = uniquePrefix('basic');
    const a = cache<{ n: number }>({ namespace });
    const b = cache<{ n: number }>({ namespace });
    await a.set('k', { n: 1 });
    expect(a.peek('k')).toEqual({ n: 1 });
    expect(await b.get('k')).toEqual({ n: 1 }); // from L2
    expect(b.peek('k')).toEqual({ n: 1 }); // now in b's L1
    await a.delete('k');
    expect(await redis.exists(`${namespace}k`)).toBe(0);
    expect(await a.get('k')).toBeUndefined();
  });

  test('an L1 entry filled from L2 keeps the remaining TTL', async () => {
    const namespace = uniquePrefix('pttl');
    const a = cache<string>({ namespace });
    const b = cache<string>({ namespace });
    await a.set('k', 'v', 2000);
    await sleep(800);
    expect(await b.get('k')).toBe('v');
    const remaining = b.l1RemainingTtl('k');
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(1250);
    await sleep(remaining + 50);
    expect(b.peek('k')).toBeUndefined();
  });

  test('wrap: concurrent misses call the loader once', async () => {
    const c = cache<number>();
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(50);
      return 42;
    };
    const values = await Promise.all(Array.from({ length: 25 }, () => c.wrap('k', loader)));
    expect(values).toEqual(Array(25).fill(42));
    expect(calls).toBe(1);
    expect(await c.wrap('k', loader)).toBe(42);
    expect(calls).toBe(1);
  });

  test('wrap: a loader error reaches the caller and is not cached', async () => {
    const c = cache<number>();
    await expect(c.wrap('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await c.wrap('k', () => 7)).toBe(7);
  });

  test('L1 is bounded by entries and by bytes', async () => {
    const byCount = cache<string>({ redis: undefined, l1MaxEntries: 10 });
    for (let i = 0; i < 100; i++) await byCount.set(`k${i}`, 'x');
    expect(byCount.l1Stats.entries).toBe(10);
    const bySize = cache<string>({ redis: undefined, l1MaxBytes: 10_000 });
    for (let i = 0; i < 100; i++) await bySize.set(`k${i}`, 'x'.repeat(1000));
    expect(bySize.l1Stats.bytes).toBeLessThanOrEqual(10_000);
    expect(bySize.l1Stats.entries).toBeLessThan(10);
  });

  test('counts hits and misses per level', async () => {
    const registry = new Registry();
    const namespace = uniquePrefix('metrics');
    const a = cache<string>({ namespace, registry, name: 'm' });
    const b = cache<string>({ namespace, registry, name: 'm' });
    await a.get('k');
    await a.set('k', 'v');
    await a.get('k');
    await b.get('k');
    const m = await registry.getSingleMetric(MetricNames.CACHE_REQUESTS_TOTAL)!.get();
    const by = (result: string) => m.values.find((v) => v.labels.result === result)?.value;
    expect([by('miss'), by('l1_hit'), by('l2_hit')]).toEqual([1, 1, 1]);
  });

  test('Redis down: serves L1 or the loader and never throws', async () => {
    const dead = createRedisClient({ url: 'redis://127.0.0.1:7198' });
    const errors: Error[] = [];
    const c = new TwoLevelCache<string>({ redis: dead, onError: (e) => errors.push(e) });
    closers.push(async () => {
      await c.close();
      dead.disconnect();
    });
    const started = performance.now();
    await c.set('a', '1');
    expect(await c.get('a')).toBe('1');
    expect(await c.get('missing')).toBeUndefined();
    expect(await c.wrap('b', () => '2')).toBe('2');
    await c.delete('a');
    expect(await c.get('a')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(200);
  });

  test('an L1 hit starts no timer, and an entry still expires on time', async () => {
    const c = cache<string>();
    // A TTL well past a stall of a loaded test process, so the hits below are hits.
    await c.set('k', 'v', 500);
    await sleep(5); // past any 1 ms clock-caching timer the write started
    const setTimeoutCalls = jest.spyOn(globalThis, 'setTimeout');
    try {
      for (let i = 0; i < 100; i++) expect(c.peek('k')).toBe('v');
      // lru-cache's default ttlResolution started one here: a timer, and a wake-up, per millisecond of hits.
      expect(setTimeoutCalls).not.toHaveBeenCalled();
    } finally {
      setTimeoutCalls.mockRestore();
    }
    await sleep(600);
    expect(c.peek('k')).toBeUndefined();
  });

  test('response codec round-trips binary bodies', () => {
    const entry: CachedResponse = { status: 200, headers: [['content-type', 'image/png']], body: Buffer.from([0, 10, 255, 13, 10]) };
    expect(responseCodec.decode(Buffer.from(responseCodec.encode(entry) as Buffer))).toEqual({ ...entry, varyOn: undefined });
  });

  test('a small UTF-8 body is also kept as the text that encodes to its bytes; others stay bytes', () => {
    const decoded = (body: Buffer, headers: [string, string][] = [['content-type', 'text/plain']]) =>
      responseCodec.decode(Buffer.from(responseCodec.encode({ status: 200, headers, body }) as Buffer));
    const bom = Buffer.from('\ufeffñandú ✓', 'utf8');
    expect(Buffer.from(decoded(bom).text!, 'utf8')).toEqual(bom);
    expect(decoded(Buffer.from([0xc3, 0x28])).text).toBeUndefined(); // not UTF-8
    expect(decoded(Buffer.alloc(16 * 1024 + 1, 'a')).text).toBeUndefined(); // past Node's one-write size
    expect(decoded(Buffer.alloc(16 * 1024, 'a')).text).toHaveLength(16 * 1024);
    expect(decoded(Buffer.from('abc'), []).text).toBeUndefined(); // Koa would type the string text/plain
  });
});

describe('responseCache', () => {
  let calls = 0;

  async function serve(options: Partial<ResponseCacheOptions> = {}, handler?: Koa.Middleware): Promise<string> {
    calls = 0;
    const app = new Koa();
    const cached = responseCache({ redis, namespace: uniquePrefix('http'), ...options });
    closers.push(cached.close);
    app.use(cached);
    app.use(async (ctx, next) => {
      calls++;
      ctx.set('X-Request-Id', `req-${calls}`);
      if (handler) return handler(ctx, next);
      ctx.body = { calls, lang: ctx.get('accept-language') };
    });
    const server = await listen(app);
    closers.push(() => server.close());
    return server.url;
  }

  /** Two requests; true when the second one came from the cache. */
  async function cachedTwice(url: string, init: RequestInit = {}): Promise<boolean> {
    await hit(url, init);
    const second = await hit(url, init);
    return second.headers.get('x-cache') === 'HIT';
  }

  test('caches a public GET and replays status, body and representation headers only', async () => {
    const url = await serve();
    const first = await hit(`${url}/a?x=1`);
    const second = await hit(`${url}/a?x=1`);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.body).toBe(first.body);
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(second.headers.get('x-request-id')).toBeNull();
    expect(calls).toBe(1);
    expect((await hit(`${url}/a?x=2`)).headers.get('x-cache')).toBe('MISS');
  });

  test('HEAD is answered from the GET entry', async () => {
    const url = await serve();
    const get = await hit(`${url}/h`);
    const head = await hit(`${url}/h`, { method: 'HEAD' });
    expect(head.headers.get('x-cache')).toBe('HIT');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.body)));
    expect(head.body).toBe('');
  });

  test('never with Authorization or Cookie on the request, unless configured', async () => {
    const url = await serve();
    expect(await cachedTwice(`${url}/p`, { headers: { authorization: 'Bearer x' } })).toBe(false);
    expect(await cachedTwice(`${url}/p`, { headers: { cookie: 'sid=1' } })).toBe(false);
    // An authenticated request must not be served another user's cached copy either.
    await hit(`${url}/q`);
    expect((await hit(`${url}/q`, { headers: { cookie: 'sid=1' } })).headers.get('x-cache')).not.toBe('HIT');
    const configured = await serve({ cacheAuthenticated: true });
    expect(await cachedTwice(`${configured}/p`, { headers: { authorization: 'Bearer x' } })).toBe(true);
  });

  test.each([
    ['Set-Cookie', (ctx: Koa.Context) => ctx.cookies.set('sid', 'abc')],
    ['Cache-Control: no-store', (ctx: Koa.Context) => ctx.set('Cache-Control', 'no-store')],
    ['Cache-Control: private', (ctx: Koa.Context) => ctx.set('Cache-Control', 'private, max-age=60')],
    ['Vary: *', (ctx: Koa.Context) => ctx.set('Vary', '*')],
    ['status 404', (ctx: Koa.Context) => { ctx.status = 404; }],
    ['status 500', (ctx: Koa.Context) => { ctx.status = 500; }],
    ['status 302', (ctx: Koa.Context) => ctx.redirect('/elsewhere')],
  ])('never stores a response with %s', async (_name, decorate) => {
    const url = await serve({}, async (ctx) => {
      ctx.body = 'body';
      decorate(ctx);
    });
    await hit(`${url}/r`, { redirect: 'manual' });
    await hit(`${url}/r`, { redirect: 'manual' });
    expect(calls).toBe(2);
  });

  test('honours Vary: one entry per value of the named request header', async () => {
    const url = await serve({}, async (ctx) => {
      ctx.set('Vary', 'Accept-Language');
      ctx.body = { calls, lang: ctx.get('accept-language') };
    });
    const es1 = await hit(`${url}/v`, { headers: { 'accept-language': 'es' } });
    const en1 = await hit(`${url}/v`, { headers: { 'accept-language': 'en' } });
    const es2 = await hit(`${url}/v`, { headers: { 'accept-language': 'es' } });
    const en2 = await hit(`${url}/v`, { headers: { 'accept-language': 'en' } });
    expect(JSON.parse(es2.body)).toEqual(JSON.parse(es1.body));
    expect(JSON.parse(en2.body)).toEqual(JSON.parse(en1.body));
    expect(JSON.parse(es2.body).lang).toBe('es');
    expect(JSON.parse(en2.body).lang).toBe('en');
    expect([es2.headers.get('x-cache'), en2.headers.get('x-cache')]).toEqual(['HIT', 'HIT']);
    expect(calls).toBe(2);
  });

  test('the response max-age sets the TTL; POST is never cached', async () => {
    const url = await serve({}, async (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=1');
      ctx.body = String(calls);
    });
    expect(await cachedTwice(`${url}/t`)).toBe(true);
    await sleep(1100);
    expect((await hit(`${url}/t`)).headers.get('x-cache')).toBe('MISS');
    await hit(`${url}/t`, { method: 'POST' });
    expect((await hit(`${url}/t`, { method: 'POST' })).headers.get('x-cache')).toBeNull();
  });

  test.each([
    ['JSON', (ctx: Koa.Context) => { ctx.body = { name: 'ñandú ✓' }; }],
    ['text with a BOM', (ctx: Koa.Context) => { ctx.body = '\ufeffhello'; }],
    ['bytes that are not UTF-8', (ctx: Koa.Context) => { ctx.type = 'application/octet-stream'; ctx.body = Buffer.from([0xc3, 0x28, 0, 255]); }],
    ['20 KiB of text', (ctx: Koa.Context) => { ctx.body = 'é'.repeat(10 * 1024); }],
  ])('a hit sends the bytes and type of the miss, from L1 and from L2: %s', async (_name, handler) => {
    const namespace = uniquePrefix('bytes');
    const bytes = async (url: string) => {
      const res = await fetch(url);
      return { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type'), length: res.headers.get('content-length'), cache: res.headers.get('x-cache') };
    };
    const a = await serve({ namespace }, handler);
    const miss = await bytes(`${a}/b`);
    const l1 = await bytes(`${a}/b`);
    await sleep(50); // the L2 write is not awaited by the response
    const l2 = await bytes(`${await serve({ namespace }, handler)}/b`);
    expect([miss.cache, l1.cache, l2.cache]).toEqual(['MISS', 'HIT', 'HIT']);
    for (const served of [l1, l2]) expect({ ...served, cache: undefined }).toEqual({ ...miss, cache: undefined });
  });

  test('a second replica is served from L2', async () => {
    const namespace = uniquePrefix('shared-http');
    const a = await serve({ namespace });
    await hit(`${a}/s`);
    await sleep(50); // the L2 write is not awaited by the response
    const b = await serve({ namespace });
    const fromB = await hit(`${b}/s`);
    expect(fromB.headers.get('x-cache')).toBe('HIT');
    expect(calls).toBe(0);
  });
});
