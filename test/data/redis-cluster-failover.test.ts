/**
 * Issue #16: the production Redis Cluster loses a master under load from the
 * Koa service's rate limiter and caches.
 *
 * - Six nodes (3 masters, 3 replicas) run the production chart's RedisCluster
 *   StatefulSet container: its redis.conf (cluster-node-timeout and all) and
 *   its arguments; the shipped bootstrap script forms the cluster with the
 *   bootstrap Job's environment (test/support/redis-cluster.ts). Valkey runs
 *   where it is installed, else Redis 7, the chart's `redis.server` choosing
 *   the binaries; the settings are the same for both.
 * - The service is the Koa package's rate limiter, value cache and response
 *   cache on its fail-fast cluster client, in this process, configured by its
 *   loadConfig from the synthesized ConfigMap and the backend Deployment's
 *   variables (REDIS_PASSWORD as the Secret key they reference), wired as its
 *   createService wires them. (createService itself pulls in the JWT library,
 *   an ES module the root jest does not transform.)
 * - One master is killed (SIGKILL, a crash) while every request comes from a
 *   new client, so each one runs the limiter's script on a slot of its own.
 *
 * The chart overrides the edge's proxies (127.0.0.1/32) so that the service
 * trusts X-Forwarded-For from this test, as in the production rehearsal.
 * Ports: Redis 19200-19205 (bus 29200-29205), service 19210.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as http from 'http';
import { Testing } from 'cdk8s';
import { removeTempDirs, tempDir } from './support';
import { responseCache, ResponseCacheMiddleware, TwoLevelCache } from '../../packages/koa/src/cache';
import { loadConfig } from '../../packages/koa/src/config';
import { createHttpMetrics } from '../../packages/koa/src/metrics';
import { rateLimit } from '../../packages/koa/src/rate-limit';
import { closeRedisClient, createRedisClient, REDIS_FAIL_FAST_DEFAULTS, RedisClient, waitForRedis } from '../../packages/koa/src/redis';
import { RauliVisionChart, RedisServer } from '../../src';
import { LocalRedisCluster, redisManifests } from '../support/redis-cluster';
// eslint-disable-next-line import/no-extraneous-dependencies, @typescript-eslint/no-require-imports
const Koa = require('../../packages/koa/node_modules/koa');

const REDIS_PORTS = [19200, 19201, 19202, 19203, 19204, 19205];
const SERVICE_PORT = 19210;

// Valkey is the chart's default; Debian bookworm (this machine) packages only Redis 7, which the chart also ships.
const hasValkey = spawnSync('sh', ['-c', 'command -v valkey-server']).status === 0;
const server = hasValkey ? RedisServer.valkey8() : RedisServer.redis7();
const docs = Testing.synth(new RauliVisionChart(Testing.app(), 'production', {
  environment: 'production',
  images: { frontend: 'ghcr.io/rauli-vision/frontend:1.0.0', backendGo: 'ghcr.io/rauli-vision/backend:1.0.0', backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0' },
  redis: { server },
  edge: { proxyCidrs: ['127.0.0.1/32'] },
}));
const configMap = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === RauliVisionChart.CONFIG_MAP_NAME).data as { [k: string]: string };
const backend = docs.find(d => d.kind === 'Deployment' && d.metadata.name === 'backend-go').spec.template.spec.containers[0];
const manifests = redisManifests(docs);
const LOGIN_LIMIT = Number(configMap.LOGIN_RATE_LIMIT_REQUESTS);

/**
 * What one request may wait for Redis. The service's configuration sets no
 * deadline (createService passes none), so each Redis call on a request path gets REDIS_FAIL_FAST_DEFAULTS'
 * commandTimeoutMs. A request makes up to three in a row (the limiter, the
 * response cache, the value cache's L2 read), and in a cluster each can meet
 * the dead master before its slots move (the suspension after a timeout
 * covers a single Redis, see packages/koa/test/redis-cluster-failover.test.ts):
 * three deadlines.
 */
const FAIL_FAST_MS = 3 * REDIS_FAIL_FAST_DEFAULTS.commandTimeoutMs;
/**
 * Scheduling and HTTP on top, measured from the client on the shared 2-core
 * host: the slowest request of ten runs took 339 ms, 111 ms under the bound
 * (docs/disaster-recovery.md). A request held by the dead master until a
 * connection timeout (seconds) still fails.
 */
const HOST_NOISE_MS = 150;

