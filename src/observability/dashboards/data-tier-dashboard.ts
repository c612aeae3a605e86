import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { DashboardBuilder, identity } from './builder';
import { dataTierDashboard } from './data-tier-panels';
import { GrafanaDashboard, PlatformDashboardProps } from './grafana-dashboard';

export interface DataTierDashboardProps extends PlatformDashboardProps {
  /**
   * Namespace of the data tier, which the `namespace` variable preselects.
   * @default - the watched namespace
   */
  readonly dataNamespace?: string;
}

/**
 * The data tier as its exporter sidecars see it: PostgreSQL connections
 * against max_connections, replication lag, commits, Redis memory against
 * maxmemory, commands per second, clients and cluster state.
 */
export class DataTierDashboard extends GrafanaDashboard {
  constructor(scope: Construct, id: string, props: DataTierDashboardProps = {}) {
    // Uid and title follow the environment (the watched namespace), the variable the data tier's own namespace.
    const { uid, title, namespace } = identity(Chart.of(scope).namespace, props, 'rauli-vision-data', 'RAULI-VISION Data Tier');
    const dashboard = DashboardBuilder.fromSpec(uid, title, dataTierDashboard(props.dataNamespace ?? namespace)).build();

    const { dataNamespace, ...rest } = props;
    super(scope, id, { ...rest, dashboard });
  }
}
