import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { createJwt, Jwt } from './auth';
import { responseCache, ResponseCacheMiddleware, ResponseCacheOptions, TwoLevelCache, TwoLevelCacheOptions } from './cache';
import { loadConfig, ServiceConfig } from './config';
import { EdgeConventions, ServiceConventions } from './conventions.generated';
import { closeDatabasePool, createDatabasePool, DatabasePool, pingDatabase } from './db';
import { buildSecurityHeaders, SecurityHeadersOptions, securityHeaders } from './headers';
import { connectionCloseOnShutdown, gracefulShutdown, health, Lifecycle, postgresCheck, ReadinessCheck, redisCheck } from './health';
import { applyServerTimeouts, concurrencyLimit, jsonBody, requestTimeout } from './limits';
import { createLogger, Logger, requestLogger } from './logging';
import { createHttpMetrics, HttpMetrics, startMetricsServer } from './metrics';
import { rateLimit, RateLimitOptions } from './rate-limit';
import { closeRedisClient, createRedisClient, RedisClient, waitForRedis } from './redis';

type Env = { readonly [name: string]: string | undefined };

export interface CreateServiceOptions {
  /** Validated configuration. @default loadConfig(env) */
  readonly config?: ServiceConfig;
  /** Environment read when `config` is not given. @default process.env */
  readonly env?: Env;
  /** @default a JSON logger from config.logging */
  readonly logger?: Logger;
  /** Security header overrides (mode follows NODE_ENV, behindEdge follows SECURITY_HEADERS). @default the guide's headers */
  readonly headers?: Omit<SecurityHeadersOptions, 'mode' | 'behindEdge'>;
  /**
   * Rate-limit overrides, or false for none. Limit, window, trusted proxies and the
   * stricter login rule come from the configuration. @default per-client limit from config
   */
  readonly rateLimit?: false | Omit<RateLimitOptions, 'redis' | 'registry'>;
  /** Paths given the stricter `LOGIN_RATE_LIMIT_REQUESTS` limit (POST). @default [EdgeConventions.LOGIN_PATH, '/auth/login', '/login'] */
  readonly loginPaths?: readonly string[];
  /** Response cache for GET/HEAD routes (see responseCache), or false. @default false */
  readonly responseCache?: boolean | Omit<ResponseCacheOptions, 'redis' | 'registry'>;
  /** Options of the value cache `service.cache`. @default 60 s TTL, namespace `${serviceName}:` */
  readonly cache?: Omit<TwoLevelCacheOptions<unknown>, 'redis' | 'registry'>;
  /** Extra /readyz checks, beside PostgreSQL and Redis. @default [] */
  readonly readinessChecks?: readonly ReadinessCheck[];
  /** Refuse to start when the startup database ping fails (otherwise: log, and /readyz reports it). @default false */
  readonly requireDatabaseAtStartup?: boolean;
  /** Run the graceful shutdown on SIGTERM/SIGINT, then exit. @default true */
  readonly handleSignals?: boolean;
  /** Address to listen on. @default '0.0.0.0' */
  readonly host?: string;
}

export interface Service {
  readonly app: Koa;
  /** Add your routes here; it is mounted behind every middleware. */
  readonly router: Router;
  readonly config: ServiceConfig;
  readonly logger: Logger;
  readonly jwt: Jwt;
  /** Two-level value cache (L1 only without Redis). */
  readonly cache: TwoLevelCache<unknown>;
  readonly metrics: HttpMetrics;
  /** `shuttingDown` turns true on SIGTERM / stop(). */
  readonly lifecycle: Lifecycle;
  /** Present when DATABASE_URL is set. */
  readonly db?: DatabasePool;
  /** Present when REDIS_URL or REDIS_CLUSTER_NODES is set. */
  readonly redis?: RedisClient;
  /** The HTTP server, once started. */
  readonly server?: Server;
  /** Pings the database, listens on PORT (and METRICS_PORT). Resolves with the bound ports. */
  start(): Promise<{ port: number; metricsPort?: number }>;
  /** Graceful shutdown: readiness fails, drain, close servers, pools and clients. */
  stop(options?: { readonly drainMs?: number }): Promise<void>;
}

