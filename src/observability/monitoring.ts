import { Construct } from 'constructs';
import { Components, PrometheusConventions, ServiceConventions } from '../conventions';
import { AlertRules, AlertRulesProps } from './alert-rules';
import { validateDnsLabel } from '../core/validate';
import { CostDashboard, CostDashboardProps } from './dashboards/cost-dashboard';
import { DataTierDashboard } from './dashboards/data-tier-dashboard';
import { GrafanaDashboard, GrafanaDashboardOptions } from './dashboards/grafana-dashboard';
import { ProductionDashboard } from './dashboards/production-dashboard';
import { ServiceMonitor } from './service-monitor';

/** One scrape target: the Services of one component and their metrics port. */
export interface MetricsTarget {
  /** Short name, used in the ServiceMonitor's name (`<prefix>-<name>`). */
  readonly name: string;
  /** Labels of the Services to scrape. */
  readonly selector: { [key: string]: string };
  /**
   * Name of the Service port that serves metrics.
   * @default ServiceConventions.METRICS_PORT_NAME
   */
  readonly port?: string;
  /**
   * Path of the metrics endpoint.
   * @default ServiceConventions.METRICS_PATH
   */
  readonly path?: string;
  /**
   * Scrape interval of this target.
   * @default - the Monitoring's `scrapeInterval`
   */
  readonly interval?: string;
  /**
   * Namespace of the Services, where the ServiceMonitor is created beside them.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
}

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /**
   * Emit anything at all. Off for clusters without prometheus-operator's
   * CRDs (the guide's `monitoring.enabled`).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Value of the release label that kube-prometheus-stack's
   * `serviceMonitorSelector` and `ruleSelector` match (its Helm release name).
   * @default Monitoring.DEFAULT_RELEASE ('kube-prometheus-stack')
   */
  readonly release?: string;
  /**
   * Key of that label.
   * @default Monitoring.DEFAULT_RELEASE_LABEL ('release')
   */
  readonly releaseLabel?: string;
  /**
   * Emit ServiceMonitors.
   * @default true
   */
  readonly serviceMonitors?: boolean;
  /**
   * Emit the PrometheusRule.
   * @default true
   */
  readonly alerts?: boolean;
  /**
   * Emit the Grafana dashboard ConfigMaps.
   * @default true
   */
  readonly dashboards?: boolean;
  /**
   * What to scrape. RauliVisionChart passes one target per catalog service
   * plus `Monitoring.dataTierTargets()`.
   * @default Monitoring.dataTierTargets() (the postgres_exporter and redis_exporter sidecars, every `PrometheusConventions.EXPORTER_SCRAPE_INTERVAL`)
   */
  readonly targets?: MetricsTarget[];
  /**
   * Scrape interval of the targets that set none (the guide's `monitoring.serviceMonitor.interval`).
   * @default ScrapeIntervals.DEFAULT ('30s')
   */
  readonly scrapeInterval?: string;
  /**
   * Scrape interval of `Monitoring.dataTierTargets()` (the default targets, and
   * the data tier in RauliVisionChart).
   * @default PrometheusConventions.EXPORTER_SCRAPE_INTERVAL ('30s')
   */
  readonly exporterScrapeInterval?: string;
  /**
   * Settings of the alert rules (their labels come from `release`).
   * @default - AlertRules defaults
   */
  readonly alertRules?: AlertRulesProps;
  /**
   * Label, folder and metadata of the dashboard ConfigMaps.
   * @default - label `grafana_dashboard: "1"`
   */
  readonly dashboardOptions?: GrafanaDashboardOptions;
  /**
   * Prices and cost metric of the Cost Analysis dashboard.
   * @default - CostDashboard defaults
   */
  readonly cost?: CostDashboardProps;
  /**
   * Prefix of the object names.
   * @default 'rauli-vision'
   */
  readonly namePrefix?: string;
  /**
   * Namespace of the data tier: the default targets' exporters live there,
   * the alert rules watch it beside the chart's, and the data-tier dashboard
   * preselects it.
   * @default - the chart's namespace
   */
  readonly dataNamespace?: string;
}

