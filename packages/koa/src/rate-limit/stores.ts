import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { GCRA_LUA, GcraDecision, gcraStep } from './gcra';
import { isRedisReady, redisCall, RedisClient, slotOfKey } from '../redis/client';


const GCRA_SHA = createHash('sha1').update(GCRA_LUA).digest('hex');

/** Most requests in one script call unless `maxBatch` says otherwise. */
export const DEFAULT_MAX_BATCH = 64;

/** A quota: `limit` requests per `windowMs`, one every `windowMs / limit`. Batches are per limit object. */
export interface GcraLimit {
  readonly limit: number;
  readonly windowMs: number;
  /** Prepended to a client to name its key. @default '' (the client is the key) */
  readonly keyPrefix?: string;
}

/** A client's key under `limit`: the script's KEYS, the cluster slot and the in-process fallback must name the client alike. */
export const keyOf = (client: string, limit: GcraLimit): string => (limit.keyPrefix ?? '') + client;

/**
 * Decisions asked for in one event-loop turn, for one limit and one cluster
 * slot, sent as one script call with each client once. Requests share its one
 * promise and read their decision with `decisionAt`, from the place `add`
 * left in `lastOffset` and `lastRank`, so joining a batch allocates no
 * promise per request. Clients are looked up as they come (a socket's
 * address is one string for all of its requests, its hash computed once) and
 * the key is built once per client and call, not per request.
 */
export class GcraBatch {
  /** KEYS of the script call (the limit's prefix and the client): each client once, in order of arrival. */
  readonly keys: string[] = [];
  /** Requests per key, in the order of `keys`. */
  readonly requests: number[] = [];
  /** Requests in the batch: what `maxBatch` bounds. */
  size = 0;
  /** Per key, the debt before the call and how many requests were admitted: see GCRA_LUA. */
  readonly reply: Promise<number[]>;
  /** Settles `reply` with the script call's outcome. */
  settleWith!: (work: Promise<number[]>) => void;
  /** Where the request added last is: its key's first value in `reply`, and how many of that key's requests came before it. */
  lastOffset = 0;
  lastRank = 0;
  private readonly indexOf = new Map<string, number>();
  private readonly intervalMs: number;

  constructor(readonly limit: GcraLimit, readonly slot: number) {
    this.intervalMs = limit.windowMs / limit.limit;
    this.reply = new Promise((resolve, reject) => {
      this.settleWith = (work) => work.then(resolve, reject);
    });
  }

  /** Adds one request of `client`; its place in the reply is then `lastOffset` and `lastRank`. */
  add(client: string): void {
    this.size++;
    const index = this.indexOf.get(client);
    if (index === undefined) {
      this.lastOffset = 2 * this.keys.length;
      this.lastRank = 0;
      this.indexOf.set(client, this.keys.length);
      this.keys.push(keyOf(client, this.limit));
      this.requests.push(1);
    } else {
      this.lastOffset = 2 * index;
      this.lastRank = this.requests[index]++;
    }
  }

  /** The decision of the `rank`-th request (from 0) of the key at `offset`, from the settled reply. */
  decisionAt(reply: readonly number[], offset: number, rank: number): GcraDecision {
    const admitted = reply[offset + 1];
    return gcraStep(reply[offset] + (rank < admitted ? rank : admitted), this.limit.limit, this.intervalMs);
  }
}

/**
 * The shared limiter. Decisions asked for in the same event-loop turn go to
 * Redis together, in one EVALSHA per limit and cluster slot (at most
 * `maxBatch` requests each): every request waits exactly one round trip, and under
 * load the process pays ioredis's per-command cost (~4 µs) once per batch
 * instead of once per request.
 */
export class RedisGcraStore {
  /** The cluster slot of a client's key under `limit` (0 on a single Redis): batches, and fail-fast suspensions, are per slot. */
  readonly slotOf: (client: string, limit?: GcraLimit) => number;
  private readonly pending = new Map<GcraLimit, Map<number, GcraBatch>>();
  private flushScheduled = false;

  constructor(private readonly client: RedisClient, private readonly maxBatch = DEFAULT_MAX_BATCH) {
    // One script call may only touch one slot; on a single Redis every key shares "slot" 0.
    this.slotOf = client instanceof Cluster ? (name, limit) => slotOfKey(client, limit ? keyOf(name, limit) : name)! : () => 0;
  }

  /** False while disconnected, or while the master serving `slot` is suspended after a timeout: callers go straight to the fallback instead of waiting. */
  available(slot: number): boolean {
    return isRedisReady(this.client, slot);
  }

