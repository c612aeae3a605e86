/* One benchmark variant per process: `node bench/server.js <variant> <port> <redisUrl>`.
 * Prints "ready" once listening. Run by bench/run.ts, pinned to one core. */
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, RequestListener } from 'node:http';
import Redis from 'ioredis';
import Koa from 'koa';
import helmet from 'koa-helmet';
import ratelimit from 'koa-ratelimit';
import { Counter, Histogram, Registry } from 'prom-client';
import { responseCache } from '../src/cache';
import { buildSecurityHeaders, securityHeaders } from '../src/headers';
import { createHttpMetrics } from '../src/metrics';
import { DEFAULT_MAX_BATCH, GcraBatch, rateLimit, RedisGcraStore } from '../src/rate-limit';
import { createRedisClient, waitForRedis } from '../src/redis';

export const VARIANTS = [
  'node:http', 'bare Koa', 'deferred bare Koa', 'peer stack',
  'this stack', 'this stack behind the edge', 'Redis down', 'Redis down behind the edge', 'cache hit',
] as const;
/**
 * Run only when named in BENCH_VARIANTS: 'deferred limiter script' (the
 * deferred baseline whose shared round trip is the limiter's own script call
 * for the batch's keys: what that longer round trip costs beyond a PING),
 * 'deferred reply only' (the same call's arguments and reply from a script
 * that does no work: the call's size apart from how long Redis takes), the
 * parts of 'this stack' alone, the limiter without Redis, the limiter with one
 * script call per request, 'fused floor' (the same headers and Redis decision
 * hand-written as one middleware, no metrics): the least this design can
 * cost, and 'headers floor': only the nine response headers this stack sends,
 * as constants, with no logic at all. 'deferred busy loop' is the deferred
 * baseline plus a fixed amount of arithmetic per request (BENCH_BUSY_LOOP
 * iterations): what the instrument reads for a known cost that touches
 * neither headers nor Redis.
 */
export const BREAKDOWN = ['deferred limiter script', 'deferred reply only', 'metrics only', 'headers only', 'rate limit only', 'rate limit in process', 'rate limit unbatched', 'fused floor', 'headers floor', 'deferred busy loop'] as const;
/** bench/run.ts pairs this second bare Koa process with the first: what the instrument reads for equal code. */
export const CONTROL = 'bare Koa, second process';
export type Variant = typeof VARIANTS[number] | typeof BREAKDOWN[number] | typeof CONTROL;
const ALL_VARIANTS: readonly Variant[] = [...VARIANTS, ...BREAKDOWN, CONTROL];
const isVariant = (name: string): name is Variant => (ALL_VARIANTS as readonly string[]).includes(name);

/**
 * Port on which nothing listens: 'Redis down' points its client there, so the
 * client is never ready and every decision takes the in-process fallback (also
 * what a service without Redis runs), with ioredis reconnecting as it would.
 */
export const DEAD_REDIS_PORT = 7149;

/** The response body of every variant. */
export const BODY = 'hello world';
/** Port of the private redis-server both benchmark scripts start (the run stops if it is taken). */
export const BENCH_REDIS_PORT = 7150;

/**
 * Moves every thread of `pid` (the private Redis) to core 1, beside the load
 * generators, as bench:kpi runs it: in production Redis runs on other nodes
 * than the service, never on its CPU. Left to float, it could run its scripts
 * on the servers' core in the middle of their turns.
 */
export function pinBesideLoadGenerators(pid: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', '1', String(pid)], { stdio: 'ignore' });
}

/** Moves every thread of `pid` (a measured process) to core 0, the servers' core. */
export function pinToMeasuredCore(pid: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
}

/** Stops a benchmark script over a bad setting: the message, no stack trace. */
function usageError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** Stops a benchmark script before it starts when a command it runs is missing, naming how to install it. */
export function requireCommands(installs: { readonly [command: string]: string }): void {
  const missing = Object.keys(installs).filter((command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0);
  if (missing.length > 0) usageError(`missing ${missing.map((c) => `'${c}' (${installs[c]})`).join(', ')}`);
}

/** A positive integer from the environment, or `fallback`; anything else stops the run naming the variable. */
export function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : usageError(`${name}: '${raw}' is not a positive integer`);
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The `q` quantile (0..1) of `xs`, nearest rank. */
export const quantile = (xs: readonly number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
// All wrk connections are one client: a quota it never exhausts during a run.
export const NO_LIMIT = 10_000_000;
export const WINDOW_MS = 3_600_000;

/** Header entries with lowercase names, as securityHeaders() and rateLimit() send them. */
const lowercaseEntries = (headers: { [name: string]: string }): [string, string][] =>
  Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]);

/**
 * The limiter's store on a connected client, as rateLimit() builds it, for the
 * variants that call it by hand: joins a request to the open batch under the
 * key rateLimit() would use.
 */
