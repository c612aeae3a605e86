import { randomUUID } from 'node:crypto';
import { ConfigError, createService } from '../src';
import { DATABASE_URL, REDIS_URL, Running, SECRET, startService } from './helpers/service';
import { PrivateRedis } from './support/redis-servers';

describe('createService', () => {
  test('invalid configuration throws one ConfigError with every problem', () => {
    let error: unknown;
    try {
      createService({ env: { NODE_ENV: 'production', JWT_SECRET: 'short', HTTP_TIMEOUT: 'forever', REDIS_URL: 'localhost:6379' }, handleSignals: false });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.name).sort()).toEqual(['HTTP_TIMEOUT', 'JWT_SECRET', 'REDIS_URL']);
    expect((error as ConfigError).message).not.toContain('short');
  });

  describe('with PostgreSQL and Redis', () => {
    const name = `svc-${randomUUID().slice(0, 8)}`;
    let a: Running;
    let b: Running;
    beforeAll(async () => {
      const env = { DATABASE_URL, REDIS_URL, SERVICE_NAME: name, RATE_LIMIT_REQUESTS: '20', LOGIN_RATE_LIMIT_REQUESTS: '3' };
      a = await startService(7274, env);
      b = await startService(7276, env);
      for (const s of [a, b]) {
        s.service.router.post('/login', (ctx) => {
          ctx.body = 'ok';
        });
        s.service.router.get('/db', async (ctx) => {
          ctx.body = (await s.service.db!.query('SELECT current_database() AS db')).rows[0];
        });
      }
    });
    afterAll(async () => {
      await a.stop();
      await b.stop();
      // stop() closed the pool and the Redis connection.
      expect(a.service.db!.ended).toBe(true);
      expect(a.service.redis!.status).toBe('end');
    });

    test('the pool and Redis are wired', async () => {
      expect(await (await fetch(`${a.url}/db`)).json()).toEqual({ db: new URL(DATABASE_URL).pathname.slice(1) });
      expect(await a.service.redis!.ping()).toBe('PONG');
    });

    test('the rate limit is shared by the replicas through Redis; login has the stricter limit', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await fetch(`${(i % 2 ? b : a).url}/login`, { method: 'POST' })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await fetch(`${a.url}/db`);
      expect(res.headers.get('ratelimit-limit')).toBe('20');
      expect(Number(res.headers.get('ratelimit-remaining'))).toBeLessThan(20);
    });

    test('service.cache is shared through Redis (L2) and deletions reach the other replica', async () => {
      const key = `k-${randomUUID()}`;
      await a.service.cache.set(key, { v: 1 });
      expect(await b.service.cache.get(key)).toEqual({ v: 1 });
      await a.service.cache.delete(key);
      await new Promise((r) => setTimeout(r, 200));
      expect(await b.service.cache.get(key)).toBeUndefined();
    });
  });

  test('without REDIS_URL and DATABASE_URL: in-memory fallbacks, /readyz ready', async () => {
    const svc = await startService(7278, { JWT_SECRET: SECRET, RATE_LIMIT_REQUESTS: '2' });
    try {
      expect(svc.service.db).toBeUndefined();
      expect(svc.service.redis).toBeUndefined();
      expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
      expect(await svc.service.cache.wrap('x', async () => 42)).toBe(42);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${svc.url}/nothing`)).status);
      expect(statuses).toEqual([404, 404, 429]);
    } finally {
      await svc.stop();
    }
  });

  describe('a Redis that requires a password, as the platform\'s does', () => {
    const redis = new PrivateRedis(7102, [], 'service-test-password');
    beforeAll(async () => {
      await redis.start();
    }, 30_000);
    afterAll(async () => {
      await redis.stop();
    });

    test('REDIS_PASSWORD authenticates the client; without it /readyz reports Redis down', async () => {
      const withPassword = await startService(7286, { REDIS_URL: redis.url, REDIS_PASSWORD: redis.password! });
      const without = await startService(7288, { REDIS_URL: redis.url, HEALTH_CHECK_TIMEOUT: '500ms' });
      try {
        expect(await withPassword.service.redis!.ping()).toBe('PONG');
        expect((await fetch(`${withPassword.url}/readyz`)).status).toBe(200);
        // The rate limit really lives in this Redis.
        await fetch(`${withPassword.url}/nothing`);
        expect(await redis.cli('--scan', '--pattern', '*rl:*')).not.toBe('');
        expect((await fetch(`${without.url}/readyz`)).status).toBe(503);
      } finally {
        await withPassword.stop();
        // A client between reconnect attempts has no socket to wait for: stop() must not run to its deadline.
        const stopping = Date.now();
        await without.stop();
        expect(Date.now() - stopping).toBeLessThan(5000);
      }
    }, 30_000);
  });
});
