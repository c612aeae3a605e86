/* The same variants without the network: every variant's server lives in this
 * one process and is fed requests through in-memory sockets, so the figure is
 * the JavaScript cost of a request alone (parser, Koa, middleware, response
 * rendering), free of the kernel and of a VM's costly wake-ups, which on some
 * hosts swamp and skew the end-to-end figure of `npx projen bench`.
 *
 * It is not the end-to-end figure: the kernel's share differs between
 * variants (bytes written, Redis round trips, wake-ups), so the two ratios can
 * differ either way.
 *
 * Variants take turns in short slices (round robin in a rotating order, many rounds) and each
 * round's CPU ratio to bare Koa is kept; the median of those is printed, so a
 * burst of host noise spoils one round, not a variant. Redis is a private
 * redis-server on BENCH_REDIS_PORT (on the other core); this process is pinned to
 * core 0 once Redis is started.
 *
 *   npx projen bench:in-process    (BENCH_ROUNDS=100 BENCH_SLICE_MS=50 BENCH_CONNECTIONS=50 BENCH_VARIANTS=...)
 */
import { readFileSync } from 'node:fs';
import { createServer, RequestListener } from 'node:http';
import { Duplex } from 'node:stream';
import { BENCH_REDIS_PORT, BODY, median, pinBesideLoadGenerators, pinToMeasuredCore, positiveIntEnv, requestHandler, selectedVariants, Variant } from './server';
import { PrivateRedis } from '../test/support/redis-servers';

const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 100);
const SLICE_MS = positiveIntEnv('BENCH_SLICE_MS', 50);
const CONNECTIONS = positiveIntEnv('BENCH_CONNECTIONS', 50);
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n\r\n');
const BODY_BYTES = Buffer.from(BODY);

/**
 * A keep-alive client connection as the server sees it: what the client
 * "sends" is pushed as readable data; what the server writes is only scanned
 * for the end of a response (every variant's response ends with BODY).
 */
class MemorySocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;

  constructor(private readonly onResponse: (socket: MemorySocket) => void) {
    super();
  }

  _read(): void {}

  _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (chunk.length >= BODY_BYTES.length && BODY_BYTES.equals(chunk.subarray(chunk.length - BODY_BYTES.length))) {
      this.onResponse(this);
    }
    callback();
  }

  // The http server calls these on net.Socket; nothing to do in memory.
  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }
}

/** One variant's server and connections. Like wrk, each connection sends its next request once the response is in. */
class Lane {
  requests = 0;
  private running = false;
  private inFlight = 0;
  private readonly sockets: MemorySocket[] = [];
  private drained?: () => void;

  constructor(readonly variant: Variant, handler: RequestListener) {
    const server = createServer(handler);
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = new MemorySocket((s) => this.answered(s));
      this.sockets.push(socket);
      server.emit('connection', socket);
    }
  }

  /** Runs the lane for `ms`, lets its requests in flight finish, returns CPU µs and requests. */
  async slice(ms: number): Promise<{ cpuUs: number; requests: number }> {
    const requests0 = this.requests;
    const cpu0 = process.cpuUsage();
    this.running = true;
    this.inFlight = this.sockets.length;
    for (const s of this.sockets) s.push(REQUEST);
    await new Promise((r) => setTimeout(r, ms));
    await new Promise<void>((resolve) => {
      this.drained = resolve;
      this.running = false;
    });
    const cpu = process.cpuUsage(cpu0);
    return { cpuUs: cpu.user + cpu.system, requests: this.requests - requests0 };
  }

  private answered(socket: MemorySocket): void {
    this.requests++;
    if (this.running) {
      // Next turn, as a client's next request arrives in a later socket read.
      setImmediate(() => socket.push(REQUEST));
    } else if (--this.inFlight === 0) {
      this.drained?.();
    }
  }
}

async function main(): Promise<void> {
  const variants = selectedVariants();
  const redis = new PrivateRedis(BENCH_REDIS_PORT, ['--io-threads', '1']);
  await redis.start();
  try {
    pinBesideLoadGenerators(redis.pid!);
    pinToMeasuredCore(process.pid);
    const lanes: Lane[] = [];
    for (const v of variants) lanes.push(new Lane(v, await requestHandler(v, redis.url)));
    for (const lane of lanes) await lane.slice(1000); // warm-up: JIT, the cache entry, the Lua script
    const perRequest = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    const totals = new Map<Variant, { cpuUs: number; requests: number }>(variants.map((v) => [v, { cpuUs: 0, requests: 0 }]));
    for (let r = 0; r < ROUNDS; r++) {
      // Rotated each round, so no variant always runs right after the same one (and collects its garbage).
      for (let k = 0; k < lanes.length; k++) {
        const lane = lanes[(r + k) % lanes.length];
        const s = await lane.slice(SLICE_MS);
        perRequest.get(lane.variant)!.push(s.cpuUs / s.requests);
        const t = totals.get(lane.variant)!;
        t.cpuUs += s.cpuUs;
        t.requests += s.requests;
      }
    }
    const base = perRequest.get('bare Koa')!;
    const lines = [
      `In-process (no network), ${ROUNDS} rounds of ${SLICE_MS} ms slices per variant, ${CONNECTIONS} connections; ratio: median of the per-round ratios; ${new Date().toISOString()}, Node ${process.version}, load average at end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
      '',
      '| variant | requests | CPU µs/request | CPU/request vs bare Koa |',
      '|---|---|---|---|',
    ];
    for (const v of variants) {
      const t = totals.get(v)!;
      const ratio = median(perRequest.get(v)!.map((us, i) => us / base[i]));
      lines.push(`| ${v} | ${t.requests} | ${(t.cpuUs / t.requests).toFixed(1)} | ${ratio.toFixed(2)} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await redis.stop();
  }
  process.exit(0); // the variants' Redis clients and servers stay open: nothing to drain
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
