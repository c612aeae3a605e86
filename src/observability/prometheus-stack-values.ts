import { PrometheusConventions } from '../conventions';
import { validateDnsLabel, validateDuration } from '../core/validate';

/** Options of {@link prometheusStackValues}. */
export interface PrometheusStackValuesOptions {
  /**
   * Value of the release label the platform's ServiceMonitors, PrometheusRule
   * and AlertmanagerConfig carry.
   * @default 'kube-prometheus-stack'
   */
  readonly release?: string;
  /**
   * Key of that label.
   * @default 'release'
   */
  readonly releaseLabel?: string;
  /**
   * Global scrape interval; ServiceMonitors may set their own.
   * @default PrometheusConventions.SCRAPE_INTERVAL ('15s')
   */
  readonly scrapeInterval?: string;
  /**
   * Rule evaluation interval.
   * @default PrometheusConventions.EVALUATION_INTERVAL ('15s')
   */
  readonly evaluationInterval?: string;
}

/**
 * The cluster side of the platform's monitoring, as values for the
 * kube-prometheus-stack Helm chart: the guide's 15 s scrape and evaluation
 * intervals, Prometheus selecting the platform's ServiceMonitors and rules by
 * the release label in every namespace, and Alertmanager loading the
 * platform's AlertmanagerConfigs (OnNamespace: each environment's config
 * only sees its own namespace's alerts). Plain data, so the main job writes
 * it beside the manifests and an add-ons chart can embed the same object.
 */
export function prometheusStackValues(options: PrometheusStackValuesOptions = {}): { [key: string]: any } {
  const release = validateDnsLabel('release', options.release ?? 'kube-prometheus-stack', 53);
  const selector = { matchLabels: { [options.releaseLabel ?? 'release']: release } };
  const everyNamespace = {};
  return {
    prometheus: {
      prometheusSpec: {
        scrapeInterval: validateDuration('scrapeInterval', options.scrapeInterval ?? PrometheusConventions.SCRAPE_INTERVAL),
        evaluationInterval: validateDuration('evaluationInterval', options.evaluationInterval ?? PrometheusConventions.EVALUATION_INTERVAL),
        serviceMonitorSelector: selector,
        serviceMonitorNamespaceSelector: everyNamespace,
        podMonitorSelector: selector,
        podMonitorNamespaceSelector: everyNamespace,
        ruleSelector: selector,
        ruleNamespaceSelector: everyNamespace,
      },
    },
    alertmanager: {
      enabled: true,
      alertmanagerSpec: {
        alertmanagerConfigSelector: selector,
        alertmanagerConfigNamespaceSelector: everyNamespace,
        alertmanagerConfigMatcherStrategy: { type: 'OnNamespace' },
      },
    },
  };
}

/** jsii entry for {@link prometheusStackValues} (jsii exports classes, not functions). */
export class PrometheusStackValues {
  /** The kube-prometheus-stack values; see {@link prometheusStackValues}. */
  public static of(options: PrometheusStackValuesOptions = {}): any {
    return prometheusStackValues(options);
  }

  private constructor() {}
}
