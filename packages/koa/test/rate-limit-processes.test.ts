/* Limit exactness across replicas: several processes share one Redis (single
 * or cluster); concurrent requests from several clients, spread over every
 * replica, must admit exactly `limit` per client per window. */
import { Cluster } from 'ioredis';
import { closeRedisClient, createRedisClient, isRedisReady, redisCall, RedisDeadlineError, slotOfKey, waitForRedis } from '../src/redis';
import { hit, uniquePrefix } from './support/redis-http';
import { PrivateRedisCluster, SHARED_REDIS_URL } from './support/redis-servers';
import { spawnWorker, Worker, WorkerConfig } from './support/redis-worker';

const LIMIT = 10;
const CLIENTS = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
const PER_CLIENT = 40;

async function withWorkers(config: Omit<WorkerConfig, 'limit' | 'window' | 'trustedProxies'>, body: (workers: Worker[]) => Promise<void>): Promise<void> {
  // The test plays the trusted proxy (127.0.0.1) so one machine can act as several clients.
  const full: WorkerConfig = { ...config, limit: LIMIT, window: '1m', trustedProxies: ['127.0.0.1'] };
  const workers = await Promise.all([spawnWorker(full), spawnWorker(full), spawnWorker(full)]);
  try {
    // Warm up outside the measured clients: scripts loaded, a connection to
    // every cluster master, code compiled. A cold process on this shared
    // 2-core host can stall past the 100 ms command timeout, and a timed-out
    // decision is taken by the in-process fallback (fail open), not Redis.
    for (const w of workers) {
      for (let i = 0; i < 12; i++) {
        await hit(w.url, { headers: { 'x-forwarded-for': `192.0.2.${i}` } });
      }
    }
    await body(workers).catch(async (err) => {
      for (const w of workers) console.log((await hit(`${w.url}/metrics`)).body);
      throw err;
    });
    // Every decision came from Redis: none was taken by a replica's in-process fallback.
    for (const w of workers) {
      expect((await hit(`${w.url}/metrics`)).body).not.toMatch(/rate_limit_fallback_total\{[^}]*\} [1-9]/);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function admittedPerClient(workers: Worker[]): Promise<Map<string, { ok: number; limited: number; other: number }>> {
  const requests = CLIENTS.flatMap((client) => Array.from({ length: PER_CLIENT }, (_, i) => ({ client, worker: workers[i % workers.length] })));
  const results = await Promise.all(requests.map(async ({ client, worker }) => ({ client, status: (await hit(worker.url, { headers: { 'x-forwarded-for': client } })).status })));
  const tally = new Map(CLIENTS.map((c) => [c, { ok: 0, limited: 0, other: 0 }]));
  for (const { client, status } of results) {
    const t = tally.get(client)!;
    if (status === 200) t.ok++;
    else if (status === 429) t.limited++;
    else t.other++;
  }
  return tally;
}

function expectExact(tally: Map<string, { ok: number; limited: number; other: number }>): void {
  for (const client of CLIENTS) {
    expect({ client, ...tally.get(client) }).toEqual({ client, ok: LIMIT, limited: PER_CLIENT - LIMIT, other: 0 });
  }
}

test('three processes on the shared Redis admit exactly the limit per client', async () => {
  await withWorkers({ redisUrl: SHARED_REDIS_URL, keyPrefix: uniquePrefix('procs') }, async (workers) => {
    expectExact(await admittedPerClient(workers));
  });
}, 120_000);

describe('Redis Cluster (6 nodes started by the test, password required as on the platform)', () => {
  const cluster = new PrivateRedisCluster(7110, 'cluster-test-password');

  beforeAll(async () => {
    await cluster.start();
  }, 90_000);

  afterAll(async () => {
    await cluster.stop();
  });

  test('three processes on the cluster admit exactly the limit per client', async () => {
    await withWorkers({ clusterNodes: cluster.addresses, password: cluster.password, keyPrefix: uniquePrefix('cluster') }, async (workers) => {
      expectExact(await admittedPerClient(workers));
    });
    // The buckets really live in the cluster, spread by slot over the masters.
    const keys = (await Promise.all(cluster.nodes.map((n) => n.cli('--scan', '--pattern', '*rl:default:*')))).join('\n').split('\n').filter(Boolean);
    const measured = new Set(keys.filter((k) => CLIENTS.some((c) => k.endsWith(`:${c}`))));
    expect(measured.size).toBe(CLIENTS.length);
    const mastersHoldingKeys = await Promise.all(cluster.nodes.map(async (n) => (await n.cli('role')).startsWith('master') && Number(await n.cli('dbsize')) > 0));
    expect(mastersHoldingKeys.filter(Boolean).length).toBeGreaterThan(1);
  }, 120_000);

  test('a master that misses the deadline suspends only the slots it serves', async () => {
    const client = createRedisClient({ clusterNodes: cluster.addresses, password: cluster.password, suspendAfterTimeoutMs: 10_000 });
    try {
      await waitForRedis(client);
      const slots = (client as Cluster).slots;
      const masterOfKey = (key: string) => slots[slotOfKey(client, key)!][0];
      const keys = Array.from({ length: 100 }, (_, i) => uniquePrefix(`suspend${i}`));
      const hungKey = keys[0];
      const hung = masterOfKey(hungKey);
      const liveKey = keys.find((k) => masterOfKey(k) !== hung)!;
      // A hung master (no failover: paused for less than cluster-node-timeout).
      await cluster.nodes.find((n) => `127.0.0.1:${n.port}` === hung)!.cli('client', 'pause', '1500', 'all');
      await expect(redisCall(client, client.get(hungKey), slotOfKey(client, hungKey))).rejects.toThrow(RedisDeadlineError);
      expect(isRedisReady(client, slotOfKey(client, hungKey))).toBe(false);
      // The other masters' keys, and calls that name no slot, still go to Redis.
      expect(isRedisReady(client, slotOfKey(client, liveKey))).toBe(true);
      expect(isRedisReady(client)).toBe(true);
      expect(await redisCall(client, client.set(liveKey, '1', 'PX', 60_000), slotOfKey(client, liveKey))).toBe('OK');
    } finally {
      await closeRedisClient(client);
    }
  }, 60_000);
});
