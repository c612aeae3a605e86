import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { toAlertmanagerYaml } from './alertmanager-config';
import { parseDurationSeconds } from '../../src/core/validate';
import { AlertReceiver, AlertRouting, AlertRoutingProps } from '../../src/observability';
import { SUPPORT_LEVELS } from '../../src/observability/support-levels';
import { validateManifests } from '../../src/validation';

const NS = 'rauli-vision-production';
const SECRET = AlertRouting.DEFAULT_SECRET_NAME;
// Fake Secret contents: the test resolves the Secret key references as the operator would.
// Nothing listens on these ports, so the Alertmanager below fails to notify and carries on.
const FAKE_SECRETS = {
  [`${SECRET}/pager-webhook-url`]: 'http://127.0.0.1:21991/pager',
  [`${SECRET}/slack-webhook-url`]: 'http://127.0.0.1:21991/slack',
  [`${SECRET}/cost-slack-webhook-url`]: 'http://127.0.0.1:21991/cost',
};
const receiver = (name: string) => `${NS}/rauli-vision/${name}`;

function synth(props: AlertRoutingProps = {}): any {
  const chart = new Chart(Testing.app(), 'test', { namespace: NS });
  new AlertRouting(chart, 'routing', { metadata: { name: 'rauli-vision' }, labels: { release: 'kube-prometheus-stack' }, ...props });
  return Testing.synth(chart).find(d => d.kind === 'AlertmanagerConfig');
}

const config = synth();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-am-'));
const amFile = path.join(dir, 'alertmanager.yml');
fs.writeFileSync(amFile, YAML.stringify(toAlertmanagerYaml(config, FAKE_SECRETS)));

