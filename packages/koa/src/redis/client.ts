import { Cluster, Redis, RedisOptions, ClusterOptions } from 'ioredis';

// ioredis's own slot function. Loaded with require: its bundled index.d.ts does not compile (export = beside other exports).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require('cluster-key-slot') as (key: string) => number;

/** Either kind of client this package talks to. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** `redis://[:password@]host:port[/db]` (the guide's `REDIS_URL`). Ignored when `clusterNodes` is set. */
  readonly url?: string;
  /** Redis Cluster seed nodes as `host:port` (the guide's `REDIS_CLUSTER_NODES`). */
  readonly clusterNodes?: readonly string[];
  /** Overrides the password in `url` / used for every cluster node. */
  readonly password?: string;
  /** Prefix added to every key (ioredis `keyPrefix`). @default none */
  readonly keyPrefix?: string;
  /**
   * Deadline of the commands this package sends on a request path (rate
   * limit, cache): a hung Redis costs a request at most this long. The ioredis
   * `commandTimeout` is set to 10x this as a backstop for other callers.
   * @default 100
   */
  readonly commandTimeoutMs?: number;
  /** TCP connect timeout per attempt. @default 200 */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff grows by 50 ms per attempt up to this cap, and never stops. @default 1000 */
  readonly maxReconnectDelayMs?: number;
  /**
   * Batch the commands issued in the same event-loop tick into one write.
   * Saves a syscall per command under load; each command still answers in one round trip.
   * @default true
   */
  readonly autoPipelining?: boolean;
  /**
   * After a command misses its deadline (Redis hung, not down), request paths
   * skip Redis for this long instead of each waiting for its own timeout.
   * @default 1000
   */
  readonly suspendAfterTimeoutMs?: number;
  /** Called on connection errors (the client keeps reconnecting). @default ignore */
  readonly onError?: (err: Error) => void;
  /** Connection name shown in CLIENT LIST. @default none */
  readonly connectionName?: string;
}

/** Defaults chosen so a dead or hung Redis never makes a request wait more than ~200 ms. */
export const REDIS_FAIL_FAST_DEFAULTS = {
  commandTimeoutMs: 100,
  connectTimeoutMs: 200,
  maxReconnectDelayMs: 1000,
  suspendAfterTimeoutMs: 1000,
} as const;

/** Parses the guide's `REDIS_CLUSTER_NODES` (`host:port,host:port`) into node addresses. */
export function parseClusterNodes(value: string | readonly string[]): { host: string; port: number }[] {
  const list = typeof value === 'string' ? value.split(',') : value;
  return list.map((s) => s.trim()).filter(Boolean).map((node) => {
    const m = /^(?:redis:\/\/)?\[?([^\]]+?)\]?:(\d+)$/.exec(node);
    if (!m) {
      throw new Error(`clusterNodes: '${node}' is not host:port`);
    }
    return { host: m[1], port: Number(m[2]) };
  });
}

/**
 * Creates a fail-fast ioredis client for a single Redis (`url`) or a Redis
 * Cluster (`clusterNodes`).
 *
 * - `enableOfflineQueue: false`: while disconnected, commands are rejected at
 *   once instead of queueing (the ioredis default makes requests hang).
 * - `maxRetriesPerRequest: 0` + `commandTimeout`: a hung server costs one
 *   command timeout, never a retry loop.
 * - The client reconnects forever with a capped backoff, so Redis use resumes
 *   by itself after a restart.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const commandTimeout = options.commandTimeoutMs ?? REDIS_FAIL_FAST_DEFAULTS.commandTimeoutMs;
  const connectTimeout = options.connectTimeoutMs ?? REDIS_FAIL_FAST_DEFAULTS.connectTimeoutMs;
  const maxDelay = options.maxReconnectDelayMs ?? REDIS_FAIL_FAST_DEFAULTS.maxReconnectDelayMs;
  const retry = (times: number) => Math.min(times * 50, maxDelay);
  const onError = options.onError ?? (() => undefined);

  const common: RedisOptions = {
    commandTimeout: commandTimeout * 10,
    connectTimeout,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: options.autoPipelining ?? true,
    // The rate limiter already sends one script call per event-loop turn; an auto-pipeline around it is pure overhead.
    autoPipeliningIgnoredCommands: ['evalsha', 'eval'],
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
    ...(options.connectionName !== undefined ? { connectionName: options.connectionName } : {}),
  };

  let client: RedisClient;
  if (options.clusterNodes && options.clusterNodes.length > 0) {
    const { keyPrefix, enableAutoPipelining, autoPipeliningIgnoredCommands, ...nodeOptions } = common;
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      enableAutoPipelining,
      autoPipeliningIgnoredCommands,
      keyPrefix,
      clusterRetryStrategy: retry,
      // Redirections and failover waits add up per request: keep them short.
      maxRedirections: 2,
      retryDelayOnFailover: 20,
      retryDelayOnClusterDown: 20,
      retryDelayOnTryAgain: 20,
      slotsRefreshTimeout: Math.max(connectTimeout, 500),
      redisOptions: { ...nodeOptions },
    };
    client = new Cluster(parseClusterNodes(options.clusterNodes), clusterOptions);
  } else if (options.url) {
    client = new Redis(options.url, { ...common, enableOfflineQueue: false, retryStrategy: retry });
  } else {
    throw new Error('createRedisClient: set url (REDIS_URL) or clusterNodes (REDIS_CLUSTER_NODES)');
  }
  // Without a listener ioredis logs every failed reconnect as "Unhandled error event".
  client.on('error', onError);
  const suspendMs = options.suspendAfterTimeoutMs ?? REDIS_FAIL_FAST_DEFAULTS.suspendAfterTimeoutMs;
  guards.set(client, { deadlineMs: commandTimeout, suspendMs, suspendedUntil: 0, suspendedMasters: new Map(), mastersSuspendedUntil: 0 });
  return client;
}

interface Guard {
  readonly deadlineMs: number;
  readonly suspendMs: number;
  /** Whole client suspended until then (0: not suspended). */
  suspendedUntil: number;
  /** Cluster masters (`host:port`) suspended after a timeout, and until when. */
  readonly suspendedMasters: Map<string, number>;
  /** When the last of them expires: past it the map is cleared at once (a failed-over master is never asked about again). */
  mastersSuspendedUntil: number;
}