/**
 * Everything kube-prometheus-stack needs to watch one RAULI-VISION
 * environment: ServiceMonitors for the services and the data-tier exporters,
 * the PrometheusRule, and the Production, Cost Analysis and Data Tier
 * dashboards for the Grafana sidecar.
 */
export class Monitoring extends Construct {
  /** Default of `release`: the Helm release name kube-prometheus-stack's selectors match. */
  public static readonly DEFAULT_RELEASE = 'kube-prometheus-stack';
  /** Default of `releaseLabel`. */
  public static readonly DEFAULT_RELEASE_LABEL = 'release';

  /**
   * The data tier's exporter sidecars; the application services come from the service catalog.
   * @param interval their scrape interval (default `PrometheusConventions.EXPORTER_SCRAPE_INTERVAL`)
   * @param namespace the data tier's namespace (default: the chart's)
   */
  public static dataTierTargets(interval?: string, namespace?: string): MetricsTarget[] {
    return [Components.POSTGRES, Components.REDIS].map(c => ({
      name: `${c}-exporter`,
      selector: Monitoring.componentSelector(c),
      port: ServiceConventions.METRICS_PORT_NAME,
      interval: interval ?? PrometheusConventions.EXPORTER_SCRAPE_INTERVAL,
      namespace,
    }));
  }

  /** Service labels that select every Service of one component. */
  public static componentSelector(component: string): { [key: string]: string } {
    return { [Components.LABEL]: component, [Components.PART_OF_LABEL]: Components.PART_OF };
  }

  /** The ServiceMonitors, one per target. */
  public readonly serviceMonitors: ServiceMonitor[] = [];
  /** The PrometheusRule, when alerts are enabled. */
  public readonly alertRules?: AlertRules;
  /** The dashboards, when enabled. */
  public readonly dashboards: GrafanaDashboard[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps = {}) {
    super(scope, id);
    const enabled = props.enabled ?? true;
    const prefix = validateDnsLabel('namePrefix', props.namePrefix ?? 'rauli-vision', 40);
    // Helm release names are DNS-1123 labels.
    const release = validateDnsLabel('release', props.release ?? Monitoring.DEFAULT_RELEASE, 53);
    const labels = { [props.releaseLabel ?? Monitoring.DEFAULT_RELEASE_LABEL]: release };

    if (enabled && (props.serviceMonitors ?? true)) {
      const targets = props.targets ?? Monitoring.dataTierTargets(props.exporterScrapeInterval, props.dataNamespace);
      const names = new Set<string>();
      for (const t of targets) {
        const name = validateDnsLabel('targets[].name', `${prefix}-${t.name}`);
        if (names.has(name)) throw new Error(`Invalid targets: two targets are named "${t.name}". Expected unique names.`);
        names.add(name);
        this.serviceMonitors.push(new ServiceMonitor(this, `ServiceMonitor-${t.name}`, {
          metadata: { name, namespace: t.namespace },
          selector: t.selector,
          port: t.port,
          path: t.path,
          interval: t.interval ?? props.scrapeInterval,
          labels,
        }));
      }
    }

    if (enabled && (props.alerts ?? true)) {
      this.alertRules = new AlertRules(this, 'AlertRules', {
        // The forecast alerts price requests as the Cost Analysis dashboard does.
        cpuCoreHourPrice: props.cost?.cpuCoreHourPrice,
        memoryGibHourPrice: props.cost?.memoryGibHourPrice,
        dataNamespace: props.dataNamespace,
        ...props.alertRules,
        labels: { ...props.alertRules?.labels, ...labels },
        metadata: { name: prefix, ...props.alertRules?.metadata },
      });
    }

    if (enabled && (props.dashboards ?? true)) {
      const options = props.dashboardOptions ?? {};
      const meta = (suffix: string) => ({ ...options.metadata, name: `${prefix}-dashboard-${suffix}` });
      this.dashboards.push(
        new ProductionDashboard(this, 'ProductionDashboard', { ...options, metadata: meta('production') }),
        new CostDashboard(this, 'CostDashboard', { ...options, ...props.cost, metadata: meta('cost') }),
        new DataTierDashboard(this, 'DataTierDashboard', { ...options, dataNamespace: props.dataNamespace, metadata: meta('data') }),
      );
    }
  }
}
