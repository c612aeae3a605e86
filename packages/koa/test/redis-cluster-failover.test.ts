/* A Redis Cluster master killed in the middle of traffic from the rate
 * limiter and both caches (6 private nodes, 3 masters + 3 replicas, password
 * required as on the platform; ports 19100-19105, cluster bus +10000): a
 * replica takes over, no request gets a 5xx or waits past the fail-fast
 * bound, and once the cluster is healthy again the limit is exact. */
import { readFileSync } from 'fs';
import { join } from 'path';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { responseCache, ResponseCacheMiddleware, TwoLevelCache } from '../src/cache';
import { rateLimit } from '../src/rate-limit';
import { createRedisClient, REDIS_FAIL_FAST_DEFAULTS, RedisClient, waitForRedis } from '../src/redis';
import { HostStalls } from './support/host-stalls';
import { hit, listen, Listening, sleep, uniquePrefix } from './support/redis-http';
import { PrivateRedis, PrivateRedisCluster } from './support/redis-servers';

const cluster = new PrivateRedisCluster(19100, 'failover-cluster-password');
/**
 * What one request may wait for Redis: the fail-fast deadline once per Redis
 * call it makes in a row (the limiter, the response cache and the value
 * cache's L2 read). With one node the suspension after the first timeout keeps
 * requests to one deadline (redis-failover.test.ts); in a cluster a
 * request can meet a dead master on each call before the slots move, so the
 * bound is three deadlines.
 */
const FAIL_FAST_MS = 3 * REDIS_FAIL_FAST_DEFAULTS.commandTimeoutMs;
const EXACT_LIMIT = 7;
let redis: RedisClient;
let server: Listening;
let values: TwoLevelCache<{ n: number }>;
let httpCache: ResponseCacheMiddleware;
const serverMs: number[] = [];

beforeAll(async () => {
  await cluster.start();
  redis = createRedisClient({ clusterNodes: cluster.addresses, password: cluster.password });
  await waitForRedis(redis, 10_000);
  values = new TwoLevelCache<{ n: number }>({ redis, namespace: 'cfail:v:', ttlMs: 60_000, l1MaxTtlMs: 20 });
  httpCache = responseCache({ redis, namespace: 'cfail:http:', ttlMs: 60_000, l1MaxTtlMs: 20 });
  const app = new Koa();
  app.use(async (_ctx, next) => {
    const started = performance.now();
    await next();
    serverMs.push(performance.now() - started);
  });
  // /exact is limited to EXACT_LIMIT per minute per client; everything else effectively unlimited.
  app.use(rateLimit({
    redis,
    registry: new Registry(),
    trustedProxies: 1,
    keyPrefix: uniquePrefix('cfail'),
    limit: 1_000_000,
    routes: [{ name: 'exact', path: '/exact', limit: EXACT_LIMIT, window: '1m' }],
  }));
  app.use(httpCache);
  app.use(async (ctx) => {
    ctx.body = ctx.path === '/value' ? await values.wrap('item', () => ({ n: Date.now() })) : { page: ctx.path };
  });
  server = await listen(app);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await httpCache?.close();
  await values?.close();
  redis?.disconnect();
  await cluster.stop();
});

async function traffic(durationMs: number, loops = 6): Promise<number[]> {
  const statuses: number[] = [];
  const end = Date.now() + durationMs;
  await Promise.all(Array.from({ length: loops }, async (_, i) => {
    let n = 0;
    while (Date.now() < end) {
      const path = ['/value', `/page/${n % 7}`, '/plain'][n++ % 3];
      statuses.push((await hit(`${server.url}${path}`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status);
    }
  }));
  return statuses;
}

async function role(node: PrivateRedis): Promise<string> {
  return (await node.cli('role')).split('\n')[0].trim();
}

test('a killed master: its replica takes over, no 5xx, no request past the fail-fast bound, the limit exact again', async () => {
  // A replica that has not finished its first sync cannot take over (its data would be arbitrarily old): wait for every link.
  const linked = Date.now() + 20_000;
  for (const n of cluster.nodes) {
    while ((await role(n)) === 'slave' && !(await n.cli('info', 'replication')).includes('master_link_status:up') && Date.now() < linked) await sleep(100);
  }
  expect((await traffic(500)).filter((s) => s !== 200)).toEqual([]);

  const roles = await Promise.all(cluster.nodes.map(role));
  const victim = cluster.nodes[roles.indexOf('master')];
  const victimId = (await victim.cli('cluster', 'myid')).trim();
  const replica = cluster.nodes.find((_, i) => roles[i] === 'slave' && cluster.nodes[i] !== victim);
  const replicaOfVictim = [];
  for (const n of cluster.nodes) {
    if (n !== victim && (await n.cli('cluster', 'nodes')).split('\n').some((l) => l.includes('myself') && l.includes(victimId))) replicaOfVictim.push(n);
  }
  expect(replicaOfVictim).toHaveLength(1);
  expect(replica).toBeDefined();

  serverMs.length = 0;
  const stalls = new HostStalls();
  const during = traffic(8000);
  await sleep(300);
  await victim.kill();
  const statuses = await during;
  expect(statuses.length).toBeGreaterThan(50);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
  stalls.expectSlowestWithin(`cluster failover, ${statuses.length} requests`, serverMs, FAIL_FAST_MS);
  // The replica was promoted (cluster-node-timeout 2 s) and the cluster serves every slot again.
  const promotedBy = Date.now() + 10_000;
  while ((await role(replicaOfVictim[0])) !== 'master' && Date.now() < promotedBy) await sleep(200);
  if ((await role(replicaOfVictim[0])) !== 'master') {
    process.stderr.write(readFileSync(join(replicaOfVictim[0].dir, 'redis.log'), 'utf8').split('\n').filter((l) => !/Connecting to MASTER|sync started|Error condition/.test(l)).slice(0, 40).join('\n'));
  }
  expect(await role(replicaOfVictim[0])).toBe('master');
  for (const n of cluster.nodes.filter((x) => x !== victim)) expect(await n.cli('cluster', 'info')).toContain('cluster_state:ok');

  // Healthy again: one client gets exactly the limit, then 429s.
  await sleep(1500);
  const exact: number[] = [];
  for (let i = 0; i < EXACT_LIMIT + 3; i++) {
    exact.push((await hit(`${server.url}/exact`, { headers: { 'x-forwarded-for': '203.0.113.77' } })).status);
  }
  expect(exact).toEqual([...Array(EXACT_LIMIT).fill(200), 429, 429, 429]);
}, 90_000);
