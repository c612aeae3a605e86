import { BackupConventions, CostConventions, MetricNames, Slo } from '../conventions';
import type { LogPipelineTargets } from './alert-rules';
import { ExporterMetrics } from './exporter-metrics';
import { errorRatio, LATENCY_QUANTILE, latencyQuantile, monthlyRequestCost, SERVICE_LABEL, selector, slowRatio } from './promql';
import { BUDGET_CATEGORY, CATEGORY_LABEL } from './support-levels';

/**
 * The platform's alerts as data: each function returns the rules of one
 * group from the settings of {@link AlertContext}; AlertRules validates its
 * props, builds the context and renders the groups. Adding an alert is an
 * entry here, not an edit of a constructor.
 */

/** One alerting rule before rendering. */
export interface AlertDef {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  /** Support level 1-4 (see SUPPORT_LEVELS): decides the severity and the response time. */
  readonly level: 1 | 2 | 3 | 4;
  /** Labels besides severity, e.g. to tell apart rules sharing an alert name. */
  readonly labels?: { [key: string]: string };
  readonly summary: string;
  readonly description: string;
}

/** A recording rule. */
export interface RecordingDef {
  readonly record: string;
  readonly expr: string;
}

/** A backup window after validation: an escaped RE2 pattern and its maximum age. */
export interface BackupWindowDef {
  readonly pattern: string;
  readonly maxAgeSeconds: number;
}

/** Validated settings the alert groups are computed from. */
export interface AlertContext {
  /** Namespace matchers added to every selector: the environment's namespaces, data tier included (none: every namespace). */
  readonly ns: string[];
  /** Matchers of the HTTP and SLO rules: the watched namespace plus the watched Services (`AlertRulesProps.services`). */
  readonly httpScope: string[];
  readonly backupWindows: BackupWindowDef[];
  readonly replicationLagSeconds: number;
  readonly certificateExpiryDays: number;
  /** The `le` matcher of the latency SLO bucket. */
  readonly latencyBucket: string;
  /** Share of free space on an Elasticsearch data volume below which it is reported. */
  readonly logVolumeFreeRatio: number;
  readonly logPipeline?: LogPipelineTargets;
  /** Monthly budget in USD and the unit prices the cost estimate uses. */
  readonly budget: { readonly monthlyUsd: number; readonly cpuPrice: number; readonly memPrice: number };
}

/** A pair of windows of a multi-window, multi-burn-rate alert (Google SRE workbook, ch. 5). */
interface BurnRateWindow {
  readonly long: string;
  readonly short: string;
  /** Burn rate: how many times faster than "exactly spend the 30-day budget". */
  readonly factor: number;
}

/**
 * Page when 2 % of the 30-day budget burns in 1 h or 5 % in 6 h; open a
 * ticket when 10 % burns in 1 day or 3 days. The short window (1/12 of the
 * long one) makes the alert stop soon after the burn stops.
 */
const FAST_BURN: readonly BurnRateWindow[] = [
  { long: '1h', short: '5m', factor: 14.4 },
  { long: '6h', short: '30m', factor: 6 },
];
const SLOW_BURN: readonly BurnRateWindow[] = [
  { long: '1d', short: '2h', factor: 3 },
  { long: '3d', short: '6h', factor: 1 },
];
const BURN_WINDOWS = [...new Set([...FAST_BURN, ...SLOW_BURN].flatMap(w => [w.short, w.long]))];

/** Ratio budgets are printed rounded, so `1 - 0.999` reads 0.001 and not 0.0010000000000000009. */
function budget(ratio: number): number {
  return Number(ratio.toPrecision(6));
}
const errorBudget = budget(1 - Slo.AVAILABILITY);
// p95 < 200 ms means at most 5 % of requests may be slower than 200 ms.
const latencyBudget = budget(1 - LATENCY_QUANTILE);
const errorRecord = (w: string) => `${SERVICE_LABEL}:${MetricNames.HTTP_REQUESTS_TOTAL}:error_ratio_rate${w}`;
const slowRecord = (w: string) => `${SERVICE_LABEL}:${MetricNames.HTTP_REQUEST_DURATION_SECONDS}:slow_ratio_rate${w}`;
const burnExpr = (record: (w: string) => string, windows: readonly BurnRateWindow[], ratioBudget: number) => windows
  .map(w => `(\n  ${record(w.long)} > (${w.factor} * ${ratioBudget})\nand\n  ${record(w.short)} > (${w.factor} * ${ratioBudget})\n)`)
  .join('\nor\n');