function routesTo(labels: { [k: string]: string }): string {
  const args = ['config', 'routes', 'test', `--config.file=${amFile}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  return execFileSync('amtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

describe('AlertRouting', () => {
  test('passes the validation harness (prometheus-operator AlertmanagerConfig model) and carries the release label', () => {
    expect(validateManifests([config]).errors).toEqual([]);
    expect(config.metadata).toMatchObject({ namespace: NS, labels: { release: 'kube-prometheus-stack' } });
  });

  test('receivers read their URLs from Secret keys: no URL or address in the manifest', () => {
    const text = JSON.stringify(config);
    expect(text).not.toMatch(/https?:\/\//);
    expect(text).not.toMatch(/@[a-z0-9-]+\./);
    expect(config.spec.receivers).toEqual([
      { name: 'pager', webhookConfigs: [{ urlSecret: { name: SECRET, key: 'pager-webhook-url' }, sendResolved: true }] },
      expect.objectContaining({ name: 'chat', slackConfigs: [expect.objectContaining({ apiURL: { name: SECRET, key: 'slack-webhook-url' } })] }),
      expect.objectContaining({ name: 'cost-owners', slackConfigs: [expect.objectContaining({ apiURL: { name: SECRET, key: 'cost-slack-webhook-url' } })] }),
    ]);
  });

  test('amtool check-config accepts the generated configuration', () => {
    const out = execFileSync('amtool', ['check-config', amFile], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
    expect(out).toMatch(/Found:\s*\n.*- global config/);
  });

  // One case per support level: critical levels page, warning levels go to chat.
  test.each(SUPPORT_LEVELS.map(l => [l.level, l.severity, l.severity === 'critical' ? 'pager' : 'chat']))(
    'amtool: support level %i (%s) goes to %s', (level, severity, expected) => {
      expect(routesTo({ alertname: 'X', namespace: NS, service: 'backend-go', severity: String(severity), support_level: String(level) }))
        .toBe(receiver(String(expected)));
    });

  test.each(SUPPORT_LEVELS.map(l => [l.level, l.severity]))('amtool: a budget alert at level %i (%s) goes to the cost owners', (level, severity) => {
    expect(routesTo({ alertname: 'MonthlyBudget', namespace: NS, category: 'budget', severity: String(severity), support_level: String(level) }))
      .toBe(receiver('cost-owners'));
  });

  test('amtool: a critical alert without a support level still pages; anything else falls to chat', () => {
    expect(routesTo({ alertname: 'X', namespace: NS, severity: 'critical' })).toBe(receiver('pager'));
    expect(routesTo({ alertname: 'X', namespace: NS, severity: 'info' })).toBe(receiver('chat'));
  });

  test('amtool: alerts of another namespace never reach this environment\'s receivers', () => {
    expect(routesTo({ alertname: 'X', namespace: 'rauli-vision-staging', severity: 'critical', support_level: '4' })).toBe('null');
  });

  test('each level\'s route has its timers; a page repeats within the response time; grouped by service', () => {
    const levels = config.spec.route.routes.filter((r: any) => r.matchers.some((m: any) => m.name === 'support_level') && r.receiver !== 'cost-owners');
    expect(levels.map((r: any) => [r.matchers[1].value, r.groupWait, r.repeatInterval])).toEqual(
      SUPPORT_LEVELS.map(l => [String(l.level), l.groupWait, l.repeatInterval]));
    for (const l of SUPPORT_LEVELS.filter(x => x.severity === 'critical')) {
      expect(parseDurationSeconds('repeatInterval', l.repeatInterval)).toBeLessThanOrEqual(parseDurationSeconds('responseTime', l.responseTime));
    }
    expect(config.spec.route.groupBy).toEqual(['service']);
  });

  describe('inhibition, in a real Alertmanager', () => {
    const port = 21093;
    let am: ChildProcess;
    const api = `http://127.0.0.1:${port}/api/v2`;

    beforeAll(async () => {
      am = spawn('prometheus-alertmanager', [
        `--config.file=${amFile}`, `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
      ], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        try {
          if ((await fetch(`${api}/status`)).ok) return;
        } catch { /* not up yet */ }
        await new Promise(r => setTimeout(r, 100));
      }
      throw new Error('alertmanager did not start');
    });
    afterAll(() => { am?.kill(); });

    test('a critical alert mutes the warnings of its service only; one without a service mutes nothing', async () => {
      const alert = (alertname: string, severity: string, service?: string) => ({
        labels: { alertname, namespace: NS, severity, support_level: severity === 'critical' ? '4' : '2', ...(service ? { service } : {}) },
      });
      const post = await fetch(`${api}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          alert('HighErrorRate', 'critical', 'backend-go'),
          alert('HighResponseTime', 'warning', 'backend-go'),
          alert('HighResponseTime', 'warning', 'frontend'),
          alert('PostgresDown', 'critical'),
          alert('PodCrashLooping', 'warning'),
        ]),
      });
      expect(post.ok).toBe(true);
      let inhibited: string[] = [];
      for (let i = 0; i < 50; i++) {
        const alerts = await (await fetch(`${api}/alerts`)).json() as any[];
        inhibited = alerts.filter(a => a.status.inhibitedBy.length > 0).map(a => `${a.labels.alertname}/${a.labels.service ?? '-'}`);
        if (alerts.length === 5 && inhibited.length > 0) break;
        await new Promise(r => setTimeout(r, 100));
      }
      expect(inhibited.sort()).toEqual(['HighResponseTime/backend-go']);
    });
  });

  test.each<[string, () => AlertRoutingProps, string]>([
    ['a receiver without a Secret', () => ({ pager: AlertReceiver.webhook({ secretName: '', key: 'url' }) }), 'pager.secretName'],
    ['a receiver whose Secret is not named', () => ({ chat: AlertReceiver.slack({ secretName: undefined as any, key: 'url' }) }), 'chat.secretName'],
    ['a bad Secret key', () => ({ costOwners: AlertReceiver.slack({ secretName: 's', key: 'a/b' }) }), 'costOwners.key'],
    ['a bad channel', () => ({ chat: AlertReceiver.slack({ secretName: 's', key: 'k', channel: 'https://hooks.slack.com/x' }) }), 'chat.channel'],
    ['no group labels', () => ({ groupBy: [] }), 'groupBy'],
  ])('rejects %s, naming the prop', (_name, props, prop) => {
    expect(() => synth(props())).toThrow(new RegExp(`Invalid ${prop.replace('.', '\\.')}`));
  });
});
