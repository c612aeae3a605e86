import { createServer, Server } from 'node:http';
import type { Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricNames, ServiceConventions } from '../conventions.generated';

export interface HttpMetricsOptions {
  /** Registry to register in. @default a new Registry (so two services in one process never clash) */
  readonly registry?: Registry;
  /** Also collect prom-client's default process metrics. @default true */
  readonly collectDefaultMetrics?: boolean;
  /** Histogram buckets in seconds. @default MetricNames.HTTP_DURATION_BUCKETS (dense around the 200 ms p95 target) */
  readonly buckets?: readonly number[];
  /** Labels added to every series, e.g. `{ service: 'orders' }`. @default {} */
  readonly defaultLabels?: { readonly [name: string]: string };
}

export interface HttpMetrics {
  readonly registry: Registry;
  /** Records count, duration and in-flight requests; mount before the router. */
  readonly middleware: Middleware;
}

// Methods outside this list share one label value: the HTTP parser accepts ~35 methods
// and each would otherwise open new series.
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Series {
  readonly count: ReturnType<Counter<string>['labels']>;
  readonly duration: ReturnType<Histogram<string>['labels']>;
}

/**
 * `http_requests_total` and `http_request_duration_seconds` labelled
 * `{method, route, status}`, where `route` is the matched @koa/router template
 * (`/orders/:id`) and every unmatched request shares `MetricNames.UNMATCHED_ROUTE`.
 * Labelled children are cached per label set, so the hot path does one Map lookup.
 */
export function createHttpMetrics(options: HttpMetricsOptions = {}): HttpMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels) registry.setDefaultLabels({ ...options.defaultLabels });
  if (options.collectDefaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const labelNames = ['method', 'route', 'status'] as const;
  const counter = new Counter({
    name: MetricNames.HTTP_REQUESTS_TOTAL,
    help: 'HTTP requests handled, by method, matched route template and status.',
    labelNames,
    registers: [registry],
  });
  const histogram = new Histogram({
    name: MetricNames.HTTP_REQUEST_DURATION_SECONDS,
    help: 'HTTP request duration in seconds, by method, matched route template and status.',
    labelNames,
    buckets: [...(options.buckets ?? MetricNames.HTTP_DURATION_BUCKETS)],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: MetricNames.HTTP_REQUESTS_IN_FLIGHT,
    help: 'HTTP requests being handled.',
    registers: [registry],
  });

  const series = new Map<string, Series>();
  const seriesFor = (method: string, route: string, status: number): Series => {
    const key = `${method} ${status} ${route}`;
    let s = series.get(key);
    if (!s) {
      const labels = { method, route, status: String(status) };
      s = { count: counter.labels(labels), duration: histogram.labels(labels) };
      series.set(key, s);
    }
    return s;
  };

  const middleware: Middleware = async (ctx, next) => {
    const start = process.hrtime.bigint();
    inFlight.inc();
    let status = 0;
    try {
      await next();
      status = ctx.status;
    } catch (err) {
      const s = (err as { status?: number }).status;
      status = typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
      throw err;
    } finally {
      inFlight.dec();
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === 'string' ? matched : matched ? matched.toString() : MetricNames.UNMATCHED_ROUTE;
      const method = KNOWN_METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      const s = seriesFor(method, route, status);
      s.count.inc();
      s.duration.observe(Number(process.hrtime.bigint() - start) / 1e9);
    }
  };
  return { registry, middleware };
}

export interface MetricsServerOptions {
  readonly registry: Registry;
  /** @default ServiceConventions.METRICS_PORT */
  readonly port?: number;
  /** @default '0.0.0.0' */
  readonly host?: string;
}

/**
 * A separate small HTTP server answering `ServiceConventions.METRICS_PATH`, so
 * metrics stay off the public port and are not subject to its limits.
 * Resolves once listening.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  const { registry } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== ServiceConventions.METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? ServiceConventions.METRICS_PORT, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