const pct = (ratio: number) => `${budget(ratio * 100)}%`;

/** Error and slow-request ratios per service over every window the burn-rate alerts read. */
export function sloRecordingRules(c: AlertContext): RecordingDef[] {
  return BURN_WINDOWS.flatMap(w => [
    { record: errorRecord(w), expr: errorRatio(c.httpScope, w) },
    { record: slowRecord(w), expr: slowRatio(c.httpScope, w, c.latencyBucket) },
  ]);
}

/** The guide's HTTP alerts, fixed, and the SLO burn-rate alerts. */
export function httpAlerts(c: AlertContext): AlertDef[] {
  const scope = c.httpScope;
  return [
    {
      alert: 'HighErrorRate',
      expr: `${errorRatio(scope, '5m')}\n> ${Slo.HIGH_ERROR_RATE}`,
      for: '5m',
      level: 4,
      summary: 'High error rate on {{ $labels.service }}',
      description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} failed with a 5xx over the last 5 minutes (threshold ${pct(Slo.HIGH_ERROR_RATE)}).`,
    },
    {
      alert: 'HighResponseTime',
      expr: `${latencyQuantile(scope, '5m')}\n> ${Slo.HIGH_RESPONSE_TIME_SECONDS}`,
      for: '5m',
      level: 2,
      summary: 'High response time on {{ $labels.service }}',
      description: `The 95th percentile response time of {{ $labels.service }} is {{ $value | humanizeDuration }} (threshold ${Slo.HIGH_RESPONSE_TIME_SECONDS}s).`,
    },
    {
      alert: 'ErrorBudgetBurnFast',
      expr: burnExpr(errorRecord, FAST_BURN, errorBudget),
      level: 3,
      summary: '{{ $labels.service }} is burning its availability error budget fast',
      description: `{{ $labels.service }} is failing {{ $value | humanizePercentage }} of its requests: at this rate the 30-day budget of the ${pct(Slo.AVAILABILITY)} availability SLO is gone within days (burn rate >= ${FAST_BURN.map(w => w.factor).join(' / ')} over ${FAST_BURN.map(w => w.long).join(' / ')}).`,
    },
    {
      alert: 'ErrorBudgetBurnSlow',
      expr: burnExpr(errorRecord, SLOW_BURN, errorBudget),
      level: 1,
      summary: '{{ $labels.service }} is steadily burning its availability error budget',
      description: `{{ $labels.service }} is failing {{ $value | humanizePercentage }} of its requests: the 30-day budget of the ${pct(Slo.AVAILABILITY)} availability SLO runs out before the month ends (burn rate >= ${SLOW_BURN.map(w => w.factor).join(' / ')} over ${SLOW_BURN.map(w => w.long).join(' / ')}).`,
    },
    {
      alert: 'LatencyBudgetBurnFast',
      expr: burnExpr(slowRecord, FAST_BURN, latencyBudget),
      level: 3,
      summary: '{{ $labels.service }} is burning its latency budget fast',
      description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} take longer than ${Slo.LATENCY_P95_SECONDS}s; the p95 < ${Slo.LATENCY_P95_SECONDS}s SLO allows ${pct(latencyBudget)} (burn rate >= ${FAST_BURN.map(w => w.factor).join(' / ')} over ${FAST_BURN.map(w => w.long).join(' / ')}).`,
    },
    {
      alert: 'LatencyBudgetBurnSlow',
      expr: burnExpr(slowRecord, SLOW_BURN, latencyBudget),
      level: 1,
      summary: '{{ $labels.service }} is steadily burning its latency budget',
      description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} take longer than ${Slo.LATENCY_P95_SECONDS}s; the p95 < ${Slo.LATENCY_P95_SECONDS}s SLO allows ${pct(latencyBudget)} (burn rate >= ${SLOW_BURN.map(w => w.factor).join(' / ')} over ${SLOW_BURN.map(w => w.long).join(' / ')}).`,
    },
  ];
}

/** PostgreSQL and Redis, from their exporter sidecars. */
// Twice the RPO that archive_timeout keeps while there are writes.
const WAL_ARCHIVE_MAX_AGE_SECONDS = 2 * BackupConventions.WAL_RPO_MINUTES * 60;
// The nightly base backup (BackupConventions.DATABASE_SCHEDULE) plus an hour to finish.
const BASE_BACKUP_MAX_AGE_SECONDS = 25 * 3600;

export function dataAlerts(c: AlertContext): AlertDef[] {
  const ns = c.ns;
  return [
    {
      alert: 'DatabaseConnectionsHigh',
      expr: `sum by (instance) (${selector(ExporterMetrics.PG_CONNECTIONS, ...ns)})\n/\nmax by (instance) (${selector(ExporterMetrics.PG_MAX_CONNECTIONS, ...ns)})\n> ${Slo.DATABASE_CONNECTIONS_HIGH}`,
      for: '5m',
      level: 2,
      summary: 'PostgreSQL {{ $labels.instance }} is running out of connections',
      description: `{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.instance }} (threshold ${pct(Slo.DATABASE_CONNECTIONS_HIGH)}).`,
    },
    {
      alert: 'PostgresDown',
      expr: `${selector(ExporterMetrics.PG_UP, ...ns)} == 0`,
      for: '1m',
      level: 4,
      summary: 'PostgreSQL {{ $labels.instance }} does not answer',
      description: 'postgres_exporter in {{ $labels.pod }} cannot reach its PostgreSQL server.',
    },
    {
      alert: 'PostgresReplicationLag',
      expr: `${selector(ExporterMetrics.PG_REPLICATION_LAG_SECONDS, ...ns)} > ${c.replicationLagSeconds}`,
      for: '5m',
      level: 2,
      summary: 'PostgreSQL standby {{ $labels.instance }} is lagging',
      description: `The standby in {{ $labels.pod }} is {{ $value | humanizeDuration }} behind the primary (threshold ${c.replicationLagSeconds}s); a failover now would lose that much data.`,
    },
    // CloudNativePG's instances export their own metrics (the operator's default queries), scraped through its PodMonitor.
    {
      alert: 'DatabaseConnectionsHigh',
      expr: `sum by (namespace, pod) (${selector(ExporterMetrics.CNPG_BACKENDS, ...ns)})\n/\nmax by (namespace, pod) (${selector(ExporterMetrics.CNPG_SETTING, ...ns, 'name="max_connections"')})\n> ${Slo.DATABASE_CONNECTIONS_HIGH}`,
      for: '5m',
      level: 2,
      labels: { engine: 'cloudnative-pg' },
      summary: 'PostgreSQL {{ $labels.pod }} is running out of connections',
      description: `{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.pod }} (threshold ${pct(Slo.DATABASE_CONNECTIONS_HIGH)}): check the poolers' server pool sizes.`,
    },
    {
      alert: 'PostgresReplicationLag',
      expr: `${selector(ExporterMetrics.CNPG_REPLICATION_LAG, ...ns)} > ${c.replicationLagSeconds}`,
      for: '5m',
      level: 2,
      labels: { engine: 'cloudnative-pg' },
      summary: 'PostgreSQL standby {{ $labels.pod }} is lagging',
      description: `The standby {{ $labels.pod }} is {{ $value | humanizeDuration }} behind the primary (threshold ${c.replicationLagSeconds}s); a failover now would lose that much data.`,
    },
    {
      alert: 'PostgresWalArchivingFailing',
      expr: [
        `${selector(ExporterMetrics.CNPG_LAST_FAILED_TIME, ...ns)}`,
        '> on (namespace, pod)',
        `${selector(ExporterMetrics.CNPG_LAST_ARCHIVED_TIME, ...ns)}`,
      ].join('\n'),
      for: '5m',
      level: 3,
      summary: 'WAL archiving of {{ $labels.pod }} is failing',
      description: `The newest WAL archive attempt of {{ $labels.pod }} failed and none has succeeded since: the ${BackupConventions.WAL_RPO_MINUTES}-minute RPO no longer holds, and the WAL volume fills up.`,
    },
    {
      alert: 'PostgresWalArchiveTooOld',
      // Only the primary archives; a standby's counter stands still.
      expr: [
        `${selector(ExporterMetrics.CNPG_SECONDS_SINCE_LAST_ARCHIVAL, ...ns)} > ${WAL_ARCHIVE_MAX_AGE_SECONDS}`,
        'and on (namespace, pod)',
        `${selector(ExporterMetrics.CNPG_IN_RECOVERY, ...ns)} == 0`,
      ].join('\n'),
      for: '5m',
      level: 2,
      summary: 'No WAL archived from {{ $labels.pod }} recently',
      description: `The primary {{ $labels.pod }} last archived a WAL segment {{ $value | humanizeDuration }} ago (threshold ${humanizeSeconds(WAL_ARCHIVE_MAX_AGE_SECONDS)}, twice the ${BackupConventions.WAL_RPO_MINUTES}-minute RPO that archive_timeout keeps while there are writes).`,
    },
    {
      alert: 'PostgresBaseBackupTooOld',
      expr: `time() - max by (namespace, pod) (${selector(ExporterMetrics.BARMAN_LAST_AVAILABLE_BACKUP, ...ns)}) > ${BASE_BACKUP_MAX_AGE_SECONDS}`,
      for: '10m',
      level: 3,
      summary: 'The newest base backup seen by {{ $labels.pod }} is too old',
      description: `The newest base backup in the object store is {{ $value | humanizeDuration }} old (allowed ${humanizeSeconds(BASE_BACKUP_MAX_AGE_SECONDS)}: the nightly ScheduledBackup plus an hour): recovery replays ever more WAL and retention may remove the last one.`,
    },
    {
      alert: 'RedisDown',
      expr: `${selector(ExporterMetrics.REDIS_UP, ...ns)} == 0`,
      for: '1m',
      level: 3,
      summary: 'Redis {{ $labels.instance }} does not answer',
      description: 'redis_exporter in {{ $labels.pod }} cannot reach its Redis node.',
    },
    {
      alert: 'RedisClusterStateNotOk',
      expr: `${selector(ExporterMetrics.REDIS_CLUSTER_STATE, ...ns)} != 1`,
      for: '2m',
      level: 4,
      summary: 'Redis Cluster reports cluster_state:fail',
      description: 'Redis node {{ $labels.pod }} reports the cluster state as not ok: some hash slots are unserved and clients get CLUSTERDOWN errors.',
    },
  ];
}

