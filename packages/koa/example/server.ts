/**
 * Example service: every part of @rauli-vision/koa wired by createService().
 *
 *   npx projen example                       # bare machine: in-memory limits and cache, no database
 *   REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npx projen example
 *
 * NODE_ENV defaults to development here (no HSTS, ephemeral JWT secret when
 * JWT_SECRET is unset); a real deployment runs with NODE_ENV=production.
 */
import { ConfigError, createService, responseCache } from '../src';

const MAX_SLOW_MS = 60_000;

function main(): void {
  let service;
  try {
    service = createService({ env: { NODE_ENV: 'development', ...process.env } });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { router, jwt, cache, db } = service;

  router.get('/', (ctx) => {
    ctx.body = { service: service.config.serviceName, requestId: ctx.state.requestId };
  });

  // A login that accepts any name: the point is the token flow and the stricter rate limit.
  router.post('/login', async (ctx) => {
    const body = ctx.request.body as { username?: unknown } | undefined;
    if (typeof body?.username !== 'string' || body.username.length === 0 || body.username.length > 64) {
      ctx.status = 400;
      ctx.body = { error: 'username (1-64 characters) required' };
      return;
    }
    ctx.body = { accessToken: await jwt.sign(body.username), refreshToken: await jwt.signRefresh(body.username) };
  });

  router.get('/me', jwt.middleware(), (ctx) => {
    ctx.body = { user: ctx.state.user };
  });

  // Value cache with single-flight loading; the loader asks PostgreSQL when there is one.
  router.get('/items/:id', async (ctx) => {
    const id = ctx.params.id;
    if (!/^\d{1,9}$/.test(id)) {
      ctx.status = 400;
      ctx.body = { error: 'id must be a number' };
      return;
    }
    ctx.body = await cache.wrap(`item:${id}`, async () => {
      if (db) {
        const { rows } = await db.query('SELECT $1::int AS id, now() AS loaded_at', [Number(id)]);
        return rows[0];
      }
      return { id: Number(id), loaded_at: new Date().toISOString() };
    });
  });

  // Response cache on one route (L1 + Redis when REDIS_URL is set); `Cache-Control` sets the TTL.
  const cached = responseCache({ redis: service.redis, registry: service.metrics.registry, namespace: `${service.config.serviceName}:http:` });
  router.get('/time', cached, (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=5');
    ctx.body = { now: new Date().toISOString() };
  });

  // Takes ?ms= milliseconds (for timeout and shutdown demos); stops early when the request times out.
  router.get('/slow', async (ctx) => {
    const ms = Math.min(Number(ctx.query.ms) || 1000, MAX_SLOW_MS);
    const signal = ctx.state.signal as AbortSignal;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    ctx.body = { sleptMs: ms };
  });

  service.start().catch((err) => {
    service.logger.fatal('startup failed', { err });
    process.exit(1);
  });
}

main();
