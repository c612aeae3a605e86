import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { DashboardBuilder, identity } from './builder';
import { costDashboard } from './cost-panels';
import { GrafanaDashboard, PlatformDashboardProps } from './grafana-dashboard';
import { CostConventions } from '../../conventions';
import { PropValidationError } from '../../core/validate';

/** Props of {@link CostDashboard}. */
export interface CostDashboardProps extends PlatformDashboardProps {
  /**
   * Price of one requested CPU core for one hour.
   * @default CostConventions.CPU_CORE_HOUR_PRICE_USD (0.04048, AWS Fargate on-demand, us-east-1, Linux/x86, per vCPU-hour)
   */
  readonly cpuCoreHourPrice?: number;
  /**
   * Price of one requested GiB of memory for one hour.
   * @default CostConventions.MEMORY_GIB_HOUR_PRICE_USD (0.004445, AWS Fargate on-demand, us-east-1, per GB-hour)
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

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * The guide's "RAULI-VISION Cost Analysis" dashboard, on metrics a cluster
 * really has. The guide's `aws_cost_total` is not exported by anything; what
 * the cluster pays for is what pods *request* (the scheduler reserves it on
 * nodes), so costs are estimated as requested cores and GiB (kube-state-metrics,
 * running pods only) times settable unit prices, and utilization compares
 * cAdvisor usage with those requests: the gap is what right-sizing would save.
 * A real billing gauge (OpenCost) can be added with `hourlyCostMetric`.
 */
export class CostDashboard extends GrafanaDashboard {
  constructor(scope: Construct, id: string, props: CostDashboardProps = {}) {
    const { uid, title, namespace } = identity(Chart.of(scope).namespace, props, 'rauli-vision-cost', 'RAULI-VISION Cost Analysis');
    const cpuPrice = positive('cpuCoreHourPrice', props.cpuCoreHourPrice ?? CostConventions.CPU_CORE_HOUR_PRICE_USD);
    const memPrice = positive('memoryGibHourPrice', props.memoryGibHourPrice ?? CostConventions.MEMORY_GIB_HOUR_PRICE_USD);
    if (props.hourlyCostMetric !== undefined && !METRIC_NAME.test(props.hourlyCostMetric)) {
      throw new PropValidationError('hourlyCostMetric', props.hourlyCostMetric, "a Prometheus metric name such as 'node_total_hourly_cost'");
    }
    const currency = props.currencyUnit ?? 'currencyUSD';
    const dashboard = DashboardBuilder.fromSpec(uid, title, costDashboard({
      namespace, cpuPrice, memPrice, hourlyCostMetric: props.hourlyCostMetric, currency,
    })).build();

    super(scope, id, { ...props, dashboard });
  }
}

function positive(prop: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new PropValidationError(prop, value, 'a positive price');
  }
  return value;
}
