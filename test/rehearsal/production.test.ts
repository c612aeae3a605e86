/**
 * A rehearsal of the production configuration: the layers must agree, not
 * just pass their own tests.
 *
 * - The environment is the synthesized production ConfigMap plus the Go
 *   backend Deployment's own variables, plus the Secret's keys with fake
 *   values. Only addresses are rewritten (Kubernetes DNS names and ports do
 *   not exist here); every other setting reaches the service as synthesized.
 * - The Koa example service stands in for the Go backend (there is no Go
 *   backend in this repository).
 * - In front of it a real nginx forwards as ingress-nginx does: it appends the
 *   socket address to X-Forwarded-For. It connects from 127.0.0.1, so the chart
 *   declares the edge's proxies as 127.0.0.1/32 (the pod network of a cluster)
 *   and a CDN at 127.0.1.0/24. It also sets the response headers of the
 *   synthesized HTTPRoute's API rule as Envoy's ResponseHeaderModifier does,
 *   replacing any copy from the service.
 * - Behind it a Redis Cluster of six redis-server processes started from the
 *   synthesized redis.conf and StatefulSet arguments, formed by the
 *   synthesized bootstrap Job's script (test/support/redis-cluster.ts), and
 *   the local PostgreSQL.
 *
 * The chart overrides exactly what would have broken before: a compound
 * duration (`1m30s`, `1h30m`), the login limit, and the edge's trust. The
 * window is `1h30m` so that GCRA's refill (one request per window/limit = 54 s)
 * cannot add a request while a client's burst is measured.
 * Ports: nginx 18080, service 18081, metrics 18082, Redis 18100-18105 (bus 18110-18115).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { RauliVisionChart, RedisServer, SecurityHeaders } from '../../src';
import { dropDatabase, psql, removeTempDirs, tempDir, uniqueName } from '../data/support';
import { LocalRedisCluster, redisManifests } from '../support/redis-cluster';

const NGINX_PORT = 18080;
const SERVICE_PORT = 18081;
const METRICS_PORT = 18082;
const REDIS_PORTS = [18100, 18101, 18102, 18103, 18104, 18105];
const busPort = (port: number) => port + 10;
const NGINX = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const KOA = path.join(__dirname, '..', '..', 'packages', 'koa');

const CLIENTS = 50;
const EXTRA = 5;
const LOGIN_LIMIT = 3;
const CDN = '127.0.1.1';

const IMAGES = {
  frontend: 'ghcr.io/rauli-vision/frontend:1.0.0',
  backendGo: 'ghcr.io/rauli-vision/backend:1.0.0',
  backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0',
};
// Valkey is the default server; Debian bookworm packages only Redis 7, which the platform also ships.
const redisServer = spawnSync('sh', ['-c', 'command -v valkey-server']).status === 0 ? RedisServer.valkey8() : RedisServer.redis7();
const docs = Testing.synth(new RauliVisionChart(Testing.app(), 'production', {
  environment: 'production',
  images: IMAGES,
  redis: { server: redisServer },
  config: { httpTimeout: '1m30s', rateLimitWindow: '1h30m', loginRateLimitRequests: LOGIN_LIMIT },
  edge: { proxyCidrs: ['127.0.0.1/32'], cdn: { cidrs: ['127.0.1.0/24'] } },
}));
const configMap = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === RauliVisionChart.CONFIG_MAP_NAME).data as { [k: string]: string };
const backend = docs.find(d => d.kind === 'Deployment' && d.metadata.name === 'backend-go').spec.template.spec.containers[0];
const LIMIT = Number(configMap.RATE_LIMIT_REQUESTS);
/** What the synthesized Gateway sets on the responses of the rule routing to backend-go. */
const edgeHeaders: Array<{ name: string; value: string }> = docs.filter(d => d.kind === 'HTTPRoute').flatMap(d => d.spec.rules)
  .find((r: any) => r.backendRefs?.some((b: any) => b.name === 'backend-go'))
  .filters.find((f: any) => f.type === 'ResponseHeaderModifier').responseHeaderModifier.set;

const PASSWORD = crypto.randomBytes(16).toString('hex');
const database = uniqueName('rv_rehearsal');
const processes: ChildProcess[] = [];
let root: string;
let redis: LocalRedisCluster;
let serviceLog = '';

