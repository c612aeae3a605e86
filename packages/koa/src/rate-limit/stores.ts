import { LRUCache } from 'lru-cache';
import { GCRA_LUA, GcraDecision, gcraStep } from './gcra';
import { isRedisReady, redisCall, RedisClient } from '../redis/client';

const COMMAND = 'rauliRateLimitGcra';

type GcraCommand = (key: string, intervalMs: number, windowMs: number) => Promise<[number, number, number, number]>;

/** The shared limiter: one EVALSHA per request (ioredis falls back to EVAL after a Redis restart empties the script cache). */
export class RedisGcraStore {
  private readonly run: GcraCommand;

  constructor(private readonly client: RedisClient) {
    const c = client as unknown as { [COMMAND]?: GcraCommand };
    if (typeof c[COMMAND] !== 'function') {
      client.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_LUA });
    }
    this.run = (client as unknown as { [COMMAND]: GcraCommand })[COMMAND].bind(client);
  }

  /** False while disconnected: callers go straight to the fallback instead of waiting. */
  get available(): boolean {
    return isRedisReady(this.client);
  }

  async take(key: string, intervalMs: number, windowMs: number): Promise<GcraDecision> {
    const [allowed, remaining, resetMs, retryAfterMs] = await redisCall(this.client, this.run(key, intervalMs, windowMs));
    return { allowed: allowed === 1, remaining, resetMs, retryAfterMs };
  }
}

/**
 * The in-process limiter used alone (no Redis) or while Redis is down. One
 * number per client in an LRU bounded by `maxKeys`, so memory stays flat
 * however many clients come; an evicted client merely starts a fresh quota.
 */
export class MemoryGcraStore {
  private readonly tats: LRUCache<string, number>;

  constructor(maxKeys: number) {
    this.tats = new LRUCache<string, number>({ max: maxKeys });
  }

  take(key: string, intervalMs: number, windowMs: number): GcraDecision {
    const now = Date.now();
    const [decision, newTat] = gcraStep(this.tats.get(key), now, intervalMs, windowMs);
    if (newTat !== undefined) {
      this.tats.set(key, newTat, { ttl: Math.max(1, Math.ceil(newTat - now)) });
    }
    return decision;
  }

  /** Number of clients currently tracked (bounded by maxKeys). */
  get size(): number {
    return this.tats.size;
  }
}
