import type { Context, Middleware, Next } from 'koa';
import type { Registry } from 'prom-client';
import { MetricNames, RuntimeDefaults } from '../conventions.generated';
import { clientIdentity, TrustedProxies } from './client-identity';
import type { GcraDecision } from './gcra';
import { DEFAULT_MAX_BATCH, keyOf, MemoryGcraStore, RedisGcraStore } from './stores';
import type { RedisClient } from '../redis/client';
import { counterChild, sharedCounter } from '../redis/counter';
import { toMs } from '../util/duration';

/** A per-route limit (e.g. the stricter login route). The first matching rule wins and has its own quota. */
export interface RateLimitRule {
  /** Names the bucket in Redis keys and metrics. @default `route<index>` */
  readonly name?: string;
  /** Exact path (`/login`) or a pattern. Ignored when `match` is set. */
  readonly path?: string | RegExp;
  /** HTTP method(s) the rule applies to. @default every method */
  readonly method?: string | readonly string[];
  /** Custom matcher, instead of `path`/`method`. */
  readonly match?: (ctx: Context) => boolean;
  /** Requests allowed per window. */
  readonly limit: number;
  /** Window as ms or a duration string (`1m`). @default the default window */
  readonly window?: number | string;
}

export interface RateLimitOptions {
  /** Shared store (single Redis or Cluster, see createRedisClient). @default in-process only (per replica) */
  readonly redis?: RedisClient;
  /** Requests per window per client. @default RuntimeDefaults.RATE_LIMIT_REQUESTS (100) */
  readonly limit?: number;
  /** Window as ms or a duration string. @default RuntimeDefaults.RATE_LIMIT_WINDOW ('1m') */
  readonly window?: number | string;
  /** Per-route overrides, checked in order. @default none */
  readonly routes?: readonly RateLimitRule[];
  /** Prefix of the Redis keys. @default 'rl:' */
  readonly keyPrefix?: string;
  /** Proxies allowed to name the client in X-Forwarded-For. @default none: the socket address is the client */
  readonly trustedProxies?: TrustedProxies;
  /** Names the client instead of the address (e.g. an API key). @default the address rules above */
  readonly identify?: (ctx: Context) => string;
  /** When Redis fails: false = use the in-process limiter (fail open), true = answer 503. @default false */
  readonly failClosed?: boolean;
  /** Clients tracked by the in-process limiter (LRU beyond that). @default 10000 */
  readonly maxMemoryKeys?: number;
  /** Requests for which no limit applies (e.g. health checks). @default none */
  readonly skip?: (ctx: Context) => boolean;
  /**
   * Most decisions sent to Redis in one script call. Requests arriving in the
   * same event-loop turn share a call (each still waits one round trip); 1
   * sends one EVALSHA per request. @default DEFAULT_MAX_BATCH (64)
   */
  readonly maxBatch?: number;
  /** Registry for `rate_limit_rejected_total` and `rate_limit_fallback_total`. @default no metrics */
  readonly registry?: Registry;
}

interface CompiledRule {
  readonly name: string;
  readonly matches: (ctx: Context) => boolean;
  readonly limit: number;
  readonly windowMs: number;
  readonly limitHeader: string;
  /** `<keyPrefix><name>:`, to which the client's identity is appended. */
  readonly keyPrefix: string;
}

