import { Running, sleep, startService } from './helpers/service';

describe('HTTP_TIMEOUT', () => {
  let svc: Running;
  let aborted = 0;
  beforeAll(async () => {
    svc = await startService(7240, { HTTP_TIMEOUT: '300ms' });
    svc.service.router.get('/sleep/:ms', async (ctx) => {
      const signal = ctx.state.signal as AbortSignal;
      signal.addEventListener('abort', () => aborted++);
      await sleep(Number(ctx.params.ms));
      ctx.body = 'done';
    });
  });
  afterAll(() => svc.stop());

  test('a slow handler gets 503 at the timeout and its signal aborts', async () => {
    const started = Date.now();
    const res = await fetch(`${svc.url}/sleep/2000`);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(1500);
    expect(aborted).toBe(1);
    expect((await fetch(`${svc.url}/sleep/10`)).status).toBe(200);
  });

  test('server-level timeouts are aligned with HTTP_TIMEOUT', () => {
    const server = svc.service.server!;
    expect(server.requestTimeout).toBe(5300);
    expect(server.headersTimeout).toBe(300);
  });
});

describe('MAX_CONCURRENT_REQUESTS', () => {
  let svc: Running;
  // The held requests wait on a gate, not a timer: "at once" means the extra
  // requests are answered while every slot is still taken.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let entered = 0;
  beforeAll(async () => {
    svc = await startService(7242, { MAX_CONCURRENT_REQUESTS: '3' });
    svc.service.router.get('/hold', async (ctx) => {
      entered++;
      await gate;
      ctx.body = 'held';
    });
  });
  afterAll(() => svc.stop());

  test('past the cap: 503 with Retry-After at once; probes still answer', async () => {
    const held = Array.from({ length: 3 }, () => fetch(`${svc.url}/hold`));
    while (entered < 3) await sleep(10);
    // Resolves only if the extras do not wait for a slot: the gate is still closed.
    const extra = await Promise.all(Array.from({ length: 4 }, () => fetch(`${svc.url}/hold`)));
    expect(extra.map((r) => r.status)).toEqual([503, 503, 503, 503]);
    expect(extra[0].headers.get('retry-after')).toBe('1');
    expect(entered).toBe(3);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await fetch(`${svc.url}/hold`)).status).toBe(200);
  });
});

describe('MAX_BODY_SIZE', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService(7244, { MAX_BODY_SIZE: '1024' });
    svc.service.router.post('/echo', (ctx) => {
      ctx.body = { got: (ctx.request as { body?: unknown }).body };
    });
  });
  afterAll(() => svc.stop());

  test('JSON within the limit is parsed; larger, invalid or non-UTF-8 bodies get 4xx', async () => {
    const post = (body: string | Buffer, type = 'application/json') => fetch(`${svc.url}/echo`, { method: 'POST', body, headers: { 'content-type': type } });
    const ok = await post(JSON.stringify({ a: 1 }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ got: { a: 1 } });
    expect((await post(JSON.stringify({ a: 'x'.repeat(2000) }))).status).toBe(413);
    expect((await post('{"a":')).status).toBe(400);
    expect((await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).status).toBe(400);
    // Chunked (no Content-Length): cut off once it crosses the limit.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(`"${'y'.repeat(500)}"`));
        c.close();
      },
    });
    const chunked = await fetch(`${svc.url}/echo`, { method: 'POST', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});
