import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { DashboardBuilder, identity } from './builder';
import { dataTierDashboard } from './data-tier-panels';
import { GrafanaDashboard, PlatformDashboardProps } from './grafana-dashboard';

/**
 * The data tier as its exporter sidecars see it: PostgreSQL connections
 * against max_connections, replication lag, commits, Redis memory against
 * maxmemory, commands per second, clients and cluster state.
 */
export class DataTierDashboard extends GrafanaDashboard {
  constructor(scope: Construct, id: string, props: PlatformDashboardProps = {}) {
    const { uid, title, namespace } = identity(Chart.of(scope).namespace, props, 'rauli-vision-data', 'RAULI-VISION Data Tier');
    const dashboard = DashboardBuilder.fromSpec(uid, title, dataTierDashboard(namespace)).build();

    super(scope, id, { ...props, dashboard });
  }
}