/** Logs a recurring error (a dead Redis reconnecting) at most once per interval. */
function throttledWarn(logger: Logger, msg: string, intervalMs = 10_000): (err: Error) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last >= intervalMs) {
      last = now;
      logger.warn(msg, { err: err.message });
    }
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * One call wiring every part from the environment: request id and JSON logs,
 * security headers, health and readiness, metrics, concurrency cap, request
 * timeout, rate limit, bounded JSON bodies, optional response cache, JWT
 * helpers, a PostgreSQL pool when DATABASE_URL is set and Redis when
 * REDIS_URL/REDIS_CLUSTER_NODES is (in-memory fallbacks otherwise), and
 * graceful shutdown on SIGTERM. Invalid configuration throws a ConfigError
 * listing every problem.
 */
export function createService(options: CreateServiceOptions = {}): Service {
  const config = options.config ?? loadConfig(options.env ?? process.env);
  const logger = options.logger ?? createLogger({ ...config.logging, base: { service: config.serviceName } });
  const lifecycle: Lifecycle = { shuttingDown: false };
  const metrics = createHttpMetrics({ collectDefaultMetrics: config.monitoring.prometheusEnabled });
  const registry = metrics.registry;

  let secret = config.security.jwtSecret;
  if (secret === undefined) {
    // loadConfig only allows this outside production.
    secret = randomBytes(32).toString('base64url');
    logger.warn('JWT_SECRET unset: signing with an ephemeral random secret (tokens die with this process)');
  }
  const jwt = createJwt({
    secret,
    issuer: config.security.jwtIssuer,
    audience: config.security.jwtAudience,
    expiresIn: config.security.jwtExpiresInMs,
    refreshExpiresIn: config.security.jwtRefreshExpiresInMs,
  });

  const db = config.database.url === undefined ? undefined : createDatabasePool({
    url: config.database.url,
    poolSize: config.database.poolSize,
    connectTimeoutMs: config.database.connectTimeoutMs,
    idleTimeoutMs: config.database.idleTimeoutMs,
    statementTimeoutMs: config.performance.httpTimeoutMs,
    applicationName: config.serviceName,
    onError: throttledWarn(logger, 'idle PostgreSQL client error'),
  });
  const redis = config.redis.url === undefined && config.redis.clusterNodes === undefined ? undefined : createRedisClient({
    url: config.redis.url,
    clusterNodes: config.redis.clusterNodes,
    password: config.redis.password,
    connectionName: config.serviceName,
    onError: throttledWarn(logger, 'Redis connection error (limits fall back to memory, cache to L1)'),
  });
  const cache = new TwoLevelCache<unknown>({
    namespace: `${config.serviceName}:`,
    ...options.cache,
    redis,
    registry,
    onError: throttledWarn(logger, 'cache Redis error'),
  });

  const checks: ReadinessCheck[] = [
    ...(db ? [postgresCheck(db)] : []),
    ...(redis ? [redisCheck(redis)] : []),
    ...(options.readinessChecks ?? []),
  ];
  const healthPaths: string[] = [ServiceConventions.LIVENESS_PATH, ServiceConventions.READINESS_PATH];

  const app = new Koa();
  // Errors are answered by requestLogger; Koa's default handler would print them a second time.
  app.silent = true;
  const router = new Router();

  app.use(requestLogger({ logger, skipPaths: healthPaths }));
  const headerOptions = {
    ...options.headers,
    mode: config.nodeEnv === 'production' ? 'production' as const : 'development' as const,
    behindEdge: config.security.securityHeaders === 'edge',
  };
  // Behind the edge, the headers it sets would only be overwritten: no middleware unless some are left.
  if (Object.keys(buildSecurityHeaders(headerOptions)).length > 0) app.use(securityHeaders(headerOptions));
  app.use(connectionCloseOnShutdown(lifecycle));
  app.use(health({ checks, lifecycle, timeoutMs: config.monitoring.healthCheckTimeoutMs }));
  app.use(metrics.middleware);
  app.use(concurrencyLimit({ max: config.performance.maxConcurrentRequests }));
  app.use(requestTimeout({ timeout: config.performance.httpTimeoutMs }));
  if (options.rateLimit !== false) {
    const loginPaths = new Set(options.loginPaths ?? [EdgeConventions.LOGIN_PATH, '/auth/login', '/login']);
    app.use(rateLimit({
      limit: config.performance.rateLimitRequests,
      window: config.performance.rateLimitWindowMs,
      trustedProxies: config.security.trustedProxyCidrs,
      routes: [{ name: 'login', match: (ctx) => ctx.method === 'POST' && loginPaths.has(ctx.path), limit: config.performance.loginRateLimitRequests }],
      keyPrefix: `rl:${config.serviceName}:`,
      ...options.rateLimit,
      redis,
      registry,
    }));
  }
  let httpCache: ResponseCacheMiddleware | undefined;
  if (options.responseCache) {
    const rc = options.responseCache === true ? {} : options.responseCache;
    httpCache = responseCache({ namespace: `${config.serviceName}:http:`, onError: throttledWarn(logger, 'response cache Redis error'), ...rc, redis, registry });
    app.use(httpCache);
  }
  app.use(jsonBody({ limitBytes: config.performance.maxBodyBytes }));
  app.use(router.routes());
  app.use(router.allowedMethods());

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (stopOptions: { readonly drainMs?: number } = {}): Promise<void> => {
    stopping ??= gracefulShutdown({
      lifecycle,
      servers: [server, metricsServer].filter((s): s is Server => s !== undefined),
      drainMs: stopOptions.drainMs ?? config.monitoring.shutdownDrainMs,
      terminationGraceMs: config.monitoring.terminationGraceMs,
      logger,
      closers: [
        () => cache.close(),
        ...(httpCache ? [httpCache.close] : []),
        ...(redis ? [() => closeRedisClient(redis)] : []),
        ...(db ? [() => closeDatabasePool(db)] : []),
      ],
    }).then(() => undefined);
    return stopping;
  };

  const service: Service = {
    app,
    router,
    config,
    logger,
    jwt,
    cache,
    metrics,
    lifecycle,
    db,
    redis,
    get server() {
      return server;
    },
    async start() {
      if (db) {
        try {
          await pingDatabase(db, config.database.connectTimeoutMs);
        } catch (err) {
          if (options.requireDatabaseAtStartup) throw err;
          logger.warn('database unreachable at startup: /readyz reports it until it answers', { err: (err as Error).message });
        }
      }
      if (redis) {
        // Not fatal: without Redis the limits and the cache degrade to memory.
        await waitForRedis(redis, config.monitoring.healthCheckTimeoutMs).catch((err: Error) =>
          logger.warn('Redis not ready at startup: in-memory fallbacks until it is', { err: err.message }));
      }
      server = createServer(app.callback());
      applyServerTimeouts(server, { timeout: config.performance.httpTimeoutMs });
      const host = options.host ?? '0.0.0.0';
      const port = await listen(server, config.port, host);
      let metricsPort: number | undefined;
      if (config.monitoring.prometheusEnabled) {
        metricsServer = await startMetricsServer({ registry, port: config.monitoring.metricsPort, host });
        metricsPort = (metricsServer.address() as AddressInfo).port;
      }
      if (options.handleSignals ?? true) {
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info('signal received', { signal });
          void stop().then(() => process.exit(0));
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      }
      logger.info('listening', { port, metricsPort, database: db !== undefined, redis: redis !== undefined });
      return { port, metricsPort };
    },
    stop,
  };
  return service;
}
