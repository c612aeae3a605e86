import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { DashboardBuilder, identity } from './builder';
import { GrafanaDashboard, PlatformDashboardProps } from './grafana-dashboard';
import { productionDashboard } from './production-panels';

/**
 * The guide's "RAULI-VISION Production" dashboard, fixed: request rate by
 * method and status, p95 latency per service against the SLO, and the 5xx
 * ratio per service (the guide divided series by series and used the removed
 * `graph`/`singlestat` panels); plus 30-day availability against the SLO,
 * in-flight requests, rate limiting and cache results.
 */
export class ProductionDashboard extends GrafanaDashboard {
  constructor(scope: Construct, id: string, props: PlatformDashboardProps = {}) {
    const { uid, title, namespace } = identity(Chart.of(scope).namespace, props, 'rauli-vision-production', 'RAULI-VISION Production');
    const dashboard = DashboardBuilder.fromSpec(uid, title, productionDashboard(namespace)).build();

    super(scope, id, { ...props, dashboard });
  }
}