/** Kubernetes workloads, backups and certificates, from kube-state-metrics and cert-manager. */
export function platformAlerts(c: AlertContext): AlertDef[] {
  const ns = c.ns;
  const { backupWindows, certificateExpiryDays } = c;
  const allBackups = backupWindows.map(w => w.pattern).join('|');
  return [
    {
      alert: 'PodCrashLooping',
      expr: `max_over_time(${selector(ExporterMetrics.KUBE_CONTAINER_WAITING_REASON, ...ns, 'reason="CrashLoopBackOff"')}[5m]) >= 1`,
      for: '15m',
      level: 2,
      summary: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash looping',
      description: 'Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes.',
    },
    {
      alert: 'HpaAtMaxReplicas',
      expr: [
        `${selector(ExporterMetrics.KUBE_HPA_CURRENT_REPLICAS, ...ns)}`,
        '>= on (namespace, horizontalpodautoscaler)',
        `${selector(ExporterMetrics.KUBE_HPA_MAX_REPLICAS, ...ns)}`,
        // An HPA with min == max is a deliberate fixed size, not saturation.
        'unless on (namespace, horizontalpodautoscaler)',
        `(${selector(ExporterMetrics.KUBE_HPA_MAX_REPLICAS, ...ns)} == on (namespace, horizontalpodautoscaler) ${selector(ExporterMetrics.KUBE_HPA_MIN_REPLICAS, ...ns)})`,
      ].join('\n'),
      for: '15m',
      level: 2,
      summary: 'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is at its maximum',
      description: 'HPA {{ $labels.horizontalpodautoscaler }} has run at maxReplicas ({{ $value }}) for 15 minutes: it cannot absorb more load.',
    },
    {
      alert: 'BackupJobFailed',
      expr: [
        `${selector(ExporterMetrics.KUBE_JOB_FAILED, ...ns)} > 0`,
        'and on (namespace, job_name)',
        selector(ExporterMetrics.KUBE_JOB_OWNER, ...ns, 'owner_kind="CronJob"', `owner_name=~"${allBackups}"`),
      ].join('\n'),
      level: 2,
      summary: 'Backup job {{ $labels.namespace }}/{{ $labels.job_name }} failed',
      description: 'Backup Job {{ $labels.job_name }} has failed pods. The alert stops when the failed Job is deleted (or expires from the CronJob history).',
    },
    // One rule per window, each leaving out the CronJobs of the windows before it.
    ...backupWindows.map((w, i): AlertDef => {
      const cronjobs = [`cronjob=~"${w.pattern}"`, ...backupWindows.slice(0, i).map(earlier => `cronjob!~"${earlier.pattern}"`)];
      const lastSuccess = selector(ExporterMetrics.KUBE_CRONJOB_LAST_SUCCESS, ...ns, ...cronjobs);
      return {
        alert: 'BackupNotRun',
        expr: [
          `(time() - ${lastSuccess}) > ${w.maxAgeSeconds}`,
          'or',
          // A CronJob that never succeeded has no last-success series at all.
          `(\n  (time() - ${selector(ExporterMetrics.KUBE_CRONJOB_CREATED, ...ns, ...cronjobs)}) > ${w.maxAgeSeconds}`,
          `  unless on (namespace, cronjob)\n  ${lastSuccess}\n)`,
        ].join('\n'),
        level: 3,
        labels: { backup_window: humanizeSeconds(w.maxAgeSeconds) },
        summary: 'Backup {{ $labels.namespace }}/{{ $labels.cronjob }} has not succeeded in its window',
        description: `CronJob {{ $labels.cronjob }} has not completed successfully for {{ $value | humanizeDuration }} (allowed ${humanizeSeconds(w.maxAgeSeconds)}): the recovery point objective is at risk.`,
      };
    }),
    {
      alert: 'CertificateExpiringSoon',
      // Not namespace-scoped: cert-manager's own ServiceMonitor decides whether the
      // Certificate's namespace ends up in `namespace` or `exported_namespace`.
      expr: `(${ExporterMetrics.CERT_EXPIRATION_TIMESTAMP} - time()) < ${certificateExpiryDays * 86400}`,
      for: '1h',
      level: 1,
      summary: 'Certificate {{ $labels.name }} expires soon',
      description: `Certificate {{ $labels.name }} expires in {{ $value | humanizeDuration }} (threshold ${certificateExpiryDays} days): cert-manager has not managed to renew it.`,
    },
  ];
}

