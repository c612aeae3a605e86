/* Private redis-server processes for tests and benchmarks that must stop Redis
 * or need a cluster: never touch the shared Redis on 6379. Ports come from the
 * rate-limit/cache range 7100-7199. */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** redis-cli's arguments to authenticate with `password`, if any. */
const authArgs = (password: string | undefined): string[] => (password === undefined ? [] : ['-a', password, '--no-auth-warning']);

async function cli(port: number, password: string | undefined, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...authArgs(password), ...args], { timeout: 30_000 });
  return stdout.trim();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One redis-server on `port`, restartable (same port, empty data); with `password`, AUTH is required. */
export class PrivateRedis {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'rauli-redis-'));

  constructor(readonly port: number, private readonly extraArgs: string[] = [], readonly password?: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<this> {
    // A leftover server on the port would answer the ping below and be used instead, silently.
    if (await cli(this.port, this.password, 'ping').then((r) => r === 'PONG', () => false)) {
      throw new Error(`port ${this.port} already has a redis-server: stop it (redis-cli -p ${this.port} shutdown nosave)`);
    }
    this.proc = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--logfile', join(this.dir, 'redis.log'),
      ...(this.password === undefined ? [] : ['--requirepass', this.password, '--masterauth', this.password]), ...this.extraArgs,
    ], { stdio: 'ignore' });
    await until(`redis-server on ${this.port}`, async () => (await cli(this.port, this.password, 'ping')) === 'PONG', 10_000);
    return this;
  }

  /** Kills the server at once (SIGKILL): clients see a dead peer, as in a crash. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) {
      return;
    }
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  cli(...args: string[]): Promise<string> {
    return cli(this.port, this.password, ...args);
  }
}

/** A 6-node Redis Cluster (3 masters, 1 replica each) on ports base..base+5; with `password`, as the platform runs it. */
export class PrivateRedisCluster {
  readonly nodes: PrivateRedis[];

  constructor(basePort: number, readonly password?: string) {
    this.nodes = Array.from({ length: 6 }, (_, i) => new PrivateRedis(basePort + i, [
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
    ], password));
  }

  get addresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  async start(): Promise<this> {
    await Promise.all(this.nodes.map((n) => n.start()));
    await run('redis-cli', [...authArgs(this.password), '--cluster', 'create', ...this.addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 });
    for (const n of this.nodes) {
      await until(`cluster state ok on ${n.port}`, async () => (await n.cli('cluster', 'info')).includes('cluster_state:ok'), 30_000);
    }
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
