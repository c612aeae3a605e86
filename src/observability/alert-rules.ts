import { ApiObject, ApiObjectMetadata, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { BackupConventions, CostConventions, Slo } from '../conventions';
import {
  AlertContext, AlertDef, budgetAlerts, dataAlerts, httpAlerts, logPipelineAlerts, platformAlerts, sloRecordingRules,
} from './alert-catalog';
import { bucketMatcher, namespaceScope, SERVICE_LABEL } from './promql';
import { ServiceMonitor } from './service-monitor';
import { RESPONSE_TIME_ANNOTATION, SUPPORT_LEVEL_LABEL, supportLevel } from './support-levels';
import { parseDurationSeconds, PropValidationError, validateDnsLabel, validateDuration, validateInteger, validateRange } from '../core/validate';

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
   * Namespace of the environment's data tier, watched beside `watchNamespace`
   * (its alerts still carry `watchNamespace`, which routes them).
   * @default - none besides `watchNamespace`
   */
  readonly dataNamespace?: string;
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
  /**
   * The log pipeline to watch (the logging stack fills it in).
   * @default - no log pipeline alerts
   */
  readonly logPipeline?: LogPipelineTargets;
  /**
   * Share of free space on an Elasticsearch data volume below which it is reported.
   * @default 0.2 (Elasticsearch stops allocating shards to a node at 85 % used)
   */
  readonly logVolumeFreeRatio?: number;
  /**
   * Monthly budget in USD the cost forecast alerts compare with.
   * @default CostConventions.MONTHLY_BUDGET_USD
   */
  readonly monthlyBudgetUsd?: number;
  /**
   * Price of one requested CPU core for one hour (as the Cost Analysis dashboard's).
   * @default CostConventions.CPU_CORE_HOUR_PRICE_USD
   */
  readonly cpuCoreHourPrice?: number;
  /**
   * Price of one requested GiB of memory for one hour.
   * @default CostConventions.MEMORY_GIB_HOUR_PRICE_USD
   */
  readonly memoryGibHourPrice?: number;
}

/** The log pipeline's objects, as ECK names them. */
export interface LogPipelineTargets {
  /** Namespace of the log pipeline. */
  readonly namespace: string;
  /** RE2 pattern of the Elasticsearch StatefulSets, e.g. `logs-es-.*`. */
  readonly elasticsearchStatefulSets: string;
  /** RE2 pattern of the Elasticsearch data volume claims. */
  readonly elasticsearchVolumeClaims: string;
  /** Kibana's Deployment. */
  readonly kibanaDeployment: string;
  /** The collector's DaemonSet. */
  readonly collectorDaemonSet: string;
  /** The Job that applies the index and snapshot lifecycle. */
  readonly setupJob: string;
}

/** A group of backup CronJobs and their window. */
export interface BackupWindow {
  /** RE2 pattern of CronJob names, fully anchored as PromQL does, e.g. `.*backup.*`. */
  readonly cronJobPattern: string;
  /** Longest acceptable time since the last successful run, e.g. '25h'. */
  readonly maxAge: string;
}

/**
 * The platform's PrometheusRule: the guide's three alerts with their
 * expressions fixed (ratios aggregated per service), the alerts an SRE
 * expects from Kubernetes, the data tier, backups and certificates, and
 * multi-window multi-burn-rate alerts for the availability and latency SLOs.
 * The rules themselves are data (./alert-catalog); every alert carries its
 * support level (`support_level` and the severity it implies) and summary,
 * description, response_time and runbook_url annotations.
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
      maxAgeSeconds: parseDurationSeconds(`backupWindows[${i}].maxAge`, validateDuration(`backupWindows[${i}].maxAge`, w.maxAge)),
    }));
    if (backupWindows.length === 0) {
      throw new PropValidationError('backupWindows', [], 'at least one window');
    }
    const logPipeline = props.logPipeline && {
      ...props.logPipeline,
      namespace: validateDnsLabel('logPipeline.namespace', props.logPipeline.namespace),
      elasticsearchStatefulSets: validatePattern('logPipeline.elasticsearchStatefulSets', props.logPipeline.elasticsearchStatefulSets),
      elasticsearchVolumeClaims: validatePattern('logPipeline.elasticsearchVolumeClaims', props.logPipeline.elasticsearchVolumeClaims),
    };
    const dataNamespace = props.dataNamespace === undefined ? undefined : validateDnsLabel('dataNamespace', props.dataNamespace);
    const ns = namespaceScope(watchNamespace, dataNamespace);
    const context: AlertContext = {
      ns,
      // The services run in the watched namespace only.
      httpScope: [...namespaceScope(watchNamespace), ...serviceScope(props.services)],
      backupWindows,
      replicationLagSeconds: validateInteger('replicationLagSeconds', props.replicationLagSeconds ?? 60, 1),
      certificateExpiryDays: validateInteger('certificateExpiryDays', props.certificateExpiryDays ?? 14, 1, 60),
      latencyBucket: bucketMatcher('Slo.LATENCY_P95_SECONDS', Slo.LATENCY_P95_SECONDS),
      logVolumeFreeRatio: validateRange('logVolumeFreeRatio', props.logVolumeFreeRatio ?? 0.2, 0, 1, true),
      logPipeline,
      budget: {
        monthlyUsd: validateRange('monthlyBudgetUsd', props.monthlyBudgetUsd ?? CostConventions.MONTHLY_BUDGET_USD, 0, 1e9, true),
        cpuPrice: validateRange('cpuCoreHourPrice', props.cpuCoreHourPrice ?? CostConventions.CPU_CORE_HOUR_PRICE_USD, 0, 1000, true),
        memPrice: validateRange('memoryGibHourPrice', props.memoryGibHourPrice ?? CostConventions.MEMORY_GIB_HOUR_PRICE_USD, 0, 1000, true),
      },
    };
    const groups = [
      { name: 'rauli-vision.http', alerts: httpAlerts(context) },
      { name: 'rauli-vision.data', alerts: dataAlerts(context) },
      { name: 'rauli-vision.platform', alerts: [...platformAlerts(context), ...budgetAlerts(context)] },
      { name: 'rauli-vision.logging', alerts: logPipelineAlerts(context) },
    ].filter(g => g.alerts.length > 0);
    // Alertmanager routes an AlertmanagerConfig's alerts by their namespace label
    // (the operator's OnNamespace strategy); aggregated alerts lose it, so every
    // rule states the environment it belongs to.
    const owner = watchNamespace ? { namespace: watchNamespace } : {};
    const render = (a: AlertDef) => {
      const level = supportLevel(a.level);
      return {
        alert: a.alert,
        expr: a.expr,
        ...(a.for ? { for: a.for } : {}),
        labels: { ...owner, ...a.labels, severity: level.severity, [SUPPORT_LEVEL_LABEL]: String(level.level) },
        annotations: {
          summary: a.summary,
          description: a.description,
          [RESPONSE_TIME_ANNOTATION]: level.responseTime,
          runbook_url: `${runbookBaseUrl}#${a.alert.toLowerCase()}`,
        },
      };
    };
    this.alertNames = [...new Set(groups.flatMap(g => g.alerts.map(a => a.alert)))];

    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: AlertRules.API_VERSION,
      kind: AlertRules.KIND,
      metadata: {
        ...props.metadata,
        labels: { ...props.metadata?.labels, ...props.labels },
      },
      spec: {
        groups: [
          { name: 'rauli-vision.slo.recording', rules: sloRecordingRules(context) },
          ...groups.map(g => ({ name: g.name, rules: g.alerts.map(render) })),
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