/**
 * The monthly cost of what the environment's pods request, against the
 * budget's warning and critical shares (the AWS package's budget watches the
 * bill; this sees a reservation that will blow it before the bill does).
 * Routed to the cost owners by their `category` label.
 */
export function budgetAlerts(c: AlertContext): AlertDef[] {
  const cost = monthlyRequestCost(c.ns, c.budget.cpuPrice, c.budget.memPrice);
  const labels = { [CATEGORY_LABEL]: BUDGET_CATEGORY };
  const share = (percent: number) => Number((c.budget.monthlyUsd * percent / 100).toFixed(2));
  const alert = (name: string, percent: number, level: 1 | 3): AlertDef => ({
    alert: name,
    expr: `${cost}\n> ${share(percent)}`,
    for: '1h',
    level,
    labels,
    summary: `Requested resources cost over ${percent} % of the monthly budget`,
    description: `The CPU and memory the pods request cost {{ $value | printf "%.0f" }} USD a month at ${c.budget.cpuPrice} per core-hour and ${c.budget.memPrice} per GiB-hour, over ${percent} % of the ${c.budget.monthlyUsd} USD budget (${share(percent)} USD).`,
  });
  return [
    alert('CostForecastOverBudgetWarning', CostConventions.WARNING_THRESHOLD_PERCENT, 1),
    alert('CostForecastOverBudgetCritical', CostConventions.CRITICAL_THRESHOLD_PERCENT, 3),
  ];
}

