import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import { MetricNames } from '../conventions.generated';
import { isRedisReady, redisCall, RedisClient, slotOfKey } from '../redis/client';
import { counterChild, sharedCounter } from '../redis/counter';

/** How values travel to and from Redis. */
export interface CacheCodec<V> {
  encode(value: V): Buffer | string;
  decode(raw: Buffer): V;
}

/** JSON, the default codec. */
export const jsonCodec: CacheCodec<unknown> = {
  encode: (value) => JSON.stringify(value),
  decode: (raw) => JSON.parse(raw.toString('utf8')),
};

export interface TwoLevelCacheOptions<V> {
  /** L2 and the invalidation channel. @default L1 only */
  readonly redis?: RedisClient;
  /** Prefix of the L2 keys and of the channel name; one namespace per kind of value. @default 'cache:' */
  readonly namespace?: string;
  /** Default time to live (both levels). @default 60000 */
  readonly ttlMs?: number;
  /** L1 never keeps an entry longer than this, even if L2 does. @default ttlMs */
  readonly l1MaxTtlMs?: number;
  /** L1 entry count cap. @default 1000 */
  readonly l1MaxEntries?: number;
  /** L1 size cap in bytes (sum of encoded sizes). @default 16 MiB */
  readonly l1MaxBytes?: number;
  /** Pub/sub channel carrying deletions to other replicas. @default `${namespace}invalidate` */
  readonly channel?: string;
  /** @default JSON */
  readonly codec?: CacheCodec<V>;
  /** Label `cache` of `cache_requests_total`. @default the namespace */
  readonly name?: string;
  /** Registry for `cache_requests_total{cache,result}`. @default no metrics */
  readonly registry?: Registry;
  /** Redis errors are swallowed (the cache degrades to L1 + loader); observe them here. @default ignore */
  readonly onError?: (err: Error) => void;
}

const GET_WITH_TTL = 'rauliCacheGetWithTtl';
const SET_AND_PUBLISH = 'rauliCacheSetPublish';
const DEL_AND_PUBLISH = 'rauliCacheDelPublish';

const SCRIPTS = {
  // Value and remaining TTL in one round trip, so L1 never outlives L2.
  [GET_WITH_TTL]: { numberOfKeys: 1, lua: "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}" },
  [SET_AND_PUBLISH]: { numberOfKeys: 1, lua: "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return redis.call('PUBLISH', ARGV[3], ARGV[4])" },
  [DEL_AND_PUBLISH]: { numberOfKeys: 1, lua: "redis.call('DEL', KEYS[1]) return redis.call('PUBLISH', ARGV[1], ARGV[2])" },
};

interface ScriptClient {
  rauliCacheGetWithTtlBuffer(key: string): Promise<[Buffer | null, number]>;
  rauliCacheSetPublish(key: string, value: Buffer | string, ttlMs: number, channel: string, message: string): Promise<number>;
  rauliCacheDelPublish(key: string, channel: string, message: string): Promise<number>;
}