const guards = new WeakMap<RedisClient, Guard>();

function guardOf(client: RedisClient): Guard {
  let guard = guards.get(client);
  if (!guard) {
    // A client made elsewhere gets the same fail-fast treatment.
    guard = {
      deadlineMs: REDIS_FAIL_FAST_DEFAULTS.commandTimeoutMs,
      suspendMs: REDIS_FAIL_FAST_DEFAULTS.suspendAfterTimeoutMs,
      suspendedUntil: 0,
      suspendedMasters: new Map(),
      mastersSuspendedUntil: 0,
    };
    guards.set(client, guard);
  }
  return guard;
}

/** The cluster slot of `key` (the client's key prefix included), or undefined on a single Redis. */
export function slotOfKey(client: RedisClient, key: string): number | undefined {
  return client instanceof Cluster ? calculateSlot((client.options.keyPrefix ?? '') + key) : undefined;
}

/** The master serving `slot` as the client last learned it; it changes when a replica takes over. */
function masterOf(client: RedisClient, slot: number | undefined): string | undefined {
  return slot !== undefined && client instanceof Cluster ? client.slots[slot]?.[0] : undefined;
}

/**
 * Runs one request-path command under the client's deadline. A missed
 * deadline suspends Redis use on request paths for `suspendAfterTimeoutMs`,
 * so a request that needs Redis several times (rate limit, then cache) pays
 * for a hung server once, not per call. On a cluster, given the command's
 * `slot`, only the master serving it is suspended: the other masters' keys
 * keep their shared limits while one master fails over.
 */
export async function redisCall<T>(client: RedisClient, work: Promise<T>, slot?: number): Promise<T> {
  const guard = guardOf(client);
  try {
    return await withDeadline(work, guard.deadlineMs);
  } catch (err) {
    if (err instanceof RedisDeadlineError) {
      const until = Date.now() + guard.suspendMs;
      const master = masterOf(client, slot);
      if (master !== undefined) {
        guard.suspendedMasters.set(master, until);
        guard.mastersSuspendedUntil = until;
      } else {
        guard.suspendedUntil = until;
      }
    }
    throw err;
  }
}

/** Raised by {@link withDeadline}. */
export class RedisDeadlineError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`Redis did not answer within ${deadlineMs} ms`);
    this.name = 'RedisDeadlineError';
  }
}

/**
 * Settles with `work`, or rejects after `deadlineMs`. The rejection is
 * deferred with setImmediate, i.e. past the event loop's poll phase: when
 * this process (not Redis) was too busy to read a reply that already
 * arrived, the reply still wins. A plain timer (like ioredis's
 * commandTimeout) fires first after a stall and turns a fast Redis answer
 * into a false failure.
 */
export function withDeadline<T>(work: Promise<T>, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => setImmediate(() => {
      if (!settled) {
        settled = true;
        reject(new RedisDeadlineError(deadlineMs));
      }
    }), deadlineMs);
    work.then((value) => {
      settled = true;
      clearTimeout(timer);
      resolve(value);
    }, (err) => {
      settled = true;
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * True when commands can be sent now (connected, not suspended after a
 * timeout; on a cluster, given a `slot`, its master not suspended); callers
 * skip Redis instead of waiting when false.
 */
export function isRedisReady(client: RedisClient, slot?: number): boolean {
  if (client.status !== 'ready') {
    return false;
  }
  const guard = guards.get(client);
  if (guard === undefined) return true;
  if (guard.suspendedUntil !== 0 && guard.suspendedUntil > Date.now()) return false;
  // The hot path: no master suspended, no lookup.
  if (guard.suspendedMasters.size === 0) return true;
  const now = Date.now();
  if (now >= guard.mastersSuspendedUntil) {
    guard.suspendedMasters.clear();
    return true;
  }
  const master = masterOf(client, slot);
  const until = master === undefined ? undefined : guard.suspendedMasters.get(master);
  return until === undefined || until <= now;
}

/** Resolves once the client is connected, or rejects after `timeoutMs`. */
export function waitForRedis(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * Closes a client: QUIT when connected, so replies in flight still arrive;
 * otherwise disconnect at once. Resolves when the socket is gone, or at once
 * when there is none: between reconnect attempts ioredis emits no 'end' on
 * disconnect, and waiting for one stalled a shutdown until its deadline.
 */
export function closeRedisClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') {
    return Promise.resolve();
  }
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  if (client.status === 'ready') {
    client.quit().catch(() => client.disconnect());
    return ended;
  }
  const hasSocket = client.status === 'connecting' || client.status === 'connect';
  client.disconnect();
  return hasSocket ? ended : Promise.resolve();
}