const PASSWORD = crypto.randomBytes(16).toString('hex');
let cluster: LocalRedisCluster;
let redis: RedisClient;
let cache: TwoLevelCache<unknown>;
let httpCache: ResponseCacheMiddleware;
let httpServer: http.Server;
const metrics = createHttpMetrics({ collectDefaultMetrics: false });
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

interface Reply { status: number; ms: number }

function request(path: string, clientAddress: string, method = 'GET'): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: SERVICE_PORT, path, method, agent, headers: { 'x-forwarded-for': clientAddress } }, res => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Every running node serves all 16384 slots from live masters. */
async function healthy(ports: readonly number[]): Promise<boolean> {
  const infos = await Promise.all(ports.map(p => cluster.clusterInfo(p)));
  return infos.every(i => i.cluster_state === 'ok' && i.cluster_slots_ok === '16384');
}

async function fallbacks(): Promise<number> {
  const text = await metrics.registry.metrics();
  return [...text.matchAll(/^rate_limit_fallback_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

beforeAll(async () => {
  cluster = new LocalRedisCluster(manifests, { ports: REDIS_PORTS, busPort: p => p + 10_000, root: tempDir('redis-failover'), password: PASSWORD });
  await cluster.start();
  const formed = cluster.bootstrap();
  if (formed.status !== 0) throw new Error(`bootstrap failed: ${formed.stderr}`);

  const own = Object.fromEntries((backend.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  const secrets: { [k: string]: string } = { REDIS_PASSWORD: PASSWORD, JWT_SECRET: crypto.randomBytes(48).toString('base64') };
  const env = {
    ...configMap,
    ...own,
    ...secrets,
    REDIS_CLUSTER_NODES: cluster.localNodes(configMap.REDIS_CLUSTER_NODES),
    NODE_ENV: 'production',
    SERVICE_NAME: `backend-go-failover-${process.pid}`,
  };
  const config = loadConfig(env);
  redis = createRedisClient({ clusterNodes: config.redis.clusterNodes, password: config.redis.password, connectionName: config.serviceName });
  await waitForRedis(redis, 10_000);
  const registry = metrics.registry;
  // L1 entries live 20 ms, so nearly every cached request reads Redis (L2).
  cache = new TwoLevelCache<unknown>({ namespace: `${config.serviceName}:`, l1MaxTtlMs: 20, redis, registry });
  httpCache = responseCache({ namespace: `${config.serviceName}:http:`, l1MaxTtlMs: 20, redis, registry });
  const app = new Koa();
  app.use(rateLimit({
    limit: config.performance.rateLimitRequests,
    window: config.performance.rateLimitWindowMs,
    trustedProxies: config.security.trustedProxyCidrs,
    routes: [{ name: 'login', match: ctx => ctx.method === 'POST' && ctx.path === '/login', limit: config.performance.loginRateLimitRequests }],
    keyPrefix: `rl:${config.serviceName}:`,
    redis,
    registry,
  }));
  app.use(httpCache);
  app.use(async (ctx: any) => {
    if (ctx.path === '/value') {
      ctx.body = await cache.wrap('item', () => ({ at: Date.now() }));
    } else {
      if (ctx.path.startsWith('/page/')) ctx.set('Cache-Control', 'public, max-age=60');
      ctx.body = { path: ctx.path };
    }
  });
  httpServer = http.createServer(app.callback());
  await new Promise<void>(resolve => httpServer.listen(SERVICE_PORT, '127.0.0.1', resolve));
}, 90_000);

afterAll(async () => {
  agent.destroy();
  httpServer?.closeAllConnections();
  await new Promise(r => (httpServer ? httpServer.close(r) : r(undefined)));
  await httpCache?.close();
  await cache?.close();
  if (redis) await closeRedisClient(redis);
  await cluster?.stop();
  removeTempDirs();
});

test('the chart\'s cluster is formed by the bootstrap Job: 3 masters with one replica each, every replica in sync', async () => {
  expect(configMap.REDIS_CLUSTER_NODES.split(',')).toEqual(manifests.nodes);
  // A replica that has not finished its first sync cannot take over.
  await until('every replica to be in sync', async () => {
    const roles = await Promise.all(REDIS_PORTS.map(p => cluster.role(p)));
    return roles.filter(r => r.role === 'master').length === 3 && roles.filter(r => r.role === 'slave' && r.state === 'connected').length === 3;
  }, 30_000);
  expect(await healthy(REDIS_PORTS)).toBe(true);
  const version = (await cluster.cli(REDIS_PORTS[0], 'INFO', 'server')).match(/(?:valkey|redis)_version:\S+/)![0];
  process.stdout.write(`redis failover: ${manifests.serverBinary} (${version})\n`);
});

test('a killed master: a replica takes over, no request gets a 5xx or waits past the fail-fast bound, then the login limit is exact', async () => {
  const roles = await Promise.all(REDIS_PORTS.map(p => cluster.role(p)));
  const victim = REDIS_PORTS[roles.findIndex(r => r.role === 'master')];
  const heir = REDIS_PORTS[roles.findIndex(r => r.masterPort === victim)];
  const survivors = REDIS_PORTS.filter(p => p !== victim);

  const replies: Reply[] = [];
  let running = true;
  let sent = 0;
  const traffic = Promise.all(Array.from({ length: 6 }, async (_, loop) => {
    for (let n = 0; running; n++) {
      const path = ['/value', `/page/${n % 7}`, '/plain'][n % 3];
      // A new client each time: the limiter's key, and so its slot, changes with every request.
      const id = sent++;
      replies.push(await request(path, `10.${loop}.${Math.floor(id / 256) % 256}.${id % 256}`));
    }
  }));

  await new Promise(r => setTimeout(r, 500));
  const fallbacksBeforeKill = await fallbacks();
  const killed = performance.now();
  await cluster.kill(victim, 'SIGKILL');
  await until(`${heir} to be promoted`, async () => (await cluster.role(heir)).role === 'master', 60_000);
  const promoted = performance.now();
  await until('every slot to be served again', () => healthy(survivors), 60_000);
  const ok = performance.now();
  // Traffic goes on a little into the healed cluster (the client's slot map catches up).
  await new Promise(r => setTimeout(r, 1000));
  running = false;
  await traffic;

  const nodes = await cluster.cli(survivors[0], 'CLUSTER', 'NODES');
  const line = (port: number) => nodes.split('\n').find(l => l.split(' ')[1].startsWith(`127.0.0.1:${port}@`))!;
  expect(line(victim)).toMatch(/ master,fail /);
  expect(line(heir)).toMatch(/ (myself,)?master - /);

  const slowest = Math.max(...replies.map(r => r.ms));
  const inMemory = (await fallbacks()) - fallbacksBeforeKill;
  process.stdout.write(`redis failover: ${replies.length} requests, slowest ${replies.map(r => r.ms).sort((a, b) => b - a).slice(0, 5).map(x => x.toFixed(0)).join(' ')} ms; `
    + `kill -> promoted ${((promoted - killed) / 1000).toFixed(2)} s -> all slots ok ${((ok - killed) / 1000).toFixed(2)} s; `
    + `limiter decisions in memory: ${fallbacksBeforeKill} before the kill, ${inMemory} after\n`);
  expect(replies.length).toBeGreaterThan(200);
  expect(replies.filter(r => r.status >= 500)).toEqual([]);
  expect(replies.filter(r => r.status !== 200)).toEqual([]);
  expect(slowest).toBeLessThan(FAIL_FAST_MS + HOST_NOISE_MS);
  // Only the dead master's slots (a third) leave Redis while it fails over: a timeout
  // suspends the master that missed it, not the client (that was 60-90 % of all decisions).
  expect(inMemory).toBeLessThan(replies.length / 2);

  // The service's cluster client has moved the victim's slots to the heir: its decisions are Redis's again.
  const client = redis as Extract<RedisClient, { nodes: unknown }>;
  await until('the service to see the new master', async () => !client.nodes('master').some(n => n.options.port === victim), 30_000);
  const before = await fallbacks();
  const login: number[] = [];
  for (let i = 0; i < LOGIN_LIMIT + 3; i++) login.push((await request('/login', '203.0.113.77', 'POST')).status);
  expect({ login, fallbacks: (await fallbacks()) - before }).toEqual({ login: [...Array(LOGIN_LIMIT).fill(200), 429, 429, 429], fallbacks: 0 });

  // The crashed node restarts on its volume (nodes.conf, append-only file) and rejoins as the heir's replica.
  await cluster.startNode(REDIS_PORTS.indexOf(victim));
  await until(`${victim} to replicate from ${heir}`, async () => {
    const role = await cluster.role(victim);
    return role.role === 'slave' && role.masterPort === heir && role.state === 'connected';
  }, 60_000);
  await until('all six nodes healthy', async () => (await healthy(REDIS_PORTS)) && !(await cluster.cli(heir, 'CLUSTER', 'NODES')).includes('fail'), 60_000);
  // The Job, run again (it is, an hour after it finished), has nothing to do.
  const again = cluster.bootstrap();
  expect(again.stderr).toContain('cluster already formed');
  expect(again.status).toBe(0);
}, 180_000);
