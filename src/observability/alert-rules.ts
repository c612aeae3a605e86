import { ApiObject, ApiObjectMetadata, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { BackupConventions, MetricNames, Slo } from '../conventions';
import { durationSeconds } from './duration';
import { ExporterMetrics } from './exporter-metrics';
import {
  bucketMatcher, errorRatio, LATENCY_QUANTILE, latencyQuantile, namespaceScope, SERVICE_LABEL, selector, slowRatio,
} from './promql';
import { ServiceMonitor } from './service-monitor';
import { PropValidationError, validateDnsLabel, validateDuration, validateInteger } from '../core/validate';

/** Props of {@link AlertRules}. */
export interface AlertRulesProps {
  /**
   * Labels added to the PrometheusRule, e.g. `release: kube-prometheus-stack`
   * so kube-prometheus-stack's `ruleSelector` loads it.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Metadata of the PrometheusRule.
   * @default - a generated name in the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
  /**
   * Namespace whose workloads the rules watch: every selector gets a
   * `namespace="..."` matcher, so one Prometheus can serve several
   * environments without cross-talk.
   * @default - the chart's namespace; every namespace when the chart has none
   */
  readonly watchNamespace?: string;
  /**
   * Names of the Services whose HTTP metrics the HTTP and SLO rules watch
   * (the `service` label prometheus-operator sets): other workloads sharing
   * the namespace or the metric names do not page.
   * @default - every Service in `watchNamespace`
   */
  readonly services?: string[];
  /**
   * Base URL of the runbooks; each alert links to `<base>#<alertname in lower case>`.
   * @default 'https://github.com/rauli-vision/rauli-vision/blob/main/docs/runbooks/alerts.md'
   */
  readonly runbookBaseUrl?: string;
  /**
   * The backup CronJobs and how long each may go without a successful run.
   * A CronJob belongs to the first window whose pattern matches its name.
   * @default - `.*backup-frequent` (the data tier's RPO dumps) within
   * `BackupConventions.RPO_HOURS`, then every other `.*backup.*` CronJob
   * within 25 h (the daily `BackupConventions.DATABASE_SCHEDULE` plus an hour to finish)
   */
  readonly backupWindows?: BackupWindow[];
  /**
   * Replication lag in seconds above which a standby is reported.
   * @default 60
   */
  readonly replicationLagSeconds?: number;
  /**
   * Days before expiry at which a certificate is reported. cert-manager renews
   * 30 days before expiry, so 14 days left means renewal has been failing for
   * two weeks.
   * @default 14
   */
  readonly certificateExpiryDays?: number;
}

/** A group of backup CronJobs and their window. */
export interface BackupWindow {
  /** RE2 pattern of CronJob names, fully anchored as PromQL does, e.g. `.*backup.*`. */
  readonly cronJobPattern: string;
  /** Longest acceptable time since the last successful run, e.g. '25h'. */
  readonly maxAge: string;
}

/** One alerting rule before rendering. */
interface AlertDef {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly severity: 'critical' | 'warning';
  /** Labels besides severity, e.g. to tell apart rules sharing an alert name. */
  readonly labels?: { [key: string]: string };
  readonly summary: string;
  readonly description: string;
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

/**
 * The platform's PrometheusRule: the seed's three alerts with their
 * expressions fixed (ratios aggregated per service), the alerts an SRE
 * expects from Kubernetes, the data tier, backups and certificates, and
 * multi-window multi-burn-rate alerts for the availability and latency SLOs.
 * Every alert carries a severity label and summary, description and
 * runbook_url annotations.
 */
export class AlertRules extends Construct {
  /** API version of the prometheus-operator CRD. */
  public static readonly API_VERSION = ServiceMonitor.API_VERSION;
  /** Kind of the prometheus-operator CRD. */
  public static readonly KIND = 'PrometheusRule';

  /** The PrometheusRule object (escape hatch). */
  public readonly apiObject: ApiObject;
  /** Names of every alert, in rule order. */
  public readonly alertNames: string[];

  constructor(scope: Construct, id: string, props: AlertRulesProps = {}) {
    super(scope, id);
    const watchNamespace = props.watchNamespace ?? Chart.of(this).namespace;
    const runbookBaseUrl = props.runbookBaseUrl ?? 'https://github.com/rauli-vision/rauli-vision/blob/main/docs/runbooks/alerts.md';
    if (!/^https?:\/\//.test(runbookBaseUrl)) {
      throw new PropValidationError('runbookBaseUrl', runbookBaseUrl, 'an http(s) URL');
    }
    const backupWindows = (props.backupWindows ?? [
      { cronJobPattern: '.*backup-frequent', maxAge: `${BackupConventions.RPO_HOURS}h` },
      { cronJobPattern: '.*backup.*', maxAge: '25h' },
    ]).map((w, i) => ({
      pattern: validatePattern(`backupWindows[${i}].cronJobPattern`, w.cronJobPattern),
      maxAgeSeconds: durationSeconds(validateDuration(`backupWindows[${i}].maxAge`, w.maxAge)),
    }));
    if (backupWindows.length === 0) {
      throw new PropValidationError('backupWindows', [], 'at least one window');
    }
    const replicationLagSeconds = validateInteger('replicationLagSeconds', props.replicationLagSeconds ?? 60, 1);
    const certificateExpiryDays = validateInteger('certificateExpiryDays', props.certificateExpiryDays ?? 14, 1, 60);
    const rpoMinutes = BackupConventions.WAL_RPO_MINUTES;
    const walArchiveMaxAgeSeconds = 2 * rpoMinutes * 60;
    // The nightly base backup (BackupConventions.DATABASE_SCHEDULE) plus an hour to finish.
    const baseBackupMaxAgeSeconds = 25 * 3600;
    const latencyBucket = bucketMatcher('Slo.LATENCY_P95_SECONDS', Slo.LATENCY_P95_SECONDS);

    const ns = namespaceScope(watchNamespace);
    const httpScope = [...ns, ...serviceScope(props.services)];
    const allBackups = backupWindows.map(w => w.pattern).join('|');
    const errorBudget = budget(1 - Slo.AVAILABILITY);
    // p95 < 200 ms means at most 5 % of requests may be slower than 200 ms.
    const latencyBudget = budget(1 - LATENCY_QUANTILE);
    const errorRecord = (w: string) => `${SERVICE_LABEL}:${MetricNames.HTTP_REQUESTS_TOTAL}:error_ratio_rate${w}`;
    const slowRecord = (w: string) => `${SERVICE_LABEL}:${MetricNames.HTTP_REQUEST_DURATION_SECONDS}:slow_ratio_rate${w}`;
    const burnExpr = (record: (w: string) => string, windows: readonly BurnRateWindow[], ratioBudget: number) => windows
      .map(w => `(\n  ${record(w.long)} > (${w.factor} * ${ratioBudget})\nand\n  ${record(w.short)} > (${w.factor} * ${ratioBudget})\n)`)
      .join('\nor\n');
    const pct = (ratio: number) => `${budget(ratio * 100)}%`;

    const recordingRules = BURN_WINDOWS.flatMap(w => [
      { record: errorRecord(w), expr: errorRatio(httpScope, w) },
      { record: slowRecord(w), expr: slowRatio(httpScope, w, latencyBucket) },
    ]);

    const http: AlertDef[] = [
      {
        alert: 'HighErrorRate',
        expr: `${errorRatio(httpScope, '5m')}\n> ${Slo.HIGH_ERROR_RATE}`,
        for: '5m',
        severity: 'critical',
        summary: 'High error rate on {{ $labels.service }}',
        description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} failed with a 5xx over the last 5 minutes (threshold ${pct(Slo.HIGH_ERROR_RATE)}).`,
      },
      {
        alert: 'HighResponseTime',
        expr: `${latencyQuantile(httpScope, '5m')}\n> ${Slo.HIGH_RESPONSE_TIME_SECONDS}`,
        for: '5m',
        severity: 'warning',
        summary: 'High response time on {{ $labels.service }}',
        description: `The 95th percentile response time of {{ $labels.service }} is {{ $value | humanizeDuration }} (threshold ${Slo.HIGH_RESPONSE_TIME_SECONDS}s).`,
      },
      {
        alert: 'ErrorBudgetBurnFast',
        expr: burnExpr(errorRecord, FAST_BURN, errorBudget),
        severity: 'critical',
        summary: '{{ $labels.service }} is burning its availability error budget fast',
        description: `{{ $labels.service }} is failing {{ $value | humanizePercentage }} of its requests: at this rate the 30-day budget of the ${pct(Slo.AVAILABILITY)} availability SLO is gone within days (burn rate >= ${FAST_BURN.map(w => w.factor).join(' / ')} over ${FAST_BURN.map(w => w.long).join(' / ')}).`,
      },
      {
        alert: 'ErrorBudgetBurnSlow',
        expr: burnExpr(errorRecord, SLOW_BURN, errorBudget),
        severity: 'warning',
        summary: '{{ $labels.service }} is steadily burning its availability error budget',
        description: `{{ $labels.service }} is failing {{ $value | humanizePercentage }} of its requests: the 30-day budget of the ${pct(Slo.AVAILABILITY)} availability SLO runs out before the month ends (burn rate >= ${SLOW_BURN.map(w => w.factor).join(' / ')} over ${SLOW_BURN.map(w => w.long).join(' / ')}).`,
      },
      {
        alert: 'LatencyBudgetBurnFast',
        expr: burnExpr(slowRecord, FAST_BURN, latencyBudget),
        severity: 'critical',
        summary: '{{ $labels.service }} is burning its latency budget fast',
        description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} take longer than ${Slo.LATENCY_P95_SECONDS}s; the p95 < ${Slo.LATENCY_P95_SECONDS}s SLO allows ${pct(latencyBudget)} (burn rate >= ${FAST_BURN.map(w => w.factor).join(' / ')} over ${FAST_BURN.map(w => w.long).join(' / ')}).`,
      },
      {
        alert: 'LatencyBudgetBurnSlow',
        expr: burnExpr(slowRecord, SLOW_BURN, latencyBudget),
        severity: 'warning',
        summary: '{{ $labels.service }} is steadily burning its latency budget',
        description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.service }} take longer than ${Slo.LATENCY_P95_SECONDS}s; the p95 < ${Slo.LATENCY_P95_SECONDS}s SLO allows ${pct(latencyBudget)} (burn rate >= ${SLOW_BURN.map(w => w.factor).join(' / ')} over ${SLOW_BURN.map(w => w.long).join(' / ')}).`,
      },
    ];

    const data: AlertDef[] = [
      {
        alert: 'DatabaseConnectionsHigh',
        expr: `sum by (instance) (${selector(ExporterMetrics.PG_CONNECTIONS, ...ns)})\n/\nmax by (instance) (${selector(ExporterMetrics.PG_MAX_CONNECTIONS, ...ns)})\n> ${Slo.DATABASE_CONNECTIONS_HIGH}`,
        for: '5m',
        severity: 'warning',
        summary: 'PostgreSQL {{ $labels.instance }} is running out of connections',
        description: `{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.instance }} (threshold ${pct(Slo.DATABASE_CONNECTIONS_HIGH)}).`,
      },
      {
        alert: 'PostgresDown',
        expr: `${selector(ExporterMetrics.PG_UP, ...ns)} == 0`,
        for: '1m',
        severity: 'critical',
        summary: 'PostgreSQL {{ $labels.instance }} does not answer',
        description: 'postgres_exporter in {{ $labels.pod }} cannot reach its PostgreSQL server.',
      },
      {
        alert: 'PostgresReplicationLag',
        expr: `${selector(ExporterMetrics.PG_REPLICATION_LAG_SECONDS, ...ns)} > ${replicationLagSeconds}`,
        for: '5m',
        severity: 'warning',
        summary: 'PostgreSQL standby {{ $labels.instance }} is lagging',
        description: `The standby in {{ $labels.pod }} is {{ $value | humanizeDuration }} behind the primary (threshold ${replicationLagSeconds}s); a failover now would lose that much data.`,
      },
      // CloudNativePG's instances export their own metrics (the operator's default queries), scraped through its PodMonitor.
      {
        alert: 'DatabaseConnectionsHigh',
        expr: `sum by (namespace, pod) (${selector(ExporterMetrics.CNPG_BACKENDS, ...ns)})\n/\nmax by (namespace, pod) (${selector(ExporterMetrics.CNPG_SETTING, ...ns, 'name="max_connections"')})\n> ${Slo.DATABASE_CONNECTIONS_HIGH}`,
        for: '5m',
        severity: 'warning',
        labels: { engine: 'cloudnative-pg' },
        summary: 'PostgreSQL {{ $labels.pod }} is running out of connections',
        description: `{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.pod }} (threshold ${pct(Slo.DATABASE_CONNECTIONS_HIGH)}): check the poolers' server pool sizes.`,
      },
      {
        alert: 'PostgresReplicationLag',
        expr: `${selector(ExporterMetrics.CNPG_REPLICATION_LAG, ...ns)} > ${replicationLagSeconds}`,
        for: '5m',
        severity: 'warning',
        labels: { engine: 'cloudnative-pg' },
        summary: 'PostgreSQL standby {{ $labels.pod }} is lagging',
        description: `The standby {{ $labels.pod }} is {{ $value | humanizeDuration }} behind the primary (threshold ${replicationLagSeconds}s); a failover now would lose that much data.`,
      },
      {
        alert: 'PostgresWalArchivingFailing',
        expr: [
          `${selector(ExporterMetrics.CNPG_LAST_FAILED_TIME, ...ns)}`,
          '> on (namespace, pod)',
          `${selector(ExporterMetrics.CNPG_LAST_ARCHIVED_TIME, ...ns)}`,
        ].join('\n'),
        for: '5m',
        severity: 'critical',
        summary: 'WAL archiving of {{ $labels.pod }} is failing',
        description: `The newest WAL archive attempt of {{ $labels.pod }} failed and none has succeeded since: the ${rpoMinutes}-minute RPO no longer holds, and the WAL volume fills up.`,
      },
      {
        alert: 'PostgresWalArchiveTooOld',
        // Only the primary archives; a standby's counter stands still.
        expr: [
          `${selector(ExporterMetrics.CNPG_SECONDS_SINCE_LAST_ARCHIVAL, ...ns)} > ${walArchiveMaxAgeSeconds}`,
          'and on (namespace, pod)',
          `${selector(ExporterMetrics.CNPG_IN_RECOVERY, ...ns)} == 0`,
        ].join('\n'),
        for: '5m',
        severity: 'warning',
        summary: 'No WAL archived from {{ $labels.pod }} recently',
        description: `The primary {{ $labels.pod }} last archived a WAL segment {{ $value | humanizeDuration }} ago (threshold ${humanizeSeconds(walArchiveMaxAgeSeconds)}, twice the ${rpoMinutes}-minute RPO that archive_timeout keeps while there are writes).`,
      },
      {
        alert: 'PostgresBaseBackupTooOld',
        expr: `time() - max by (namespace, pod) (${selector(ExporterMetrics.BARMAN_LAST_AVAILABLE_BACKUP, ...ns)}) > ${baseBackupMaxAgeSeconds}`,
        for: '10m',
        severity: 'critical',
        summary: 'The newest base backup seen by {{ $labels.pod }} is too old',
        description: `The newest base backup in the object store is {{ $value | humanizeDuration }} old (allowed ${humanizeSeconds(baseBackupMaxAgeSeconds)}: the nightly ScheduledBackup plus an hour): recovery replays ever more WAL and retention may remove the last one.`,
      },
      {
        alert: 'RedisDown',
        expr: `${selector(ExporterMetrics.REDIS_UP, ...ns)} == 0`,
        for: '1m',
        severity: 'critical',
        summary: 'Redis {{ $labels.instance }} does not answer',
        description: 'redis_exporter in {{ $labels.pod }} cannot reach its Redis node.',
      },
      {
        alert: 'RedisClusterStateNotOk',
        expr: `${selector(ExporterMetrics.REDIS_CLUSTER_STATE, ...ns)} != 1`,
        for: '2m',
        severity: 'critical',
        summary: 'Redis Cluster reports cluster_state:fail',
        description: 'Redis node {{ $labels.pod }} reports the cluster state as not ok: some hash slots are unserved and clients get CLUSTERDOWN errors.',
      },
    ];

    const platform: AlertDef[] = [
      {
        alert: 'PodCrashLooping',
        expr: `max_over_time(${selector(ExporterMetrics.KUBE_CONTAINER_WAITING_REASON, ...ns, 'reason="CrashLoopBackOff"')}[5m]) >= 1`,
        for: '15m',
        severity: 'warning',
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
        severity: 'warning',
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
        severity: 'warning',
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
          severity: 'critical',
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
        severity: 'warning',
        summary: 'Certificate {{ $labels.name }} expires soon',
        description: `Certificate {{ $labels.name }} expires in {{ $value | humanizeDuration }} (threshold ${certificateExpiryDays} days): cert-manager has not managed to renew it.`,
      },
    ];

    const render = (a: AlertDef) => ({
      alert: a.alert,
      expr: a.expr,
      ...(a.for ? { for: a.for } : {}),
      labels: { ...a.labels, severity: a.severity },
      annotations: {
        summary: a.summary,
        description: a.description,
        runbook_url: `${runbookBaseUrl}#${a.alert.toLowerCase()}`,
      },
    });
    this.alertNames = [...new Set([...http, ...data, ...platform].map(a => a.alert))];

    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: AlertRules.API_VERSION,
      kind: AlertRules.KIND,
      metadata: {
        ...props.metadata,
        labels: { ...props.metadata?.labels, ...props.labels },
      },
      spec: {
        groups: [
          { name: 'rauli-vision.slo.recording', rules: recordingRules },
          { name: 'rauli-vision.http', rules: http.map(render) },
          { name: 'rauli-vision.data', rules: data.map(render) },
          { name: 'rauli-vision.platform', rules: platform.map(render) },
        ],
      },
    });
  }
}

/** A `service=~"a|b"` matcher, or none when every service is watched. */
function serviceScope(services: string[] | undefined): string[] {
  if (services === undefined) return [];
  if (services.length === 0) throw new PropValidationError('services', services, 'at least one Service name, or no list to watch every Service');
  services.forEach((s, i) => validateDnsLabel(`services[${i}]`, s));
  return [`${SERVICE_LABEL}=~"${services.join('|')}"`];
}

/** Checks a regular expression and returns it escaped for a PromQL double-quoted string. */
function validatePattern(prop: string, pattern: string): string {
  try {
    new RegExp(`^(?:${pattern})$`);
  } catch {
    throw new PropValidationError(prop, pattern, 'a regular expression');
  }
  if (pattern.includes('"')) {
    throw new PropValidationError(prop, pattern, 'a regular expression without double quotes');
  }
  // PromQL strings take Go escapes: a regex backslash is written twice.
  return pattern.replace(/\\/g, '\\\\');
}

/** '25h', '1h30m', '45m'. */
function humanizeSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [h ? `${h}h` : '', m ? `${m}m` : '', seconds % 60 ? `${seconds % 60}s` : ''].join('') || '0s';
}
