import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { Components, ScrapeIntervals, ServiceConventions } from '../conventions';
import { parseDurationSeconds, PropValidationError, validateDnsLabel, validateDuration } from '../core/validate';

/** Props of {@link ServiceMonitor}. */
export interface ServiceMonitorProps {
  /**
   * Labels of the Services to scrape (`spec.selector.matchLabels`). These are
   * the Service's own labels, not its pod selector.
   */
  readonly selector: { [key: string]: string };
  /**
   * Name of the Service port that serves metrics. Services without a port of
   * this name yield no targets, which is how one component with several
   * Services (client, headless) is scraped once.
   * @default ServiceConventions.METRICS_PORT_NAME
   */
  readonly port?: string;
  /**
   * HTTP path of the metrics endpoint.
   * @default ServiceConventions.METRICS_PATH
   */
  readonly path?: string;
  /**
   * Scrape interval (the guide's `monitoring.serviceMonitor.interval`).
   * @default ScrapeIntervals.DEFAULT ('30s')
   */
  readonly interval?: string;
  /**
   * Scrape timeout; must not exceed `interval`.
   * @default '10s'
   */
  readonly scrapeTimeout?: string;
  /**
   * Labels added to the ServiceMonitor itself, e.g. `release: kube-prometheus-stack`
   * so kube-prometheus-stack's `serviceMonitorSelector` picks it up.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Pod labels copied onto every scraped series.
   * @default [Components.LABEL]
   */
  readonly podTargetLabels?: string[];
  /**
   * Metadata of the ServiceMonitor (name, namespace, annotations).
   * @default - a generated name in the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
}

/**
 * A prometheus-operator ServiceMonitor that scrapes one named metrics port of
 * the Services matching `selector`. prometheus-operator adds the Service's
 * name as the `service` label of every series, which the alert rules and
 * dashboards aggregate on.
 */
export class ServiceMonitor extends Construct {
  /** API version of the prometheus-operator CRD. */
  public static readonly API_VERSION = 'monitoring.coreos.com/v1';
  /** Kind of the prometheus-operator CRD. */
  public static readonly KIND = 'ServiceMonitor';

  /** The ServiceMonitor object (escape hatch). */
  public readonly apiObject: ApiObject;
  /** The port name scraped. */
  public readonly port: string;
  /** The path scraped. */
  public readonly path: string;

  constructor(scope: Construct, id: string, props: ServiceMonitorProps) {
    super(scope, id);
    if (Object.keys(props.selector).length === 0) {
      throw new PropValidationError('selector', props.selector, 'at least one Service label: an empty selector scrapes every Service in the namespace');
    }
    this.port = validateDnsLabel('port', props.port ?? ServiceConventions.METRICS_PORT_NAME, 15);
    this.path = props.path ?? ServiceConventions.METRICS_PATH;
    if (!this.path.startsWith('/')) {
      throw new PropValidationError('path', this.path, "an absolute HTTP path such as '/metrics'");
    }
    const interval = validateDuration('interval', props.interval ?? ScrapeIntervals.DEFAULT);
    const scrapeTimeout = validateDuration('scrapeTimeout', props.scrapeTimeout ?? '10s');
    if (parseDurationSeconds('scrapeTimeout', scrapeTimeout) > parseDurationSeconds('interval', interval)) {
      throw new PropValidationError('scrapeTimeout', scrapeTimeout, `a duration no longer than interval (${interval})`);
    }

    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: ServiceMonitor.API_VERSION,
      kind: ServiceMonitor.KIND,
      metadata: {
        ...props.metadata,
        labels: { ...props.metadata?.labels, ...props.labels },
      },
      spec: {
        selector: { matchLabels: { ...props.selector } },
        podTargetLabels: props.podTargetLabels ?? [Components.LABEL],
        endpoints: [{
          port: this.port,
          path: this.path,
          interval,
          scrapeTimeout,
        }],
      },
    });
  }
}