function durationMs(value: number | string, name: string): number {
  let ms: number;
  try {
    ms = toMs(value);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new Error(`${name}: ${value} is not a positive duration`);
  }
  return ms;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name}: ${value} is not a positive integer`);
  }
  return value;
}

function compileRule(rule: RateLimitRule, index: number, defaultWindowMs: number, keyPrefix: string): CompiledRule {
  const name = rule.name ?? `route${index}`;
  if (!/^[\w.-]+$/.test(name)) {
    throw new Error(`routes[${index}].name: '${name}' must be letters, digits, '_', '.', '-'`);
  }
  const limit = positiveInteger(rule.limit, `routes[${index}].limit`);
  const windowMs = rule.window === undefined ? defaultWindowMs : durationMs(rule.window, `routes[${index}].window`);
  let matches = rule.match;
  if (!matches) {
    if (rule.path === undefined) {
      throw new Error(`routes[${index}]: set path or match`);
    }
    const path = rule.path;
    const methods = rule.method === undefined ? undefined : new Set((typeof rule.method === 'string' ? [rule.method] : rule.method).map((m) => m.toUpperCase()));
    const pathMatches = typeof path === 'string' ? (p: string) => p === path : (p: string) => path.test(p);
    matches = (ctx) => (methods === undefined || methods.has(ctx.method)) && pathMatches(ctx.path);
  }
  return { name, matches, limit, windowMs, limitHeader: String(limit), keyPrefix: `${keyPrefix}${name}:` };
}

const TOO_MANY = { error: 'too_many_requests' } as const;
const UNAVAILABLE = { error: 'rate_limiter_unavailable' } as const;

/**
 * Per-client rate limiting (GCRA) shared across replicas through Redis, one
 * atomic round trip per request (batched per event-loop turn), with IETF `RateLimit-*` headers and
 * `Retry-After` on 429. Redis trouble never makes a request wait: while the
 * client is disconnected the in-process limiter answers at once (or 503 with
 * `failClosed`); a hung Redis costs at most the client's command timeout.
 */
export function rateLimit(options: RateLimitOptions = {}): Middleware {
  const windowMs = durationMs(options.window ?? RuntimeDefaults.RATE_LIMIT_WINDOW, 'window');
  const keyPrefix = options.keyPrefix ?? 'rl:';
  const defaultRule = compileRule({ name: 'default', limit: options.limit ?? RuntimeDefaults.RATE_LIMIT_REQUESTS, match: () => true }, -1, windowMs, keyPrefix);
  const rules = (options.routes ?? []).map((r, i) => compileRule(r, i, windowMs, keyPrefix));
  const names = new Set(rules.map((r) => r.name));
  if (names.size !== rules.length || names.has('default')) {
    throw new Error('routes: rule names must be unique and not \'default\'');
  }
  const identify = options.identify ?? clientIdentity(options.trustedProxies);
  const maxMemoryKeys = positiveInteger(options.maxMemoryKeys ?? 10_000, 'maxMemoryKeys');
  const failClosed = options.failClosed ?? false;
  const skip = options.skip;
  const maxBatch = positiveInteger(options.maxBatch ?? DEFAULT_MAX_BATCH, 'maxBatch');
  const redis = options.redis ? new RedisGcraStore(options.redis, maxBatch) : undefined;
  const memory = new MemoryGcraStore(maxMemoryKeys);

  const rejected = sharedCounter(options.registry, MetricNames.RATE_LIMIT_REJECTED_TOTAL, 'Requests rejected by the rate limiter', ['route', 'reason']);
  const fallback = sharedCounter(options.registry, MetricNames.RATE_LIMIT_FALLBACK_TOTAL, 'Rate-limit decisions taken without Redis', ['mode']);
  // Label sets bound once: inc() on the hot path adds to a number (see counterChild).
  const rejectedBy = new Map([defaultRule, ...rules].map((r) => [r.name, counterChild(rejected, { route: r.name, reason: 'limit' })]));
  const unavailable = counterChild(rejected, { route: 'all', reason: 'unavailable' });
  const fellBackOpen = counterChild(fallback, { mode: 'fail_open' });
  const fellBackClosed = counterChild(fallback, { mode: 'fail_closed' });

  const unavailableResponse = (ctx: Context): void => {
    fellBackClosed?.inc();
    unavailable?.inc();
    ctx.status = 503;
    ctx.set('Retry-After', '1');
    ctx.body = UNAVAILABLE;
  };

  /** Sends the decision's headers, then 429 or the rest of the chain. */
  const respond = (ctx: Context, next: Next, rule: CompiledRule, decision: GcraDecision): Promise<void> | undefined => {
    // Straight to the raw response: the names are constant and the values digits, so Koa's ctx.set checks buy nothing.
    // Lowercase names, as in securityHeaders: no new string per header.
    const res = ctx.res;
    res.setHeader('ratelimit-limit', rule.limitHeader);
    res.setHeader('ratelimit-remaining', String(decision.remaining));
    res.setHeader('ratelimit-reset', String(Math.ceil(decision.resetMs / 1000)));
    if (!decision.allowed) {
      rejectedBy.get(rule.name)?.inc();
      ctx.set('Retry-After', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
      ctx.status = 429;
      ctx.body = TOO_MANY;
      return undefined;
    }
    return next();
  };

  const viaRedis = (ctx: Context, next: Next, rule: CompiledRule, client: string, slot: number, store: RedisGcraStore): Promise<void> => {
    const batch = store.enqueue(client, rule, slot);
    const { lastOffset, lastRank } = batch;
    return batch.reply.then((reply) => respond(ctx, next, rule, batch.decisionAt(reply, lastOffset, lastRank)), () => {
      // Timeout or connection lost mid-command: decide without Redis.
      if (failClosed) {
        unavailableResponse(ctx);
        return undefined;
      }
      fellBackOpen?.inc();
      return respond(ctx, next, rule, memory.take(keyOf(client, rule), rule));
    });
  };

  // Not async: without Redis (or while it is down) the decision is synchronous, and the request then costs no promise of its own.
  const rateLimitMiddleware: Middleware = (ctx, next) => {
    if (skip?.(ctx)) {
      return next();
    }
    let rule = defaultRule;
    for (const r of rules) {
      if (r.matches(ctx)) {
        rule = r;
        break;
      }
    }
    const client = identify(ctx);
    if (redis) {
      // The key's slot once: it picks the batch and, on a cluster, the master whose suspension counts.
      const slot = redis.slotOf(client, rule);
      if (redis.available(slot)) {
        return viaRedis(ctx, next, rule, client, slot, redis);
      }
      if (failClosed) {
        unavailableResponse(ctx);
        return undefined;
      }
      fellBackOpen?.inc();
    }
    return respond(ctx, next, rule, memory.take(keyOf(client, rule), rule));
  };
  return rateLimitMiddleware;
}
