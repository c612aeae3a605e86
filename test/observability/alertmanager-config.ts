/**
 * Test-side stand-in for prometheus-operator: turns an AlertmanagerConfig
 * (monitoring.coreos.com/v1alpha1) into the alertmanager.yml fragment the
 * operator generates from it, so amtool can test the routing. No operator or
 * Kubernetes API server can run here. The conversion follows the operator's
 * documented behaviour for the OnNamespace matcher strategy:
 * - the config's route becomes a child of the root route, with a
 *   `namespace="<config namespace>"` matcher and `continue: true`;
 * - receivers are renamed `<namespace>/<config name>/<receiver>`;
 * - inhibit rules get the namespace matcher on both sides;
 * - Secret key references are resolved (here from `secrets`, fake values).
 */
type Json = any;

const MATCH_OPS: { [op: string]: string } = { '=': '=', '!=': '!=', '=~': '=~', '!~': '!~' };

function matcher(m: { name: string; value: string; matchType?: string }): string {
  const op = MATCH_OPS[m.matchType ?? '='];
  if (!op) throw new Error(`unknown matchType ${m.matchType}`);
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

export function toAlertmanagerYaml(config: Json, secrets: { [secretAndKey: string]: string }): Json {
  const ns: string = config.metadata.namespace;
  const prefix = `${ns}/${config.metadata.name}/`;
  const nsMatcher = `namespace=${JSON.stringify(ns)}`;
  const secret = (ref: { name: string; key: string }) => {
    const v = secrets[`${ref.name}/${ref.key}`];
    if (v === undefined) throw new Error(`Secret ${ns}/${ref.name} has no key ${ref.key} in the test's fake Secrets`);
    return v;
  };

  const route = (r: Json, top: boolean): Json => ({
    receiver: prefix + r.receiver,
    ...(r.groupBy ? { group_by: r.groupBy } : {}),
    ...(r.groupWait ? { group_wait: r.groupWait } : {}),
    ...(r.groupInterval ? { group_interval: r.groupInterval } : {}),
    ...(r.repeatInterval ? { repeat_interval: r.repeatInterval } : {}),
    matchers: [...(top ? [nsMatcher] : []), ...(r.matchers ?? []).map(matcher)],
    continue: top ? true : (r.continue ?? false),
    ...(r.routes ? { routes: r.routes.map((c: Json) => route(c, false)) } : {}),
  });

  const receiver = (r: Json): Json => ({
    name: prefix + r.name,
    ...(r.slackConfigs ? {
      slack_configs: r.slackConfigs.map((c: Json) => ({
        api_url: secret(c.apiURL),
        ...(c.channel ? { channel: c.channel } : {}),
        send_resolved: c.sendResolved,
        title: c.title,
        text: c.text,
      })),
    } : {}),
    ...(r.webhookConfigs ? {
      webhook_configs: r.webhookConfigs.map((c: Json) => ({ url: secret(c.urlSecret), send_resolved: c.sendResolved })),
    } : {}),
    ...(r.pagerdutyConfigs ? {
      pagerduty_configs: r.pagerdutyConfigs.map((c: Json) => ({ routing_key: secret(c.routingKey), send_resolved: c.sendResolved })),
    } : {}),
  });

  return {
    // The operator's root: whatever the cluster's base configuration says; a null receiver here.
    route: { receiver: 'null', group_by: ['namespace'], routes: [route(config.spec.route, true)] },
    receivers: [{ name: 'null' }, ...config.spec.receivers.map(receiver)],
    inhibit_rules: (config.spec.inhibitRules ?? []).map((r: Json) => ({
      source_matchers: [...r.sourceMatch.map(matcher), nsMatcher],
      target_matchers: [...r.targetMatch.map(matcher), nsMatcher],
      equal: r.equal,
    })),
  };
}
