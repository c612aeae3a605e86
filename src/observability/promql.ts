import { MetricNames } from '../conventions';
import { ExporterMetrics } from './exporter-metrics';
import { PropValidationError } from '../core/validate';

/**
 * PromQL building blocks shared by the alert rules and the dashboards, so a
 * query such as "5xx ratio per service" is written once and both places
 * agree on it. Internal: not exported from the package entry point.
 */

/** Label names the Koa metrics middleware puts on the HTTP metrics (see `MetricNames`). */
export const HttpLabels = {
  METHOD: 'method',
  ROUTE: 'route',
  STATUS: 'status',
} as const;

/**
 * Label prometheus-operator adds to every target scraped through a
 * ServiceMonitor: the name of the Kubernetes Service. Ratios are aggregated
 * per service (the guide divided per series, which compares unrelated series).
 */
export const SERVICE_LABEL = 'service';

/** Matcher for server errors. */
export const SERVER_ERROR_MATCHER = `${HttpLabels.STATUS}=~"5.."`;

/** The p95 in `Slo.LATENCY_P95_SECONDS` and the guide's HighResponseTime. */
export const LATENCY_QUANTILE = 0.95;

/** Matchers that restrict a query to the environment's namespaces, or none for cluster-wide queries. */
export function namespaceScope(namespace: string | undefined, ...more: Array<string | undefined>): string[] {
  if (!namespace) return [];
  const all = [...new Set([namespace, ...more.filter((n): n is string => !!n)])];
  // Namespaces are DNS labels: nothing in them needs escaping in a regex.
  return [all.length === 1 ? `namespace="${namespace}"` : `namespace=~"${all.join('|')}"`];
}

/** `metric{m1,m2}`; just `metric` without matchers. */
export function selector(metric: string, ...matchers: string[]): string {
  const list = matchers.filter(m => m.length > 0);
  return list.length ? `${metric}{${list.join(',')}}` : metric;
}

/** `sum by (labels) (rate(selector[window]))`. */
export function sumRate(by: string[], metricSelector: string, window: string): string {
  return `sum by (${by.join(', ')}) (rate(${metricSelector}[${window}]))`;
}

/**
 * The `le` matcher of the request-duration bucket that equals `seconds`.
 * The SLO threshold must be a bucket boundary, or the bucket ratio would
 * silently measure a different threshold. Prometheus 3 normalizes integral
 * `le` values at scrape time ("1" becomes "1.0"), so integral boundaries match
 * both spellings.
 */
export function bucketMatcher(prop: string, seconds: number): string {
  const buckets: readonly number[] = MetricNames.HTTP_DURATION_BUCKETS;
  if (!buckets.includes(seconds)) {
    throw new PropValidationError(prop, seconds, `one of the MetricNames.HTTP_DURATION_BUCKETS boundaries (${buckets.join(', ')})`);
  }
  return Number.isInteger(seconds) ? `le=~"${seconds}(\\\\.0)?"` : `le="${seconds}"`;
}

/** Metric names the HTTP histogram exposes. */
export class HttpHistogram {
  public static readonly BUCKET = `${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_bucket`;
  public static readonly COUNT = `${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_count`;
}

/**
 * Share of requests that failed with a 5xx, per service, over `window`.
 * `scope` are extra matchers (namespace) applied to both sides.
 */
export function errorRatio(scope: string[], window: string, by: string[] = [SERVICE_LABEL]): string {
  const errors = sumRate(by, selector(MetricNames.HTTP_REQUESTS_TOTAL, ...scope, SERVER_ERROR_MATCHER), window);
  const all = sumRate(by, selector(MetricNames.HTTP_REQUESTS_TOTAL, ...scope), window);
  return `${errors}\n/\n${all}`;
}

/** p95 (or `quantile`) of request durations per service over `window`. */
export function latencyQuantile(scope: string[], window: string, quantile = LATENCY_QUANTILE, by: string[] = [SERVICE_LABEL]): string {
  return `histogram_quantile(${quantile}, ${sumRate([...by, 'le'], selector(HttpHistogram.BUCKET, ...scope), window)})`;
}

/**
 * Share of requests slower than `thresholdSeconds`, per service: one minus the
 * share that landed in the threshold's bucket.
 */
export function slowRatio(scope: string[], window: string, thresholdMatcher: string, by: string[] = [SERVICE_LABEL]): string {
  const fast = sumRate(by, selector(HttpHistogram.BUCKET, ...scope, thresholdMatcher), window);
  const all = sumRate(by, selector(HttpHistogram.COUNT, ...scope), window);
  return `1 - (\n${fast}\n/\n${all}\n)`;
}

/** Average hours in a month (8760 / 12). */
export const HOURS_PER_MONTH = 730;
const GIB = 2 ** 30;

/** Requests of `resource` by Pending and Running pods: finished Jobs keep their series but no reservation. */
export function requestedResource(scope: string[], resource: string): string {
  return `(${selector(ExporterMetrics.KUBE_CONTAINER_REQUESTS, ...scope, `resource="${resource}"`)} * on (namespace, pod) group_left () (${selector(ExporterMetrics.KUBE_POD_PHASE, ...scope, 'phase=~"Pending|Running"')} == 1))`;
}

/** What the requested cores and memory cost in a month at the given unit prices, in total or `by` a label. */
export function monthlyRequestCost(scope: string[], cpuPrice: number, memPrice: number, by = ''): string {
  const agg = by ? `sum by (${by})` : 'sum';
  return `(\n${agg} (${requestedResource(scope, 'cpu')}) * ${cpuPrice}\n+\n${agg} (${requestedResource(scope, 'memory')}) / ${GIB} * ${memPrice}\n) * ${HOURS_PER_MONTH}`;
}
