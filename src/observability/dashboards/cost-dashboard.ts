import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { PropValidationError } from '../../core/validate';
import { ExporterMetrics } from '../exporter-metrics';
import { selector } from '../promql';
import { DashboardBuilder, identity, NAMESPACE_MATCHER, namespaceVariable, RATE_WINDOW, Target } from './builder';
import { GrafanaDashboard, PlatformDashboardProps } from './grafana-dashboard';

/** Props of {@link CostDashboard}. */
export interface CostDashboardProps extends PlatformDashboardProps {
  /**
   * Price of one requested CPU core for one hour.
   * @default 0.04048 (AWS Fargate on-demand, us-east-1, Linux/x86, per vCPU-hour)
   */
  readonly cpuCoreHourPrice?: number;
  /**
   * Price of one requested GiB of memory for one hour.
   * @default 0.004445 (AWS Fargate on-demand, us-east-1, per GB-hour)
   */
  readonly memoryGibHourPrice?: number;
  /**
   * A gauge with the cluster's cost per hour, summed over its series, e.g.
   * OpenCost's `node_total_hourly_cost`. When set, "Monthly Cloud Costs" also
   * shows the whole cluster's bill next to this namespace's estimate.
   * @default - none: costs are estimated from resource requests only
   */
  readonly hourlyCostMetric?: string;
  /**
   * Grafana unit of the prices.
   * @default 'currencyUSD'
   */
  readonly currencyUnit?: string;
}

/** Average hours in a month (8760 / 12). */
const HOURS_PER_MONTH = 730;
const GIB = 2 ** 30;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * The seed's "RAULI-VISION Cost Analysis" dashboard, on metrics a cluster
 * really has. The seed's `aws_cost_total` is not exported by anything; what
 * the cluster pays for is what pods *request* (the scheduler reserves it on
 * nodes), so costs are estimated as requested cores and GiB (kube-state-metrics,
 * running pods only) times settable unit prices, and utilization compares
 * cAdvisor usage with those requests: the gap is what right-sizing would save.
 * A real billing gauge (OpenCost) can be added with `hourlyCostMetric`.
 */
export class CostDashboard extends GrafanaDashboard {
  constructor(scope: Construct, id: string, props: CostDashboardProps = {}) {
    const { uid, title, namespace } = identity(Chart.of(scope).namespace, props, 'rauli-vision-cost', 'RAULI-VISION Cost Analysis');
    const cpuPrice = positive('cpuCoreHourPrice', props.cpuCoreHourPrice ?? 0.04048);
    const memPrice = positive('memoryGibHourPrice', props.memoryGibHourPrice ?? 0.004445);
    if (props.hourlyCostMetric !== undefined && !METRIC_NAME.test(props.hourlyCostMetric)) {
      throw new PropValidationError('hourlyCostMetric', props.hourlyCostMetric, "a Prometheus metric name such as 'node_total_hourly_cost'");
    }
    const currency = props.currencyUnit ?? 'currencyUSD';

    const ns = NAMESPACE_MATCHER;
    // Requests of Pending and Running pods: finished Jobs keep their series but no reservation.
    const requested = (resource: string) =>
      `(${selector(ExporterMetrics.KUBE_CONTAINER_REQUESTS, ns, `resource="${resource}"`)} * on (namespace, pod) group_left () (${selector(ExporterMetrics.KUBE_POD_PHASE, ns, 'phase=~"Pending|Running"')} == 1))`;
    const limits = (resource: string) => selector(ExporterMetrics.KUBE_CONTAINER_LIMITS, ns, `resource="${resource}"`);
    const containers = [ns, 'container!=""', 'container!="POD"'];
    const cpuUsage = `rate(${selector(ExporterMetrics.CONTAINER_CPU_SECONDS_TOTAL, ...containers)}[${RATE_WINDOW}])`;
    const memUsage = selector(ExporterMetrics.CONTAINER_MEMORY_WORKING_SET_BYTES, ...containers);
    const monthly = (by: string) => {
      const agg = by ? `sum by (${by})` : 'sum';
      return `(\n${agg} (${requested('cpu')}) * ${cpuPrice}\n+\n${agg} (${requested('memory')}) / ${GIB} * ${memPrice}\n) * ${HOURS_PER_MONTH}`;
    };
    const totals: Target[] = [{ expr: monthly(''), legendFormat: 'Requested by this namespace (estimate)' }];
    if (props.hourlyCostMetric) {
      totals.push({ expr: `sum(${props.hourlyCostMetric}) * ${HOURS_PER_MONTH}`, legendFormat: `Whole cluster (${props.hourlyCostMetric})` });
    }
    const priceNote = `at ${cpuPrice} per core-hour and ${memPrice} per GiB-hour, ${HOURS_PER_MONTH} hours a month`;

    const dashboard = new DashboardBuilder(uid, title, `What the RAULI-VISION workloads reserve and use, priced ${priceNote}.`, [
      namespaceVariable(ExporterMetrics.KUBE_CONTAINER_REQUESTS, namespace),
    ])
      .panel({
        type: 'stat',
        title: 'Monthly Cloud Costs',
        description: `Monthly cost of the CPU and memory requested by running pods, ${priceNote}.${props.hourlyCostMetric ? ` The cluster total comes from ${props.hourlyCostMetric}.` : ''}`,
        targets: totals,
        unit: currency,
        decimals: 0,
        width: 8,
      })
      .panel({
        type: 'piechart',
        title: 'Cost per Service',
        description: `Monthly cost of each container's requests, ${priceNote}. Containers are named after their service.`,
        targets: [{ expr: monthly('container'), legendFormat: '{{container}}' }],
        unit: currency,
        decimals: 0,
        width: 8,
      })
      .panel({
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
      })
      .panel({
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
      })
      .panel({
        type: 'timeseries',
        title: 'Requested vs Used CPU',
        description: 'Cores requested (reserved on nodes, paid for) against cores used, per container.',
        targets: [
          { expr: `sum by (container) (${requested('cpu')})`, legendFormat: '{{container}} requested' },
          { expr: `sum by (container) (${cpuUsage})`, legendFormat: '{{container}} used' },
        ],
        unit: 'short',
        width: 12,
      })
      .panel({
        type: 'timeseries',
        title: 'Requested vs Used Memory',
        description: 'Memory requested against working set, per container.',
        targets: [
          { expr: `sum by (container) (${requested('memory')})`, legendFormat: '{{container}} requested' },
          { expr: `sum by (container) (${memUsage})`, legendFormat: '{{container}} used' },
        ],
        unit: 'bytes',
        width: 12,
      })
      .build();

    super(scope, id, { ...props, dashboard });
  }
}

function positive(prop: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new PropValidationError(prop, value, 'a positive price');
  }
  return value;
}
