/* A replica in its own process: a small Koa server with this package's rate
 * limiter and a TwoLevelCache on a shared Redis. Tests start several of them
 * with spawnWorker() to check what must hold across replicas. */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Koa from 'koa';
import { Registry } from 'prom-client';
import { TwoLevelCache } from '../../src/cache';
import { rateLimit, TrustedProxies } from '../../src/rate-limit';
import { createRedisClient, waitForRedis } from '../../src/redis';

export interface WorkerConfig {
  readonly redisUrl?: string;
  readonly clusterNodes?: string[];
  readonly password?: string;
  readonly limit: number;
  readonly window: number | string;
  readonly keyPrefix: string;
  readonly trustedProxies?: TrustedProxies;
}

export interface Worker {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

const PACKAGE_DIR = join(__dirname, '..', '..');

/** Starts a worker process and resolves once it listens. */
export function spawnWorker(config: WorkerConfig): Promise<Worker> {
  const child: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'redis-worker.ts')], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, RAULI_WORKER: JSON.stringify(config), TS_NODE_PROJECT: join(PACKAGE_DIR, 'test', 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const { port } = JSON.parse(line) as { port: number };
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        stop: async () => {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
        },
      });
    });
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.RAULI_WORKER!) as WorkerConfig;
  const redis = createRedisClient({ url: config.redisUrl, clusterNodes: config.clusterNodes, password: config.password });
  await waitForRedis(redis);
  const cache = new TwoLevelCache<string>({ redis, namespace: `${config.keyPrefix}cache:`, ttlMs: 60_000 });
  const registry = new Registry();
  const app = new Koa();
  app.use(rateLimit({
    redis,
    registry,
    limit: config.limit,
    window: config.window,
    keyPrefix: `${config.keyPrefix}rl:`,
    trustedProxies: config.trustedProxies,
    skip: (ctx) => ctx.path.startsWith('/cache/') || ctx.path === '/metrics',
  }));
  app.use(async (ctx) => {
    const key = String(ctx.query.key ?? '');
    switch (ctx.path) {
      case '/cache/get':
        ctx.body = { value: (await cache.get(key)) ?? null };
        return;
      case '/cache/set':
        await cache.set(key, String(ctx.query.value));
        ctx.body = { ok: true };
        return;
      case '/cache/delete':
        await cache.delete(key);
        ctx.body = { ok: true };
        return;
      case '/metrics':
        ctx.body = await registry.metrics();
        return;
      default:
        ctx.body = 'ok';
    }
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    void cache.close();
    redis.disconnect();
    process.exit(0);
  });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
