import { Client } from 'pg';
import Pool from 'pg-pool';
import { RuntimeDefaults } from '../conventions.generated';
import { withTimeout } from '../util/timeout';

export type DatabasePool = Pool<Client>;

export interface DatabasePoolOptions {
  /** `postgresql://user:password@host:port/db` (the guide's `DATABASE_URL`). */
  readonly url: string;
  /** Connections in this process's pool. @default RuntimeDefaults.DATABASE_POOL_SIZE */
  readonly poolSize?: number;
  /** Opening a connection fails after this (ms); also bounds waiting for a free connection. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Idle connections close after this (ms). @default 30000 */
  readonly idleTimeoutMs?: number;
  /** Server-side `statement_timeout` (ms): a query never outlives the request that issued it. @default none */
  readonly statementTimeoutMs?: number;
  /** `application_name` shown in pg_stat_activity. @default none */
  readonly applicationName?: string;
  /** Errors of idle clients (server restart, network): logged, never crash the process. @default ignore */
  readonly onError?: (err: Error) => void;
}

/**
 * A pg-pool pool from `DATABASE_URL`. Idle-client errors are handled: without
 * a listener, a PostgreSQL restart would crash the process.
 */
export function createDatabasePool(options: DatabasePoolOptions): DatabasePool {
  const pool = new Pool<Client>({
    Client,
    connectionString: options.url,
    max: options.poolSize ?? RuntimeDefaults.DATABASE_POOL_SIZE,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    ...(options.statementTimeoutMs !== undefined ? { statement_timeout: options.statementTimeoutMs } : {}),
    ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
  } as Pool.Config<Client>);
  pool.on('error', options.onError ?? (() => undefined));
  return pool;
}

/** `SELECT 1` bounded by `timeoutMs` (startup check: fail fast instead of serving without a database). */
export async function pingDatabase(pool: Pick<DatabasePool, 'query'>, timeoutMs = 5000): Promise<void> {
  await withTimeout(pool.query('SELECT 1'), timeoutMs, 'database ping');
}

/** Waits for checked-out clients to be released, then closes every connection. */
export async function closeDatabasePool(pool: DatabasePool): Promise<void> {
  if (!pool.ended) await pool.end();
}