  async take(client: string, limit: GcraLimit): Promise<GcraDecision> {
    const batch = this.enqueue(client, limit);
    const { lastOffset, lastRank } = batch;
    return batch.decisionAt(await batch.reply, lastOffset, lastRank);
  }

  /** Adds a decision to the open batch of its limit and slot and returns that batch (the hot path: no promise of its own). */
  enqueue(client: string, limit: GcraLimit, slot: number = this.slotOf(client, limit)): GcraBatch {
    let bySlot = this.pending.get(limit);
    if (bySlot === undefined) {
      bySlot = new Map();
      this.pending.set(limit, bySlot);
    }
    let batch = bySlot.get(slot);
    if (batch === undefined) {
      batch = new GcraBatch(limit, slot);
      bySlot.set(slot, batch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the poll phase: every request parsed from this turn's socket reads joins the batch.
        setImmediate(this.flush);
      }
    }
    batch.add(client);
    if (batch.size >= this.maxBatch) {
      bySlot.delete(slot);
      this.send(batch);
    }
    return batch;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const bySlot of this.pending.values()) {
      for (const batch of bySlot.values()) this.send(batch);
    }
    this.pending.clear();
  };

  /**
   * Plain EVALSHA rather than ioredis's defineCommand: ioredis routes (and
   * auto-pipelines) a cluster command by its first key only for commands it
   * knows, and a custom command with a variable key count would be routed by
   * its key count. After a restart empties the script cache, EVAL reloads it.
   */
  private send(batch: GcraBatch): void {
    const { keys, limit } = batch;
    const args = [...keys, limit.limit, limit.windowMs, ...batch.requests];
    const work = (this.client.evalsha(GCRA_SHA, keys.length, ...args) as Promise<(string | number)[]>).catch((err: Error) => {
      if (!err.message.startsWith('NOSCRIPT')) throw err;
      return this.client.eval(GCRA_LUA, keys.length, ...args) as Promise<(string | number)[]>;
    });
    // The debts come as strings (Redis truncates a Lua number in a reply to an integer): parsed once per call, not per request.
    batch.settleWith(redisCall(this.client, work, batch.slot).then((reply) => reply.map(Number)));
  }
}

/** One client of the in-process limiter. Mutated in place, so a known client's decision changes no Map. */
interface MemoryEntry {
  /** TAT in intervals since the store was created. */
  tat: number;
  /** Used since the eviction scan last passed it: it gets a second chance. */
  recent: boolean;
}

/**
 * The in-process limiter used alone (no Redis) or while Redis is down. One
 * number per client, at most `maxKeys` clients, so memory stays flat however
 * many clients come; beyond that the least recently used go first, and an
 * evicted client merely starts a fresh quota. The number is the client's TAT
 * counted in intervals since this store was created: an admitted request adds
 * exactly 1, so bursts stay exact (see gcra.ts) while the count stays below
 * 2^53 (104 days of uptime at 10^9 requests per second), and one key always
 * belongs to one limit (the middleware's keys name their rule).
 *
 * Recency is a second-chance bit (CLOCK) over the Map's insertion order, not a
 * move to the end on every hit: a delete and re-insert per request made V8
 * rebuild the Map's table every few requests. Entries carry no TTL: a TAT in
 * the past is a fresh client, so expiry would only free memory the bound
 * already caps.
 */
export class MemoryGcraStore {
  private readonly entries = new Map<string, MemoryEntry>();
  private readonly epoch = Date.now();

  constructor(private readonly maxKeys: number) {}

  take(key: string, { limit, windowMs }: GcraLimit): GcraDecision {
    const intervalMs = windowMs / limit;
    const now = (Date.now() - this.epoch) / intervalMs;
    const entry = this.entries.get(key);
    if (entry === undefined) {
      // A fresh client owes nothing, and limits are at least 1: admitted.
      const decision = gcraStep(0, limit, intervalMs);
      this.insert(key, { tat: now + 1, recent: false });
      return decision;
    }
    entry.recent = true;
    const tat = entry.tat > now ? entry.tat : now;
    const decision = gcraStep(tat - now, limit, intervalMs);
    entry.tat = decision.allowed ? tat + 1 : tat;
    return decision;
  }

  /** Number of clients currently tracked (bounded by maxKeys). */
  get size(): number {
    return this.entries.size;
  }

  private insert(key: string, entry: MemoryEntry): void {
    const entries = this.entries;
    while (entries.size >= this.maxKeys) {
      // The oldest first; one used since the last pass goes to the back instead, once.
      const [oldestKey, oldest] = entries.entries().next().value!;
      entries.delete(oldestKey);
      if (oldest.recent) {
        oldest.recent = false;
        entries.set(oldestKey, oldest);
      }
    }
    entries.set(key, entry);
  }
}
