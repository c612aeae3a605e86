import { createServer, Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Context, Middleware } from 'koa';
import { collectDefaultMetrics, Gauge, Metric, Registry } from 'prom-client';
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

/** One `{method, route, status}` series: plain numbers, so a request costs a few additions. */
class Series {
  count = 0;
  sum = 0;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: Float64Array;

  constructor(readonly labels: { method: string; route: string; status: string }, bucketCount: number) {
    this.buckets = new Float64Array(bucketCount + 1);
  }
}

type MetricValue = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * A metric rendered by the registry from `values()` at scrape time. prom-client's
 * labelled children hash and validate their labels on every call (about 1 µs
 * per request for a counter plus a histogram); these series are looked up once
 * per label set and only summed per request.
 */
function pullMetric(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[], reset: () => void): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset,
  };
  // The registry only calls get()/reset() and reads name/type; prom-client has no public type for a custom metric.
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * `http_requests_total` and `http_request_duration_seconds` labelled
 * `{method, route, status}`, where `route` is the matched @koa/router template
 * (`/orders/:id`) and every unmatched request shares `MetricNames.UNMATCHED_ROUTE`.
 * The hot path is three Map lookups and a few additions; the exposition text is
 * built when Prometheus scrapes.
 */
export function createHttpMetrics(options: HttpMetricsOptions = {}): HttpMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels) registry.setDefaultLabels({ ...options.defaultLabels });
  if (options.collectDefaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const bounds = [...(options.buckets ?? MetricNames.HTTP_DURATION_BUCKETS)];
  bounds.forEach((b, i) => {
    if (!Number.isFinite(b) || b <= 0 || (i > 0 && b <= bounds[i - 1])) {
      throw new Error(`buckets: ${JSON.stringify(options.buckets)} must be positive finite numbers in increasing order`);
    }
  });
  // method -> route -> status -> series: lookups by strings the parser and router
  // already hold and by the status number, so a request builds no key string.
  const series = new Map<string, Map<string, Map<number, Series>>>();
  const all = () => [...series.values()].flatMap((byRoute) => [...byRoute.values()].flatMap((byStatus) => [...byStatus.values()]));
  const resetAll = () => series.clear();

  pullMetric(registry, MetricNames.HTTP_REQUESTS_TOTAL, 'HTTP requests handled, by method, matched route template and status.', 'counter',
    () => all().map((s) => ({ labels: s.labels, value: s.count })), resetAll);
  const durationName = MetricNames.HTTP_REQUEST_DURATION_SECONDS;
  pullMetric(registry, durationName, 'HTTP request duration in seconds, by method, matched route template and status.', 'histogram', () => {
    const values: MetricValue[] = [];
    for (const s of all()) {
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += s.buckets[i];
        values.push({ labels: { le: i < bounds.length ? bounds[i] : '+Inf', ...s.labels }, value: cumulative, metricName: `${durationName}_bucket` });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${durationName}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${durationName}_count` });
    }
    return values;
  }, resetAll);

  let inFlightNow = 0;
  new Gauge({
    name: MetricNames.HTTP_REQUESTS_IN_FLIGHT,
    help: 'HTTP requests being handled.',
    registers: [registry],
    collect() {
      this.set(inFlightNow);
    },
  });

  const seriesFor = (method: string, route: string, status: number): Series => {
    let byRoute = series.get(method);
    if (!byRoute) {
      byRoute = new Map();
      series.set(method, byRoute);
    }
    let byStatus = byRoute.get(route);
    if (!byStatus) {
      byStatus = new Map();
      byRoute.set(route, byStatus);
    }
    let s = byStatus.get(status);
    if (!s) {
      s = new Series({ method, route, status: String(status) }, bounds.length);
      byStatus.set(status, s);
    }
    return s;
  };

  const record = (ctx: Context, start: number, status: number): void => {
    inFlightNow--;
    const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
    const route = typeof matched === 'string' ? matched : matched ? matched.toString() : MetricNames.UNMATCHED_ROUTE;
    const s = seriesFor(KNOWN_METHODS.has(ctx.method) ? ctx.method : 'OTHER', route, status);
    const seconds = (performance.now() - start) / 1000;
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]) b++;
    s.buckets[b]++;
    s.sum += seconds;
    s.count++;
  };

  // Not async: `next()` always returns a promise (koa-compose turns a throw into a rejection),
  // and one `.then` costs less than an async function's own promise and its await.
  const middleware: Middleware = (ctx, next) => {
    const start = performance.now();
    inFlightNow++;
    return next().then(() => record(ctx, start, ctx.status), (err: unknown) => {
      const s = (err as { status?: number } | undefined)?.status;
      record(ctx, start, typeof s === 'number' && s >= 400 && s < 600 ? s : 500);
      throw err;
    });
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