interface L1Entry<V> {
  readonly value: V;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name}: ${value} must be a positive number`);
  }
  return value;
}

/**
 * A two-level cache: lru-cache in process (L1: entries, bytes, TTL) in front
 * of Redis (L2: TTL). Writes and deletions are published on a Redis channel so
 * the other replicas drop their L1 copy. Redis trouble never reaches the
 * caller: reads fall back to L1 or the loader, writes to L1 only.
 */
export class TwoLevelCache<V> {
  private readonly l1: LRUCache<string, L1Entry<V>>;
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly instanceId = randomUUID();
  private readonly namespace: string;
  private readonly channel: string;
  private readonly ttlMs: number;
  private readonly l1MaxTtlMs: number;
  private readonly codec: CacheCodec<V>;
  private readonly scripts?: ScriptClient;
  private readonly subscriber?: RedisClient;
  private readonly onError: (err: Error) => void;
  private readonly counted: { l1: () => void; l2: () => void; miss: () => void };

  constructor(private readonly options: TwoLevelCacheOptions<V> = {}) {
    this.namespace = options.namespace ?? 'cache:';
    this.channel = options.channel ?? `${this.namespace}invalidate`;
    this.ttlMs = positive(options.ttlMs ?? 60_000, 'ttlMs');
    this.l1MaxTtlMs = positive(options.l1MaxTtlMs ?? this.ttlMs, 'l1MaxTtlMs');
    this.codec = options.codec ?? (jsonCodec as CacheCodec<V>);
    this.onError = options.onError ?? (() => undefined);
    this.l1 = new LRUCache<string, L1Entry<V>>({
      max: positive(options.l1MaxEntries ?? 1000, 'l1MaxEntries'),
      maxSize: positive(options.l1MaxBytes ?? 16 * 1024 * 1024, 'l1MaxBytes'),
      // lru-cache's default (1) caches its clock for 1 ms with a timer: about a thousand
      // timers a second under load, each waking an otherwise idle event loop. Reading
      // performance.now() on every staleness check costs less than one wake-up.
      ttlResolution: 0,
    });

    const requests = sharedCounter(options.registry, MetricNames.CACHE_REQUESTS_TOTAL, 'Cache lookups by level and result', ['cache', 'result']);
    const name = options.name ?? this.namespace;
    const child = (result: string) => {
      const c = counterChild(requests, { cache: name, result });
      return c ? c.inc : () => undefined;
    };
    this.counted = { l1: child('l1_hit'), l2: child('l2_hit'), miss: child('miss') };

    const redis = options.redis;
    if (redis) {
      for (const [command, definition] of Object.entries(SCRIPTS)) {
        if (typeof (redis as unknown as { [k: string]: unknown })[command] !== 'function') {
          redis.defineCommand(command, definition);
        }
      }
      this.scripts = redis as unknown as ScriptClient;
      this.subscriber = this.subscribe(redis);
    }
  }

  /** L1 only, synchronously: the cheap path for hot keys. */
  peek(key: string): V | undefined {
    const local = this.l1.get(key);
    if (local === undefined) {
      return undefined;
    }
    this.counted.l1();
    return local.value;
  }

  /** L1, then L2 (filling L1 with L2's remaining TTL). Undefined on a miss or when Redis fails. */
  async get(key: string): Promise<V | undefined> {
    const local = this.l1.get(key);
    if (local !== undefined) {
      this.counted.l1();
      return local.value;
    }
    const remote = await this.getL2(key);
    if (remote === undefined) {
      this.counted.miss();
    }
    return remote;
  }

  /** Stores in L1 at once and in L2 (awaited; errors swallowed), and tells other replicas to drop their copy. */
  async set(key: string, value: V, ttlMs: number = this.ttlMs): Promise<void> {
    if (!(ttlMs > 0)) {
      return;
    }
    const encoded = this.codec.encode(value);
    this.setL1(key, value, Buffer.byteLength(encoded), ttlMs);
    const slot = this.slotOf(key);
    if (this.scripts && isRedisReady(this.options.redis!, slot)) {
      try {
        const write = this.scripts.rauliCacheSetPublish(this.namespace + key, encoded, Math.ceil(ttlMs), this.channel, this.message(key));
        await redisCall(this.options.redis!, write, slot);
      } catch (err) {
        this.onError(err as Error);
      }
    }
  }

  /** Removes the key here, in Redis, and (through pub/sub) from every other replica's L1. */
  async delete(key: string): Promise<void> {
    this.l1.delete(key);
    const slot = this.slotOf(key);
    if (this.scripts && isRedisReady(this.options.redis!, slot)) {
      try {
        await redisCall(this.options.redis!, this.scripts.rauliCacheDelPublish(this.namespace + key, this.channel, this.message(key)), slot);
      } catch (err) {
        this.onError(err as Error);
      }
    }
  }

  /**
   * The cached value, or the loader's, stored for `ttlMs`. Concurrent misses
   * for one key in this process share one L2 lookup and one loader call.
   * Loader errors reach the caller; Redis errors never do.
   */
  wrap(key: string, loader: () => Promise<V> | V, ttlMs?: number): Promise<V> {
    const local = this.l1.get(key);
    if (local !== undefined) {
      this.counted.l1();
      return Promise.resolve(local.value);
    }
    const pending = this.inflight.get(key);
    if (pending) {
      return pending;
    }
    const load = (async () => {
      const remote = await this.getL2(key);
      if (remote !== undefined) {
        return remote;
      }
      this.counted.miss();
      const value = await loader();
      if (value !== undefined) {
        // Not awaited: the caller has its value; a slow Redis must not delay it.
        void this.set(key, value, ttlMs);
      }
      return value;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  /** L1 entry count and bytes, for tests and dashboards. */
  get l1Stats(): { entries: number; bytes: number } {
    return { entries: this.l1.size, bytes: this.l1.calculatedSize };
  }

  /** Remaining L1 TTL of a key in ms (0 when absent). */
  l1RemainingTtl(key: string): number {
    return this.l1.has(key) ? Math.max(0, this.l1.getRemainingTTL(key)) : 0;
  }

  /** Closes the subscriber connection (the shared client is the caller's to close). */
  async close(): Promise<void> {
    if (this.subscriber) {
      this.subscriber.disconnect();
    }
  }

  private setL1(key: string, value: V, size: number, ttlMs: number): void {
    this.l1.set(key, { value }, { ttl: Math.min(ttlMs, this.l1MaxTtlMs), size: Math.max(1, size) });
  }

  /** The cluster slot of `key` in Redis (undefined on a single Redis or without one). */
  private slotOf(key: string): number | undefined {
    return this.options.redis ? slotOfKey(this.options.redis, this.namespace + key) : undefined;
  }

  private async getL2(key: string): Promise<V | undefined> {
    const slot = this.slotOf(key);
    if (!this.scripts || !isRedisReady(this.options.redis!, slot)) {
      return undefined;
    }
    try {
      const [raw, pttl] = await redisCall(this.options.redis!, this.scripts.rauliCacheGetWithTtlBuffer(this.namespace + key), slot);
      if (raw === null || pttl <= 0) {
        return undefined;
      }
      const value = this.codec.decode(raw);
      this.setL1(key, value, raw.length, pttl);
      this.counted.l2();
      return value;
    } catch (err) {
      this.onError(err as Error);
      return undefined;
    }
  }

  private message(key: string): string {
    return `${this.instanceId}\n${key}`;
  }

  private subscribe(redis: RedisClient): RedisClient {
    // A dedicated connection (a subscribed connection cannot run commands) with
    // the offline queue on: SUBSCRIBE waits for Redis and is repeated after
    // every reconnect. It never sits on a request path.
    const subscriber = 'isCluster' in redis && redis.isCluster
      ? redis.duplicate(undefined, { enableOfflineQueue: true })
      : (redis as import('ioredis').Redis).duplicate({ enableOfflineQueue: true });
    subscriber.on('error', (err: Error) => this.onError(err));
    let wasReady = false;
    subscriber.on('ready', () => {
      // Deletions published while we were disconnected are lost: start L1 afresh.
      if (wasReady) {
        this.l1.clear();
      }
      wasReady = true;
    });
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) {
        return;
      }
      const sep = message.indexOf('\n');
      if (sep > 0 && message.slice(0, sep) !== this.instanceId) {
        this.l1.delete(message.slice(sep + 1));
      }
    });
    subscriber.subscribe(this.channel).catch((err: Error) => this.onError(err));
    return subscriber;
  }
}