function start(command: string, args: string[], options: { cwd?: string; env?: { [k: string]: string }; output?: boolean } = {}): ChildProcess {
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', options.output ? 'pipe' : 'ignore', options.output ? 'pipe' : 'ignore'],
  });
  processes.push(proc);
  return proc;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${what.startsWith('the service') ? `:\n${serviceLog.slice(-3000)}` : ''}`);
}

/** A value of a container's env list. */
function envOf(container: any, name: string): string | undefined {
  return container.env?.find((e: any) => e.name === name)?.value;
}

async function startRedisCluster(): Promise<void> {
  redis = new LocalRedisCluster(redisManifests(docs), { ports: REDIS_PORTS, busPort, root, password: PASSWORD });
  await redis.start();
  const formed = redis.bootstrap({ BOOTSTRAP_TIMEOUT_SECONDS: '60' });
  if (formed.status !== 0) throw new Error(`bootstrap failed: ${formed.stderr}`);
  await until('cluster_state:ok', async () => (await Promise.all(REDIS_PORTS.map(p => redis.clusterInfo(p)))).every(i => i.cluster_state === 'ok'));
}

function startNginx(): void {
  const dir = path.join(root, 'nginx');
  fs.mkdirSync(dir);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${SERVICE_PORT}; keepalive 64; }
  server {
    listen 127.0.0.1:${NGINX_PORT};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # What ingress-nginx does with forwarded headers: append the peer to X-Forwarded-For.
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Real-IP $remote_addr;
      # What the ResponseHeaderModifier's \`set\` does: the edge's value replaces the service's.
${edgeHeaders.map(h => `      proxy_hide_header ${h.name};\n      add_header ${h.name} "${h.value}" always;`).join('\n')}
    }
  }
}
`);
  start(NGINX, ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', conf]);
}

