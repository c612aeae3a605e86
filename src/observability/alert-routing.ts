import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { AlertReceiver } from './alert-receiver';
import { BUDGET_CATEGORY, CATEGORY_LABEL, SUPPORT_LEVEL_LABEL, SUPPORT_LEVELS, SupportLevel } from './support-levels';
import { PropValidationError } from '../core/validate';

/** Props of {@link AlertRouting}. */
export interface AlertRoutingProps {
  /**
   * Receives `critical` alerts (support levels 3 and 4): the on-call pager.
   * @default AlertReceiver.webhook({ secretName: AlertRouting.DEFAULT_SECRET_NAME, key: 'pager-webhook-url' })
   */
  readonly pager?: AlertReceiver;
  /**
   * Receives `warning` alerts (support levels 1 and 2).
   * @default AlertReceiver.slack({ secretName: AlertRouting.DEFAULT_SECRET_NAME, key: 'slack-webhook-url' })
   */
  readonly chat?: AlertReceiver;
  /**
   * Receives budget alerts (label `category: budget`) at any severity: the cost owners.
   * @default AlertReceiver.slack({ secretName: AlertRouting.DEFAULT_SECRET_NAME, key: 'cost-slack-webhook-url' })
   */
  readonly costOwners?: AlertReceiver;
  /**
   * Labels alerts are grouped by: one notification per group.
   * @default ['service']
   */
  readonly groupBy?: string[];
  /**
   * Labels of the AlertmanagerConfig, e.g. the release label that
   * kube-prometheus-stack's `alertmanagerConfigSelector` matches.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Metadata of the AlertmanagerConfig.
   * @default - a generated name in the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
}

/** Alert routing as a chart option. */
export interface AlertingOptions extends AlertRoutingProps {
  /**
   * Emit the AlertmanagerConfig.
   * @default - whenever monitoring is enabled (both need prometheus-operator's CRDs)
   */
  readonly enabled?: boolean;
}

/** Names of the receivers in the config (Alertmanager shows them as `<namespace>/<config>/<name>`). */
const RECEIVERS = { pager: 'pager', chat: 'chat', costOwners: 'cost-owners' };

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Alert routing for one environment, as a prometheus-operator
 * AlertmanagerConfig in the chart's namespace: critical alerts page on-call,
 * warnings go to chat, budget alerts to the cost owners; each support level
 * has its own timers; alerts are grouped by service, and a critical alert
 * silences the warnings of the same service while it fires.
 *
 * The operator only feeds it alerts whose `namespace` label is the config's
 * namespace (its OnNamespace strategy): AlertRules puts that label on every
 * rule. Receivers' URLs and keys come from Secret keys the operator reads.
 */
export class AlertRouting extends Construct {
  /** API version of the prometheus-operator CRD. */
  public static readonly API_VERSION = 'monitoring.coreos.com/v1alpha1';
  /** Kind of the prometheus-operator CRD. */
  public static readonly KIND = 'AlertmanagerConfig';
  /** Secret the default receivers read, created outside the manifests. */
  public static readonly DEFAULT_SECRET_NAME = 'rauli-vision-alerting';

  /** The AlertmanagerConfig (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: AlertRoutingProps = {}) {
    super(scope, id);
    const groupBy = this.validateGroupBy(props.groupBy ?? ['service']);
    const receivers = this.buildReceivers(props);
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: AlertRouting.API_VERSION,
      kind: AlertRouting.KIND,
      metadata: { ...props.metadata, labels: { ...props.metadata?.labels, ...props.labels } },
      spec: {
        route: this.buildRoute(groupBy),
        receivers,
        inhibitRules: this.buildInhibitRules(),
      },
    });
  }

  private validateGroupBy(groupBy: string[]): string[] {
    if (groupBy.length === 0) throw new PropValidationError('groupBy', groupBy, 'at least one label name');
    for (const l of groupBy) {
      if (!LABEL_NAME.test(l)) throw new PropValidationError('groupBy[]', l, 'a Prometheus label name');
    }
    return groupBy;
  }

  private buildReceivers(props: AlertRoutingProps): any[] {
    const secretName = AlertRouting.DEFAULT_SECRET_NAME;
    const R = RECEIVERS;
    return [
      (props.pager ?? AlertReceiver.webhook({ secretName, key: 'pager-webhook-url' }))._render('pager', R.pager),
      (props.chat ?? AlertReceiver.slack({ secretName, key: 'slack-webhook-url' }))._render('chat', R.chat),
      (props.costOwners ?? AlertReceiver.slack({ secretName, key: 'cost-slack-webhook-url' }))._render('costOwners', R.costOwners),
    ];
  }

  /**
   * Budget alerts first (they go to the cost owners whatever their severity),
   * then one route per support level; unlabelled critical alerts still page
   * with level 3's timers, everything else falls through to chat.
   */
  private buildRoute(groupBy: string[]): any {
    const R = RECEIVERS;
    const eq = (name: string, value: string) => ({ name, value, matchType: '=' });
    const timers = (l: SupportLevel) => ({ groupWait: l.groupWait, groupInterval: l.groupInterval, repeatInterval: l.repeatInterval });
    const receiverOf = (l: SupportLevel) => (l.severity === 'critical' ? R.pager : R.chat);
    const byLevel = (receiver: (l: SupportLevel) => string) => SUPPORT_LEVELS.map(l => ({
      receiver: receiver(l),
      matchers: [eq('severity', l.severity), eq(SUPPORT_LEVEL_LABEL, String(l.level))],
      ...timers(l),
    }));
    const lowest = SUPPORT_LEVELS[SUPPORT_LEVELS.length - 1];
    const unlabelledCritical = SUPPORT_LEVELS.find(l => l.level === 3)!;
    return {
      receiver: R.chat,
      groupBy,
      ...timers(lowest),
      routes: [
        { receiver: R.costOwners, matchers: [eq(CATEGORY_LABEL, BUDGET_CATEGORY)], routes: byLevel(() => R.costOwners) },
        ...byLevel(receiverOf),
        { receiver: R.pager, matchers: [eq('severity', 'critical')], ...timers(unlabelledCritical) },
      ],
    };
  }

  /**
   * A critical alert mutes the warnings of the same service. The source must
   * have a service label: Alertmanager treats a label missing on both sides
   * as equal, so a critical alert without one (PostgresDown) would otherwise
   * mute every warning that has none.
   */
  private buildInhibitRules(): any[] {
    return [{
      sourceMatch: [{ name: 'severity', value: 'critical', matchType: '=' }, { name: 'service', value: '.+', matchType: '=~' }],
      targetMatch: [{ name: 'severity', value: 'warning', matchType: '=' }],
      equal: ['service'],
    }];
  }
}
