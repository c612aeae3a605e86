import { PropValidationError, validateDnsSubdomain } from '../core/validate';

/** Kinds of notification a receiver sends. */
export enum AlertReceiverKind {
  /** Slack incoming webhook (the URL is the credential). */
  SLACK = 'slack',
  /** Generic webhook, e.g. a pager's alert endpoint. */
  WEBHOOK = 'webhook',
  /** PagerDuty Events API v2 routing key. */
  PAGERDUTY = 'pagerduty',
}

/** Where a receiver's credential lives: one key of a Secret in the chart's namespace. */
export interface AlertReceiverSecret {
  /** Name of the Secret, created outside the manifests. */
  readonly secretName: string;
  /** Key holding the webhook URL (Slack, webhook) or the routing key (PagerDuty). */
  readonly key: string;
}

/** Options of a Slack receiver. */
export interface SlackReceiverOptions extends AlertReceiverSecret {
  /**
   * Channel, when the webhook may post to several.
   * @default - the webhook's own channel
   */
  readonly channel?: string;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * One notification target of the alert routing. Its URL or key is always
 * read from a Secret by prometheus-operator, so no webhook URL, routing key
 * or address is ever written into a manifest.
 */
export class AlertReceiver {
  /** Posts to a Slack incoming webhook whose URL is in the Secret. */
  public static slack(options: SlackReceiverOptions): AlertReceiver {
    return new AlertReceiver(AlertReceiverKind.SLACK, options, options.channel);
  }

  /** Posts Alertmanager's webhook payload to the URL in the Secret (pagers such as Opsgenie or Grafana OnCall take it). */
  public static webhook(options: AlertReceiverSecret): AlertReceiver {
    return new AlertReceiver(AlertReceiverKind.WEBHOOK, options);
  }

  /** Sends to PagerDuty with the Events API v2 routing key in the Secret. */
  public static pagerDuty(options: AlertReceiverSecret): AlertReceiver {
    return new AlertReceiver(AlertReceiverKind.PAGERDUTY, options);
  }

  private constructor(
    /** What the receiver sends. */
    public readonly kind: AlertReceiverKind,
    /** The Secret key holding its credential. */
    public readonly secret: AlertReceiverSecret,
    /** Slack channel, if any. */
    public readonly channel?: string,
  ) {}

  /**
   * The receiver in AlertmanagerConfig form; `prop` names it in errors.
   * @internal
   */
  public _render(prop: string, name: string): { [key: string]: any } {
    const secretName = this.secret?.secretName;
    if (typeof secretName !== 'string' || secretName === '') {
      throw new PropValidationError(`${prop}.secretName`, secretName, 'the name of a Secret in the chart\'s namespace holding the receiver\'s URL or key');
    }
    validateDnsSubdomain(`${prop}.secretName`, secretName);
    if (typeof this.secret.key !== 'string' || !SECRET_KEY.test(this.secret.key)) {
      throw new PropValidationError(`${prop}.key`, this.secret.key, 'a Secret key (letters, digits, "-", "_", ".")');
    }
    if (this.channel !== undefined && !/^[#@]?[a-z0-9][a-z0-9._-]{0,79}$/.test(this.channel)) {
      throw new PropValidationError(`${prop}.channel`, this.channel, "a Slack channel such as '#alerts'");
    }
    const ref = { name: secretName, key: this.secret.key };
    switch (this.kind) {
      case AlertReceiverKind.SLACK:
        return {
          name,
          slackConfigs: [{
            apiURL: ref,
            ...(this.channel ? { channel: this.channel } : {}),
            sendResolved: true,
            title: SLACK_TITLE,
            text: SLACK_TEXT,
          }],
        };
      case AlertReceiverKind.PAGERDUTY:
        return { name, pagerdutyConfigs: [{ routingKey: ref, sendResolved: true }] };
      default:
        return { name, webhookConfigs: [{ urlSecret: ref, sendResolved: true }] };
    }
  }
}

/** Slack message: what fired, the support level and its response time, and the runbook. */
const SLACK_TITLE = '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ if .CommonLabels.service }} on {{ .CommonLabels.service }}{{ end }}';
const SLACK_TEXT = [
  '{{ range .Alerts }}*{{ .Annotations.summary }}* (level {{ .Labels.support_level }}, respond within {{ .Annotations.response_time }})',
  '{{ .Annotations.description }}',
  '{{ .Annotations.runbook_url }}',
  '{{ end }}',
].join('\n');
