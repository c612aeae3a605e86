import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { GCRA_LUA, GcraDecision, gcraStep } from './gcra';
import { isRedisReady, redisCall, RedisClient } from '../redis/client';

// ioredis's own slot function. Loaded with require: its bundled index.d.ts does not compile (export = beside other exports).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require('cluster-key-slot') as (key: string) => number;

const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex');

interface Waiter {
  readonly key: string;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly resolve: (decision: GcraDecision) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The shared limiter. Decisions asked for in the same event-loop turn go to
 * Redis together, in one EVALSHA per cluster slot (at most `maxBatch` keys
 * each): every request waits exactly one round trip, and under load the
 * process pays ioredis's per-command cost (~4 µs) once per batch instead of
 * once per request.
 */
export class RedisGcraStore {
  private readonly slotOf: (key: string) => number;
  private readonly pending = new Map<number, Waiter[]>();
  private flushScheduled = false;

  constructor(private readonly client: RedisClient, private readonly maxBatch = 64) {
    // One script call may only touch one slot; on a single Redis every key shares "slot" 0.
    const prefix = client.options.keyPrefix ?? '';
    this.slotOf = client instanceof Cluster ? (key) => calculateSlot(prefix + key) : () => 0;
  }

  /** False while disconnected: callers go straight to the fallback instead of waiting. */
  get available(): boolean {
    return isRedisReady(this.client);
  }

  take(key: string, intervalMs: number, windowMs: number): Promise<GcraDecision> {
    return new Promise((resolve, reject) => {
      const slot = this.slotOf(key);
      let batch = this.pending.get(slot);
      if (batch === undefined) {
        batch = [];
        this.pending.set(slot, batch);
      }
      batch.push({ key, intervalMs, windowMs, resolve, reject });
      if (batch.length >= this.maxBatch) {
        this.pending.delete(slot);
        this.send(batch);
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the poll phase: every request parsed from this turn's socket reads joins the batch.
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const batch of this.pending.values()) this.send(batch);
    this.pending.clear();
  };

  /**
   * Plain EVALSHA rather than ioredis's defineCommand: ioredis routes (and
   * auto-pipelines) a cluster command by its first key only for commands it
   * knows, and a custom command with a variable key count would be routed by
   * its key count. After a restart empties the script cache, EVAL reloads it.
   */
  private script(keyCount: number, args: (string | number)[]): Promise<number[]> {
    return (this.client.evalsha(GCRA_SHA, keyCount, ...args) as Promise<number[]>).catch((err: Error) => {
      if (!err.message.startsWith('NOSCRIPT')) throw err;
      return this.client.eval(GCRA_LUA, keyCount, ...args) as Promise<number[]>;
    });
  }

  private send(batch: Waiter[]): void {
    const n = batch.length;
    const args: (string | number)[] = new Array(3 * n);
    for (let i = 0; i < n; i++) {
      const w = batch[i];
      args[i] = w.key;
      args[n + 2 * i] = w.intervalMs;
      args[n + 2 * i + 1] = w.windowMs;
    }
    redisCall(this.client, this.script(n, args)).then((reply) => {
      for (let i = 0; i < n; i++) {
        const j = 4 * i;
        batch[i].resolve({ allowed: reply[j] === 1, remaining: reply[j + 1], resetMs: reply[j + 2], retryAfterMs: reply[j + 3] });
      }
    }, (err: unknown) => {
      for (const w of batch) w.reject(err);
    });
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
