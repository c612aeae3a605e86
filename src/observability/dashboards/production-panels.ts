import { MetricNames, Slo } from '../../conventions';
import {
  errorRatio, HttpLabels, latencyQuantile, SERVER_ERROR_MATCHER, SERVICE_LABEL, selector, sumRate,
} from '../promql';
import { DashboardSpec, NAMESPACE_MATCHER, namespaceVariable, RATE_WINDOW } from './builder';

/** The Production dashboard's variables and panels. */
export function productionDashboard(namespace: string | undefined): DashboardSpec {
  const scope_ = [NAMESPACE_MATCHER, `${SERVICE_LABEL}=~"$service"`];
  const requests = selector(MetricNames.HTTP_REQUESTS_TOTAL, ...scope_);
  const errors = selector(MetricNames.HTTP_REQUESTS_TOTAL, ...scope_, SERVER_ERROR_MATCHER);
  const bySvc = [SERVICE_LABEL];
  return {
    description: 'Traffic, latency and errors of the RAULI-VISION services, against their SLOs.',
    variables: [
      namespaceVariable(MetricNames.HTTP_REQUESTS_TOTAL, namespace),
      {
        name: 'service',
        label: 'Service',
        query: `label_values(${MetricNames.HTTP_REQUESTS_TOTAL}{${NAMESPACE_MATCHER}}, ${SERVICE_LABEL})`,
        multiAll: true,
      },
    ],
    panels: [
      {
        type: 'timeseries',
        title: 'Request Rate',
        description: 'Requests per second by method and status.',
        targets: [{ expr: sumRate([HttpLabels.METHOD, HttpLabels.STATUS], requests, RATE_WINDOW), legendFormat: `{{${HttpLabels.METHOD}}} {{${HttpLabels.STATUS}}}` }],
        unit: 'reqps',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Response Time (p95)',
        description: `95th percentile response time per service; the dashed line is the SLO (p95 < ${Slo.LATENCY_P95_SECONDS * 1000} ms).`,
        targets: [{ expr: latencyQuantile(scope_, RATE_WINDOW), legendFormat: `{{${SERVICE_LABEL}}} p95` }],
        unit: 's',
        width: 12,
        thresholds: [{ color: 'green' }, { color: 'red', value: Slo.LATENCY_P95_SECONDS }],
      },
      {
        type: 'stat',
        title: 'Error Rate',
        description: `Share of requests answered with a 5xx, per service (HighErrorRate fires above ${Slo.HIGH_ERROR_RATE * 100} %).`,
        targets: [{ expr: errorRatio(scope_, RATE_WINDOW), legendFormat: `{{${SERVICE_LABEL}}}` }],
        unit: 'percentunit',
        decimals: 2,
        width: 8,
        thresholds: [{ color: 'green' }, { color: 'orange', value: 1 - Slo.AVAILABILITY }, { color: 'red', value: Slo.HIGH_ERROR_RATE }],
      },
      {
        type: 'stat',
        title: 'Availability (30d)',
        description: `Share of requests not answered with a 5xx over 30 days; the SLO is ${Slo.AVAILABILITY * 100} %.`,
        targets: [{
          expr: `1 - (\nsum by (${SERVICE_LABEL}) (increase(${errors}[30d]))\n/\nsum by (${SERVICE_LABEL}) (increase(${requests}[30d]))\n)`,
          legendFormat: `{{${SERVICE_LABEL}}}`,
        }],
        unit: 'percentunit',
        decimals: 3,
        width: 8,
        thresholds: [{ color: 'red' }, { color: 'green', value: Slo.AVAILABILITY }],
      },
      {
        type: 'timeseries',
        title: 'Requests in Flight',
        description: 'Requests being served right now, per service.',
        targets: [{ expr: `sum by (${SERVICE_LABEL}) (${selector(MetricNames.HTTP_REQUESTS_IN_FLIGHT, ...scope_)})`, legendFormat: `{{${SERVICE_LABEL}}}` }],
        unit: 'short',
        width: 8,
      },
      {
        type: 'timeseries',
        title: 'Rate Limiting',
        description: 'Requests refused by the rate limiter, and decisions taken by the in-process fallback because Redis failed.',
        targets: [
          { expr: sumRate(bySvc, selector(MetricNames.RATE_LIMIT_REJECTED_TOTAL, ...scope_), RATE_WINDOW), legendFormat: `{{${SERVICE_LABEL}}} rejected` },
          { expr: sumRate(bySvc, selector(MetricNames.RATE_LIMIT_FALLBACK_TOTAL, ...scope_), RATE_WINDOW), legendFormat: `{{${SERVICE_LABEL}}} fallback` },
        ],
        unit: 'reqps',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Cache Results',
        description: 'Share of cache lookups answered by the in-process level (l1_hit), by Redis (l2_hit), or missed, per cache.',
        targets: [{
          expr: `${sumRate(['cache', 'result'], selector(MetricNames.CACHE_REQUESTS_TOTAL, ...scope_), RATE_WINDOW)}\n/ ignoring (result) group_left\n${sumRate(['cache'], selector(MetricNames.CACHE_REQUESTS_TOTAL, ...scope_), RATE_WINDOW)}`,
          legendFormat: '{{cache}} {{result}}',
        }],
        unit: 'percentunit',
        width: 12,
      },
    ],
  };
}