async function limiterBatches(redisUrl: string): Promise<(ctx: Koa.Context) => GcraBatch> {
  const redis = createRedisClient({ url: redisUrl, commandTimeoutMs: 1000 });
  await waitForRedis(redis);
  const store = new RedisGcraStore(redis);
  const limit = { limit: NO_LIMIT, windowMs: WINDOW_MS, keyPrefix: 'rl:default:' };
  return (ctx) => store.enqueue(String(ctx.req.socket.remoteAddress), limit);
}

/**
 * What the limiter's batching costs by itself, with no limiter: requests of
 * one event-loop turn (at most DEFAULT_MAX_BATCH) share one promise that
 * settles after one Redis round trip sent from a setImmediate, exactly how
 * RedisGcraStore defers and batches, so each request answers a turn later and
 * a batch's responses go out together. This stack against this variant is the
 * cost of the middleware's own work; against bare Koa it includes the
 * batching's effect on wake-ups.
 */
function deferredLikeTheLimiter(roundTrip: (size: number) => Promise<unknown>): Koa.Middleware {
  let batch: { size: number; reply: Promise<unknown> } | undefined;
  const open = (): { size: number; reply: Promise<unknown> } => {
    const opened = { size: 0, reply: Promise.resolve<unknown>(undefined) };
    opened.reply = new Promise((resolve, reject) => setImmediate(() => {
      batch = undefined;
      roundTrip(opened.size).then(resolve, reject);
    }));
    return opened;
  };
  return async (_ctx, next) => {
    if (batch === undefined || batch.size >= DEFAULT_MAX_BATCH) batch = open();
    batch.size++;
    await batch.reply;
    await next();
  };
}

/** `iterations` steps of a linear congruential generator per request: CPU work that allocates nothing and that V8 cannot drop (a remainder, not `| 0`: the lint forbids bitwise operators). */
function busyLoop(iterations: number): Koa.Middleware {
  let state = 1;
  return (_ctx, next) => {
    let x = state;
    for (let i = 0; i < iterations; i++) x = (x * 1103515245 + 12345) % 2147483648;
    state = x;
    return next();
  };
}

/** The limiter script's arguments and reply (a debt and an admitted count per key) without its work. */
export const REPLY_ONLY_LUA = "local out = {} for i = 1, #KEYS do out[2 * i - 1] = string.format('%.17g', i / 3) out[2 * i] = tonumber(ARGV[2 + i]) end return out";

