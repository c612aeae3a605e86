/* The service under test of bench/kpi.ts: the full createService stack
 * (request log, security headers, health, metrics, concurrency limit,
 * timeout, rate limit on Redis, JSON body, router) configured from the
 * environment as in production, with one route that asks PostgreSQL on
 * every request. Its request log goes to stdout, as in production (the
 * runner points it at /dev/null); the runner waits for /readyz. */
import { createService } from '../src';

async function main(): Promise<void> {
  const service = createService({ env: process.env });
  const db = service.db;
  if (!db) throw new Error('DATABASE_URL is required');
  service.router.get('/items/:id', async (ctx) => {
    const { rows } = await db.query('SELECT $1::int AS id, now() AS loaded_at', [Number(ctx.params.id)]);
    ctx.body = rows[0];
  });
  await service.start();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