/**
 * The log pipeline's health from kube-state-metrics and the kubelet's volume
 * statistics, which kube-prometheus-stack scrapes anyway: no Elasticsearch
 * exporter is deployed, so nothing here reads Elasticsearch's own metrics.
 */
export function logPipelineAlerts(c: AlertContext): AlertDef[] {
  const p = c.logPipeline;
  if (!p) return [];
  const ns = `namespace="${p.namespace}"`;
  const sts = `statefulset=~"${p.elasticsearchStatefulSets}"`;
  const daemonset = `daemonset="${p.collectorDaemonSet}"`;
  const deployment = `deployment="${p.kibanaDeployment}"`;
  const pvc = `persistentvolumeclaim=~"${p.elasticsearchVolumeClaims}"`;
  return [
    {
      alert: 'LogCollectorPodsUnavailable',
      expr: `${selector(ExporterMetrics.KUBE_DAEMONSET_UNAVAILABLE, ns, daemonset)} > 0`,
      for: '15m',
      level: 2,
      summary: 'Log collector missing on {{ $value }} node(s)',
      description: `DaemonSet ${p.namespace}/${p.collectorDaemonSet} has had {{ $value }} unavailable pod(s) for 15 minutes: container logs of those nodes are not shipped (they stay on the node until the kubelet rotates them away).`,
    },
    {
      alert: 'LogCollectorNotScheduled',
      expr: `${selector(ExporterMetrics.KUBE_DAEMONSET_DESIRED, ns, daemonset)}\n- ${selector(ExporterMetrics.KUBE_DAEMONSET_SCHEDULED, ns, daemonset)}\n> 0`,
      for: '15m',
      level: 2,
      summary: 'Log collector not scheduled on {{ $value }} node(s)',
      description: `DaemonSet ${p.namespace}/${p.collectorDaemonSet} cannot place a pod on {{ $value }} node(s) (taints or resources): their logs are not collected.`,
    },
    {
      alert: 'ElasticsearchNodesNotReady',
      expr: `sum(${selector(ExporterMetrics.KUBE_STATEFULSET_REPLICAS, ns, sts)})\n- sum(${selector(ExporterMetrics.KUBE_STATEFULSET_READY, ns, sts)})\n> 0`,
      for: '10m',
      level: 2,
      summary: '{{ $value }} Elasticsearch node(s) not ready',
      description: `{{ $value }} Elasticsearch pod(s) in ${p.namespace} have not been ready for 10 minutes: replicas may be unassigned and another loss can make indices red.`,
    },
    {
      alert: 'ElasticsearchDown',
      expr: `sum(${selector(ExporterMetrics.KUBE_STATEFULSET_READY, ns, sts)}) == 0`,
      for: '5m',
      level: 3,
      summary: 'No Elasticsearch node is ready',
      description: `No Elasticsearch pod in ${p.namespace} is ready: the collector buffers and retries, and logs are lost once the nodes rotate the files away.`,
    },
    {
      alert: 'ElasticsearchVolumeFilling',
      expr: `${selector(ExporterMetrics.KUBELET_VOLUME_AVAILABLE_BYTES, ns, pvc)}\n/\n${selector(ExporterMetrics.KUBELET_VOLUME_CAPACITY_BYTES, ns, pvc)}\n< ${c.logVolumeFreeRatio}`,
      for: '15m',
      level: 2,
      summary: 'Elasticsearch volume {{ $labels.persistentvolumeclaim }} is filling up',
      description: `Only {{ $value | humanizePercentage }} of {{ $labels.persistentvolumeclaim }} is free (threshold ${pct(c.logVolumeFreeRatio)}). Elasticsearch stops allocating shards at its 85 % watermark and makes indices read-only at 95 %: shorten the retention or grow the volume.`,
    },
    {
      alert: 'KibanaUnavailable',
      expr: `${selector(ExporterMetrics.KUBE_DEPLOYMENT_AVAILABLE, ns, deployment)} == 0`,
      for: '15m',
      level: 1,
      summary: 'Kibana is unavailable',
      description: `Deployment ${p.namespace}/${p.kibanaDeployment} has no available pod: logs are still collected, but nobody can search them.`,
    },
    {
      alert: 'LogLifecycleSetupFailed',
      expr: `${selector(ExporterMetrics.KUBE_JOB_FAILED, ns, `job_name="${p.setupJob}"`)} > 0`,
      level: 2,
      summary: 'The log lifecycle setup Job failed',
      description: `Job ${p.namespace}/${p.setupJob} failed: the retention (index lifecycle), the snapshot policy or the Kibana data view may not be in place. Its logs say which call failed.`,
    },
  ];
}

/** '25h', '1h30m', '45m'. */
function humanizeSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [h ? `${h}h` : '', m ? `${m}m` : '', seconds % 60 ? `${seconds % 60}s` : ''].join('') || '0s';
}
