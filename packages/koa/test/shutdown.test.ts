import { ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

const PORT = 7290;
const DRAIN_MS = 2000;
const GRACE_MS = 10_000;

function get(agent: Agent, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: PORT, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function startExample(env: { [k: string]: string }): Promise<{ child: ChildProcess; output: string[] }> {
  const output: string[] = [];
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'example', 'server.ts')], {
    cwd: join(__dirname, '..'),
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example did not start: ${output.join('')}`)), 30_000);
    const onData = (d: Buffer) => {
      output.push(d.toString());
      if (output.join('').includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('exit', (code) => reject(new Error(`example exited with ${code}: ${output.join('')}`)));
  });
}

describe('SIGTERM under load (example service as a child process)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  test('no request fails, readiness fails first, the process exits before the grace period', async () => {
    const started = await startExample({
      PORT: String(PORT),
      METRICS_PORT: String(PORT + 1),
      SHUTDOWN_DRAIN_DELAY: `${DRAIN_MS}ms`,
      TERMINATION_GRACE_PERIOD: `${GRACE_MS}ms`,
      RATE_LIMIT_REQUESTS: '1000000',
    });
    child = started.child;
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child!.on('exit', (code) => resolve({ code, at: Date.now() })));

    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const results: (number | string)[] = [];
    let sending = true;
    const worker = async (i: number) => {
      while (sending) {
        const path = i % 4 === 0 ? '/slow?ms=150' : `/items/${i}`;
        results.push(await get(agent, path).catch((e: Error) => `${path}: ${e.message}`));
      }
    };
    const workers = Array.from({ length: 16 }, (_, i) => worker(i));

    // Load for a while, then SIGTERM.
    await new Promise((r) => setTimeout(r, 1000));
    const sigtermAt = Date.now();
    child.kill('SIGTERM');

    // Like the endpoints controller: once /readyz fails, stop sending new traffic (after a propagation delay).
    let readyFailedAt = 0;
    while (!readyFailedAt) {
      const status = await get(agent, '/readyz').catch(() => 0);
      if (status === 503) readyFailedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    // Long requests still in flight when the drain delay ends must complete too.
    const inFlight = Array.from({ length: 5 }, () => get(agent, '/slow?ms=2500').catch((e: Error) => `slow: ${e.message}`));
    sending = false;
    await Promise.all(workers);
    const late = await Promise.all(inFlight);
    const { code, at } = await exited;
    agent.destroy();

    const failed = [...results, ...late].filter((r) => r !== 200);
    expect(failed).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
    expect(late).toEqual([200, 200, 200, 200, 200]);
    expect(readyFailedAt - sigtermAt).toBeLessThan(1000);
    expect(code).toBe(0);
    expect(at - sigtermAt).toBeGreaterThanOrEqual(DRAIN_MS);
    expect(at - sigtermAt).toBeLessThan(GRACE_MS);
    const log = started.output.join('');
    expect(log).toContain('shutdown started');
    expect(log).toContain('shutdown complete');
  });
});