/** The Koa app of a variant (also driven in-process by bench/in-process.ts). */
export async function koaApp(variant: Variant, redisUrl: string): Promise<Koa> {
  const app = new Koa();
  if (variant === 'peer stack') {
    // What a service would assemble from the usual packages.
    const registry = new Registry();
    const labelNames = ['method', 'route', 'status'];
    const count = new Counter({ name: 'http_requests_total', help: 'x', labelNames, registers: [registry] });
    const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'x', labelNames, registers: [registry] });
    app.use(async (ctx, next) => {
      const end = duration.startTimer();
      await next();
      const labels = { method: ctx.method, route: ctx.path, status: String(ctx.status) };
      count.inc(labels);
      end(labels);
    });
    app.use(helmet());
    app.use(ratelimit({ driver: 'redis', db: new Redis(redisUrl), duration: WINDOW_MS, max: NO_LIMIT, id: (ctx) => ctx.ip }));
  } else if (variant === 'this stack' || variant === 'Redis down' || variant === 'this stack behind the edge' || variant === 'Redis down behind the edge') {
    const redisDown = variant.startsWith('Redis down');
    // A saturated 2-core host delays replies past the 100 ms default; measure the Redis path, not the fallback.
    const redis = redisDown
      ? createRedisClient({ url: `redis://127.0.0.1:${DEAD_REDIS_PORT}` })
      : createRedisClient({ url: redisUrl, commandTimeoutMs: 1000, autoPipelining: process.env.BENCH_AUTOPIPELINING !== 'false' });
    if (!redisDown) await waitForRedis(redis);
    // The limiter counts into the metrics registry, as createService wires it (on Redis down, every request counts a fallback).
    const metrics = createHttpMetrics({ collectDefaultMetrics: false });
    app.use(metrics.middleware);
    // Behind the edge (SECURITY_HEADERS=edge) createService leaves the header middleware out: the edge sets them.
    if (!variant.endsWith('behind the edge')) app.use(securityHeaders());
    app.use(rateLimit({ redis, limit: NO_LIMIT, window: WINDOW_MS, registry: metrics.registry }));
  } else if (variant === 'deferred bare Koa' || variant === 'deferred busy loop') {
    // No auto-pipeline, as for the limiter's script calls: a pipeline object around the PING would make this baseline dearer.
    const redis = createRedisClient({ url: redisUrl, commandTimeoutMs: 1000, autoPipelining: false });
    await waitForRedis(redis);
    app.use(deferredLikeTheLimiter(() => redis.ping()));
    // Set BENCH_BUSY_LOOP so that the loop costs, in bench:in-process, what the stack adds to the deferred baseline there.
    if (variant === 'deferred busy loop') app.use(busyLoop(positiveIntEnv('BENCH_BUSY_LOOP', 700)));
  } else if (variant === 'deferred reply only') {
    const redis = createRedisClient({ url: redisUrl, commandTimeoutMs: 1000 });
    await waitForRedis(redis);
    const sha = await redis.script('LOAD', REPLY_ONLY_LUA) as string;
    // Every wrk connection is the same client: the limiter sends its key once, with the batch's size.
    app.use(deferredLikeTheLimiter((size) => redis.evalsha(sha, 1, 'rl:default:127.0.0.1', NO_LIMIT, WINDOW_MS, size)));
  } else if (variant === 'deferred limiter script') {
    const enqueue = await limiterBatches(redisUrl);
    // The decision is not read and no header is sent: only the wait is the limiter's.
    app.use(async (ctx, next) => {
      await enqueue(ctx).reply;
      await next();
    });
  } else if (variant === 'rate limit in process') {
    app.use(rateLimit({ limit: NO_LIMIT, window: WINDOW_MS }));
  } else if (variant === 'metrics only') {
    app.use(createHttpMetrics({ collectDefaultMetrics: false }).middleware);
  } else if (variant === 'headers only') {
    app.use(securityHeaders());
  } else if (variant === 'rate limit only' || variant === 'rate limit unbatched') {
    const redis = createRedisClient({ url: redisUrl, commandTimeoutMs: 1000 });
    await waitForRedis(redis);
    app.use(rateLimit({ redis, limit: NO_LIMIT, window: WINDOW_MS, maxBatch: variant === 'rate limit unbatched' ? 1 : undefined }));
  } else if (variant === 'fused floor') {
    const enqueue = await limiterBatches(redisUrl);
    const headers = lowercaseEntries(buildSecurityHeaders());
    app.use(async (ctx, next) => {
      const res = ctx.res;
      for (const [name, value] of headers) res.setHeader(name, value);
      const batch = enqueue(ctx);
      const { lastOffset, lastRank } = batch;
      const decision = batch.decisionAt(await batch.reply, lastOffset, lastRank);
      res.setHeader('ratelimit-limit', String(NO_LIMIT));
      res.setHeader('ratelimit-remaining', String(decision.remaining));
      res.setHeader('ratelimit-reset', String(Math.ceil(decision.resetMs / 1000)));
      await next();
    });
  } else if (variant === 'headers floor') {
    const headers = lowercaseEntries({ ...buildSecurityHeaders(), 'RateLimit-Limit': String(NO_LIMIT), 'RateLimit-Remaining': String(NO_LIMIT - 1), 'RateLimit-Reset': '3600' });
    app.use((ctx, next) => {
      for (const [name, value] of headers) ctx.res.setHeader(name, value);
      return next();
    });
  } else if (variant === 'cache hit') {
    const redis = createRedisClient({ url: redisUrl });
    await waitForRedis(redis);
    // Counting its hits into a registry, as createService wires it.
    app.use(responseCache({ redis, namespace: 'bench:http:', ttlMs: 600_000, statusHeader: false, registry: new Registry() }));
  }
  app.use((ctx) => {
    ctx.body = BODY;
  });
  return app;
}

/** The request handler of a variant. */
export async function requestHandler(variant: Variant, redisUrl: string): Promise<RequestListener> {
  if (!isVariant(variant)) {
    throw new Error(`unknown variant '${variant}': expected one of ${ALL_VARIANTS.join(', ')}`);
  }
  if (variant === 'node:http') {
    return (_req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(BODY);
    };
  }
  return (await koaApp(variant, redisUrl)).callback();
}

/** The variants a run measures: all of VARIANTS, or those named in BENCH_VARIANTS (bare Koa is always kept: ratios need it). */
export function selectedVariants(): Variant[] {
  const named = process.env.BENCH_VARIANTS?.split(',').map((s) => s.trim());
  if (!named) return [...VARIANTS];
  for (const v of named) {
    if (!isVariant(v)) {
      usageError(`BENCH_VARIANTS: unknown variant '${v}': expected one of ${ALL_VARIANTS.join(', ')}`);
    }
  }
  return ALL_VARIANTS.filter((v) => v === 'bare Koa' || named.includes(v));
}

async function main(): Promise<void> {
  const [variant, port, redisUrl] = process.argv.slice(2) as [Variant, string, string];
  const server = createServer(await requestHandler(variant, redisUrl));
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
