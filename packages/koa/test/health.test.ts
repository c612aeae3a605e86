import { createServer, Server, Socket, connect } from 'node:net';
import { closeDatabasePool, createDatabasePool, pingDatabase, TimeoutError } from '../src';
import { DATABASE_URL, REDIS_URL, startService } from './helpers/service';

/** A TCP proxy to the real PostgreSQL that the test can cut, to make it unreachable mid-run. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  constructor(readonly port: number, private readonly target: number) {}
  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
  }
  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}

/** Accepts connections and never answers: a hung dependency. */
async function blackHole(port: number): Promise<{ close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    close: () => new Promise<void>((r) => {
      sockets.forEach((s) => s.destroy());
      server.close(() => r());
    }),
  };
}

const pgPort = Number(new URL(DATABASE_URL).port || 5432);
const viaProxy = (port: number) => {
  const u = new URL(DATABASE_URL);
  u.port = String(port);
  return u.toString();
};

describe('database pool', () => {
  test('startup ping, queries, clean close', async () => {
    const pool = createDatabasePool({ url: DATABASE_URL, poolSize: 2 });
    await pingDatabase(pool);
    const { rows } = await pool.query('SELECT 41 + 1 AS answer');
    expect(rows[0].answer).toBe(42);
    await closeDatabasePool(pool);
    expect(pool.ended).toBe(true);
    await closeDatabasePool(pool);
  });

  test('ping to a hung server fails within its timeout', async () => {
    const hole = await blackHole(7250);
    const pool = createDatabasePool({ url: viaProxy(7250), connectTimeoutMs: 5000 });
    const started = Date.now();
    await expect(pingDatabase(pool, 300)).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    await hole.close();
    await pool.end().catch(() => undefined);
  });
});

describe('/healthz and /readyz', () => {
  test('PostgreSQL and Redis up: ready', async () => {
    const svc = await startService(7252, { DATABASE_URL, REDIS_URL });
    try {
      const res = await fetch(`${svc.url}/readyz`);
      const body = await res.json() as { status: string; checks: { [k: string]: { status: string } } };
      expect(res.status).toBe(200);
      expect(body.checks.postgres.status).toBe('ok');
      expect(body.checks.redis.status).toBe('ok');
    } finally {
      await svc.stop();
    }
  });

  test('PostgreSQL becomes unreachable: /readyz 503, /healthz 200, no crash, recovers', async () => {
    const proxy = new CuttableProxy(7254, pgPort);
    await proxy.open();
    const svc = await startService(7256, { DATABASE_URL: viaProxy(7254), HEALTH_CHECK_TIMEOUT: '500ms' });
    svc.service.router.get('/db', async (ctx) => {
      ctx.body = (await svc.service.db!.query('SELECT 1 AS one')).rows[0];
    });
    try {
      expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
      expect((await fetch(`${svc.url}/db`)).status).toBe(200);
      await proxy.cut();

      const started = Date.now();
      const ready = await fetch(`${svc.url}/readyz`);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(ready.status).toBe(503);
      const body = await ready.json() as { checks: { postgres: { status: string; error: string } } };
      expect(body.checks.postgres.status).toBe('fail');
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
      // A route using the database answers an error, the process keeps serving.
      expect((await fetch(`${svc.url}/db`)).status).toBe(500);
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);

      await proxy.open();
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await fetch(`${svc.url}/readyz`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    } finally {
      await svc.stop();
      await proxy.cut();
    }
  });

  test('PostgreSQL unreachable from the start and a hung Redis: the service starts, /readyz 503 within the check timeout', async () => {
    const hole = await blackHole(7258);
    const svc = await startService(7260, {
      DATABASE_URL: viaProxy(7259), // nothing listens there
      DATABASE_CONNECT_TIMEOUT: '500ms',
      REDIS_URL: 'redis://127.0.0.1:7258',
      HEALTH_CHECK_TIMEOUT: '400ms',
    });
    try {
      const started = Date.now();
      const res = await fetch(`${svc.url}/readyz`);
      expect(Date.now() - started).toBeLessThan(1200);
      expect(res.status).toBe(503);
      const body = await res.json() as { checks: { [k: string]: { status: string } } };
      expect(body.checks.postgres.status).toBe('fail');
      expect(body.checks.redis.status).toBe('fail');
      expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
      expect(svc.log.records().some((r) => r.level === 'warn' && String(r.msg).includes('database unreachable at startup'))).toBe(true);
    } finally {
      await svc.stop();
      await hole.close();
    }
  });

  test('requireDatabaseAtStartup refuses to start', async () => {
    await expect(startService(7262, { DATABASE_URL: viaProxy(7259), DATABASE_CONNECT_TIMEOUT: '300ms' }, { requireDatabaseAtStartup: true }))
      .rejects.toThrow();
  });

  test('readiness fails first on shutdown while the app keeps serving during the drain', async () => {
    const svc = await startService(7264);
    svc.service.router.get('/work', (ctx) => {
      ctx.body = 'done';
    });
    const stopping = svc.service.stop({ drainMs: 600 });
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(503);
    const during = await fetch(`${svc.url}/work`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
    await stopping;
    await expect(fetch(`${svc.url}/work`)).rejects.toThrow();
  });
});
