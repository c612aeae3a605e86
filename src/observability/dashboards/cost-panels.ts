import { ExporterMetrics } from '../exporter-metrics';
import { HOURS_PER_MONTH, monthlyRequestCost, requestedResource, selector } from '../promql';
import { DashboardSpec, NAMESPACE_MATCHER, namespaceVariable, RATE_WINDOW, Target } from './builder';

/** Validated inputs of the Cost Analysis dashboard. */
export interface CostDashboardContext {
  readonly namespace: string | undefined;
  readonly cpuPrice: number;
  readonly memPrice: number;
  readonly hourlyCostMetric?: string;
  readonly currency: string;
}

const GIB = 2 ** 30;

/** The Cost Analysis dashboard's variables and panels. */
export function costDashboard(c: CostDashboardContext): DashboardSpec {
  const { namespace, cpuPrice, memPrice, hourlyCostMetric, currency } = c;

  const ns = NAMESPACE_MATCHER;
  const requested = (resource: string) => requestedResource([ns], resource);
  const limits = (resource: string) => selector(ExporterMetrics.KUBE_CONTAINER_LIMITS, ns, `resource="${resource}"`);
  const containers = [ns, 'container!=""', 'container!="POD"'];
  const cpuUsage = `rate(${selector(ExporterMetrics.CONTAINER_CPU_SECONDS_TOTAL, ...containers)}[${RATE_WINDOW}])`;
  const memUsage = selector(ExporterMetrics.CONTAINER_MEMORY_WORKING_SET_BYTES, ...containers);
  const monthly = (by: string) => monthlyRequestCost([ns], cpuPrice, memPrice, by);
  const totals: Target[] = [{ expr: monthly(''), legendFormat: 'Requested by this namespace (estimate)' }];
  if (hourlyCostMetric) {
    totals.push({ expr: `sum(${hourlyCostMetric}) * ${HOURS_PER_MONTH}`, legendFormat: `Whole cluster (${hourlyCostMetric})` });
  }
  const priceNote = `at ${cpuPrice} per core-hour and ${memPrice} per GiB-hour, ${HOURS_PER_MONTH} hours a month`;
  return {
    description: `What the RAULI-VISION workloads reserve and use, priced ${priceNote}.`,
    variables: [
      namespaceVariable(ExporterMetrics.KUBE_CONTAINER_REQUESTS, namespace),
    ],
    panels: [
      {
        type: 'stat',
        title: 'Monthly Cloud Costs',
        description: `Monthly cost of the CPU and memory requested by running pods, ${priceNote}.${hourlyCostMetric ? ` The cluster total comes from ${hourlyCostMetric}.` : ''}`,
        targets: totals,
        unit: currency,
        decimals: 0,
        width: 8,
      },
      {
        type: 'piechart',
        title: 'Cost per Service',
        description: `Monthly cost of each container's requests, ${priceNote}. Containers are named after their service.`,
        targets: [{ expr: monthly('container'), legendFormat: '{{container}}' }],
        unit: currency,
        decimals: 0,
        width: 8,
      },
      {
        type: 'stat',
        title: 'Idle Reservation (monthly)',
        description: 'Monthly cost of requested CPU and memory that the containers do not use: the saving right-sizing requests would bring.',
        targets: [{
          expr: `(\n(sum (${requested('cpu')}) - sum (${cpuUsage})) * ${cpuPrice}\n+\n(sum (${requested('memory')}) - sum (${memUsage})) / ${GIB} * ${memPrice}\n) * ${HOURS_PER_MONTH}`,
          legendFormat: 'idle',
        }],
        unit: currency,
        decimals: 0,
        width: 8,
      },
      {
        type: 'timeseries',
        title: 'Resource Utilization',
        description: 'CPU used as a share of CPU requested, and memory working set as a share of the memory limit (the OOM killer acts at 100 %), per container.',
        targets: [
          { expr: `sum by (container) (${cpuUsage})\n/\nsum by (container) (${requested('cpu')})`, legendFormat: '{{container}} CPU / request' },
          { expr: `sum by (container) (${memUsage})\n/\nsum by (container) (${limits('memory')})`, legendFormat: '{{container}} memory / limit' },
        ],
        unit: 'percentunit',
        width: 24,
        thresholds: [{ color: 'green' }, { color: 'red', value: 0.9 }],
      },
      {
        type: 'timeseries',
        title: 'Requested vs Used CPU',
        description: 'Cores requested (reserved on nodes, paid for) against cores used, per container.',
        targets: [
          { expr: `sum by (container) (${requested('cpu')})`, legendFormat: '{{container}} requested' },
          { expr: `sum by (container) (${cpuUsage})`, legendFormat: '{{container}} used' },
        ],
        unit: 'short',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Requested vs Used Memory',
        description: 'Memory requested against working set, per container.',
        targets: [
          { expr: `sum by (container) (${requested('memory')})`, legendFormat: '{{container}} requested' },
          { expr: `sum by (container) (${memUsage})`, legendFormat: '{{container}} used' },
        ],
        unit: 'bytes',
        width: 12,
      },
    ],
  };
}
