import { Slo } from '../../conventions';
import { ExporterMetrics } from '../exporter-metrics';
import { selector, sumRate } from '../promql';
import { DashboardSpec, NAMESPACE_MATCHER, namespaceVariable, RATE_WINDOW } from './builder';

/** The Data Tier dashboard's variables and panels. */
export function dataTierDashboard(namespace: string | undefined): DashboardSpec {
  const ns = [NAMESPACE_MATCHER];
  const scoped = (metric: string) => selector(metric, ...ns);
  return {
    description: 'PostgreSQL and Redis Cluster, from postgres_exporter and redis_exporter.',
    variables: [
      namespaceVariable(ExporterMetrics.PG_UP, namespace),
    ],
    panels: [
      {
        type: 'stat',
        title: 'PostgreSQL Up',
        description: 'Whether each postgres_exporter reaches its server.',
        targets: [{ expr: `max by (pod) (${scoped(ExporterMetrics.PG_UP)})`, legendFormat: '{{pod}}' }],
        unit: 'none',
        width: 6,
        height: 5,
        thresholds: [{ color: 'red' }, { color: 'green', value: 1 }],
        mappings: [{ value: 0, text: 'down', color: 'red' }, { value: 1, text: 'up', color: 'green' }],
      },
      {
        type: 'stat',
        title: 'Connections in Use',
        description: `Share of max_connections in use per server (DatabaseConnectionsHigh fires above ${Slo.DATABASE_CONNECTIONS_HIGH * 100} %).`,
        targets: [{
          expr: `sum by (pod) (${scoped(ExporterMetrics.PG_CONNECTIONS)})\n/\nmax by (pod) (${scoped(ExporterMetrics.PG_MAX_CONNECTIONS)})`,
          legendFormat: '{{pod}}',
        }],
        unit: 'percentunit',
        width: 6,
        height: 5,
        thresholds: [{ color: 'green' }, { color: 'red', value: Slo.DATABASE_CONNECTIONS_HIGH }],
      },
      {
        type: 'stat',
        title: 'Redis Up',
        description: 'Whether each redis_exporter reaches its node.',
        targets: [{ expr: `max by (pod) (${scoped(ExporterMetrics.REDIS_UP)})`, legendFormat: '{{pod}}' }],
        unit: 'none',
        width: 6,
        height: 5,
        thresholds: [{ color: 'red' }, { color: 'green', value: 1 }],
        mappings: [{ value: 0, text: 'down', color: 'red' }, { value: 1, text: 'up', color: 'green' }],
      },
      {
        type: 'stat',
        title: 'Redis Cluster State',
        description: 'cluster_state as the worst node reports it: fail means some hash slots are unserved.',
        targets: [{ expr: `min(${scoped(ExporterMetrics.REDIS_CLUSTER_STATE)})`, legendFormat: 'cluster' }],
        unit: 'none',
        width: 6,
        height: 5,
        thresholds: [{ color: 'red' }, { color: 'green', value: 1 }],
        mappings: [{ value: 0, text: 'fail', color: 'red' }, { value: 1, text: 'ok', color: 'green' }],
      },
      {
        type: 'timeseries',
        title: 'PostgreSQL Connections',
        description: 'Backends per server, and the server\'s max_connections.',
        targets: [
          { expr: `sum by (pod) (${scoped(ExporterMetrics.PG_CONNECTIONS)})`, legendFormat: '{{pod}}' },
          { expr: `max by (pod) (${scoped(ExporterMetrics.PG_MAX_CONNECTIONS)})`, legendFormat: '{{pod}} max_connections' },
        ],
        unit: 'short',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Replication Lag',
        description: 'How far each standby\'s replay is behind the primary.',
        targets: [{ expr: `max by (pod) (${scoped(ExporterMetrics.PG_REPLICATION_LAG_SECONDS)})`, legendFormat: '{{pod}}' }],
        unit: 's',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'PostgreSQL Commits',
        description: 'Transactions committed per second, per server.',
        targets: [{ expr: sumRate(['pod'], scoped(ExporterMetrics.PG_COMMITS_TOTAL), RATE_WINDOW), legendFormat: '{{pod}}' }],
        unit: 'ops',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Redis Memory',
        description: 'Memory used per node, and maxmemory (0 when unlimited).',
        targets: [
          { expr: `sum by (pod) (${scoped(ExporterMetrics.REDIS_MEMORY_USED_BYTES)})`, legendFormat: '{{pod}} used' },
          { expr: `max by (pod) (${scoped(ExporterMetrics.REDIS_MEMORY_MAX_BYTES)})`, legendFormat: '{{pod}} maxmemory' },
        ],
        unit: 'bytes',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Redis Operations',
        description: 'Commands processed per second, per node.',
        targets: [{ expr: sumRate(['pod'], scoped(ExporterMetrics.REDIS_COMMANDS_TOTAL), RATE_WINDOW), legendFormat: '{{pod}}' }],
        unit: 'ops',
        width: 12,
      },
      {
        type: 'timeseries',
        title: 'Redis Clients',
        description: 'Connected clients per node.',
        targets: [{ expr: `sum by (pod) (${scoped(ExporterMetrics.REDIS_CONNECTED_CLIENTS)})`, legendFormat: '{{pod}}' }],
        unit: 'short',
        width: 12,
      },
    ],
  };
}