/** The pod's environment: the ConfigMap, the Deployment's own variables, the Secret's keys (fake values). */
function podEnvironment(): { [k: string]: string } {
  const own = Object.fromEntries((backend.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  const secretKeys: string[] = (backend.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
  const fakeSecret: { [k: string]: string } = {
    DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
    JWT_SECRET: crypto.randomBytes(48).toString('base64'),
    REDIS_PASSWORD: PASSWORD,
  };
  expect(secretKeys.sort()).toEqual(Object.keys(fakeSecret).sort());
  return {
    ...configMap,
    ...own,
    ...fakeSecret,
    // Addresses only: the cluster's DNS names and ports do not exist on this machine.
    REDIS_CLUSTER_NODES: redis.localNodes(configMap.REDIS_CLUSTER_NODES),
    PORT: String(SERVICE_PORT),
    METRICS_PORT: String(METRICS_PORT),
    // The image sets it (the scaffold's Dockerfile); the example defaults to development without it.
    NODE_ENV: 'production',
    SERVICE_NAME: 'backend-go',
  };
}

function startService(env: { [k: string]: string }): void {
  const proc = start(path.join(KOA, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', 'example/server.ts'], { cwd: KOA, env, output: true });
  proc.stdout!.on('data', (b: Buffer) => { serviceLog += b.toString(); });
  proc.stderr!.on('data', (b: Buffer) => { serviceLog += b.toString(); });
}

interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }
interface RequestOptions { path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string; localAddress: string; port?: number }

/** A request through nginx, or straight to `options.port`. */
function request(agent: http.Agent, options: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: options.port ?? NGINX_PORT,
      agent,
      path: options.path ?? '/',
      method: options.method ?? 'GET',
      localAddress: options.localAddress,
      headers: { ...options.headers, ...options.body ? { 'content-type': 'application/json' } : {} },
    }, res => {
      let body = '';
      res.on('data', c => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** `count` requests from one source address, `parallel` at a time over keep-alive connections. */
async function burst(
  localAddress: string, count: number, make: (i: number) => RequestOptions = () => ({ localAddress }), parallel = 4,
): Promise<Reply[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel, localAddress } as http.AgentOptions);
  const replies: Reply[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      const i = next++;
      replies[i] = await request(agent, { ...make(i), localAddress });
    }
  }));
  agent.destroy();
  return replies;
}

const statuses = (replies: Reply[]) => replies.reduce<{ [s: number]: number }>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
const all: Reply[] = [];

beforeAll(async () => {
  root = tempDir('rehearsal');
  psql('postgres', `CREATE DATABASE "${database}"`);
  startNginx();
  await startRedisCluster();
  startService(podEnvironment());
  await until('the service behind nginx to be ready', async () => (await request(new http.Agent(), { path: '/readyz', localAddress: '127.0.0.2' })).status === 200, 45_000);
}, 90_000);

afterAll(async () => {
  for (const proc of processes.reverse()) {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise(r => proc.once('exit', r));
      proc.kill('SIGTERM');
      // The service drains for SHUTDOWN_DRAIN_DELAY (10 s) before it exits; its shutdown is tested in the Koa package.
      await Promise.race([exited, new Promise(r => setTimeout(r, 1000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    }
    proc.stdout?.destroy();
    proc.stderr?.destroy();
  }
  await redis?.stop();
  dropDatabase(database);
  removeTempDirs();
});

test('the service starts with every synthesized setting, the compound durations included', async () => {
  expect(configMap.HTTP_TIMEOUT).toBe('1m30s');
  expect(configMap.RATE_LIMIT_WINDOW).toBe('1h30m');
  expect(envOf(backend, 'TRUSTED_PROXY_CIDRS')).toBe('127.0.0.1/32,127.0.1.0/24');
  expect(serviceLog).not.toMatch(/Invalid configuration/);
  // PostgreSQL and the Redis Cluster answer the readiness check, through nginx.
  const ready = await request(new http.Agent(), { path: '/readyz', localAddress: '127.0.0.3' });
  expect(ready.status).toBe(200);
  const item = await request(new http.Agent(), { path: '/items/7', localAddress: '127.0.0.3' });
  expect(item.status).toBe(200);
  expect(JSON.parse(item.body).id).toBe(7);
});

test('the edge sets the security headers and the service it routes to leaves them to it', async () => {
  expect(envOf(backend, 'SECURITY_HEADERS')).toBe('edge');
  expect(edgeHeaders.map(h => h.name).sort()).toEqual(Object.keys(SecurityHeaders.HEADERS).sort());
  const viaEdge = await request(new http.Agent(), { path: '/items/7', localAddress: '127.0.0.4' });
  expect(viaEdge.status).toBe(200);
  for (const { name, value } of edgeHeaders) expect([name, viaEdge.headers[name.toLowerCase()]]).toEqual([name, value]);
  const direct = await request(new http.Agent(), { path: '/items/7', localAddress: '127.0.0.4', port: SERVICE_PORT });
  expect(direct.status).toBe(200);
  for (const { name } of edgeHeaders) expect([name, direct.headers[name.toLowerCase()]]).toEqual([name, undefined]);
  // What the service still owns.
  expect(direct.headers['ratelimit-limit']).toBe(String(LIMIT));
});

/** Decisions the limiter took in memory because a Redis call exceeded its 100 ms budget (fail open), from the service's metrics. */
async function fallbacks(): Promise<number> {
  const metrics = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: METRICS_PORT, path: '/metrics' }, res => {
      let body = '';
      res.on('data', c => { body += c; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
  return [...metrics.matchAll(/^rate_limit_fallback_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/**
 * Each client gets exactly its limit. The one allowance: a decision taken in
 * memory when Redis answered too late (fail open, counted by
 * rate_limit_fallback_total) spends no token in Redis, so on a loaded host a
 * client may get up to that many more. Sharing a bucket (no trusted proxy) or
 * a forged identity shows as far fewer or far more.
 */
async function expectLimitPerClient(work: () => Promise<Reply[][]>, limit: number, extra: number): Promise<void> {
  const before = await fallbacks();
  const results = await work();
  const fellBack = (await fallbacks()) - before;
  const sent = results.reduce((n, r) => n + r.length, 0);
  results.forEach(r => all.push(...r));
  // Most decisions were Redis's (a host too loaded for 100 ms round trips is not a rehearsal).
  expect({ fellBack, sent, share: fellBack / sent <= 0.2 }).toEqual({ fellBack, sent, share: true });
  const wrong = results.map(statuses)
    .map((s, client): { [key: string]: number } => ({ client, ...s }))
    .filter(s => Object.keys(s).some(k => !['client', '200', '429'].includes(k))
      || !(s[200] >= limit && s[200] <= limit + fellBack) || (fellBack === 0 && s[429] !== extra));
  expect({ fellBack, wrong }).toEqual({ fellBack, wrong: [] });
}

test(`each of ${CLIENTS} clients is admitted exactly its limit, and forging X-Forwarded-For gains nothing`, async () => {
  const clients = Array.from({ length: CLIENTS }, (_, i) => `127.0.0.${10 + i}`);
  // Every other client rotates a forged X-Forwarded-For (a fresh address per request, and the CDN's).
  await expectLimitPerClient(() => Promise.all(clients.map((address, c) => burst(address, LIMIT + EXTRA, i => ({
    localAddress: address,
    headers: c % 2 === 1 ? { 'x-forwarded-for': `203.0.113.${i % 250}, ${CDN}` } : {},
  })))), LIMIT, EXTRA);
});

test('behind a declared CDN the address the CDN appended is the client; a client bypassing the CDN keeps its own', async () => {
  await expectLimitPerClient(() => Promise.all([
    // Two real clients through the CDN: one bucket each, not one for the CDN.
    ...['198.51.100.7', '198.51.100.8'].map(client =>
      burst(CDN, LIMIT + EXTRA, () => ({ localAddress: CDN, headers: { 'x-forwarded-for': `10.9.9.9, ${client}` } }))),
    // Straight to the edge, claiming to be a CDN client: its own bucket, whatever it writes.
    burst('127.0.0.200', LIMIT + EXTRA, i => ({ localAddress: '127.0.0.200', headers: { 'x-forwarded-for': `198.51.100.${i % 200}, ${CDN}` } })),
  ]), LIMIT, EXTRA);
});

test('the login limit set on the platform is the one enforced', async () => {
  await expectLimitPerClient(() => Promise.all(['127.0.0.100', '127.0.0.101', '127.0.0.102'].map(address =>
    burst(address, LOGIN_LIMIT + 2, () => ({ localAddress: address, method: 'POST', path: '/login', body: JSON.stringify({ username: 'rehearsal' }) }), 1))),
  LOGIN_LIMIT, 2);
});

test('no request got a 5xx', () => {
  expect(all.length).toBeGreaterThan(CLIENTS * LIMIT);
  expect(all.filter(r => r.status >= 500)).toEqual([]);
});
