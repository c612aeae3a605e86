import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { LOG_PIPELINE, prepareRulesDir, promtool, RULE_TESTS_DIR, synthPrometheusRule, TEST_NAMESPACE } from './promtool';
import { Slo } from '../../src/conventions';
import { AlertRules } from '../../src/observability';
import { bucketMatcher } from '../../src/observability/promql';
import { SUPPORT_LEVELS } from '../../src/observability/support-levels';
import { validateManifests } from '../../src/validation';

const RUNBOOKS = path.join(__dirname, '..', '..', 'docs', 'runbooks', 'alerts.md');

const alertsOf = (rule: any): any[] => rule.spec.groups.flatMap((g: any) => g.rules.filter((r: any) => r.alert));
const exprOf = (rule: any, alert: string): string => alertsOf(rule).find(r => r.alert === alert).expr;

describe('AlertRules', () => {
  const rule = synthPrometheusRule({ labels: { release: 'kube-prometheus-stack' }, logPipeline: LOG_PIPELINE });

  test('passes the validation harness (prometheus-operator CRD schema)', () => {
    expect(validateManifests([rule]).errors).toEqual([]);
  });

  test('carries the release label kube-prometheus-stack selects rules by', () => {
    expect(rule.metadata.labels).toEqual({ release: 'kube-prometheus-stack' });
    expect(rule.metadata.namespace).toBe(TEST_NAMESPACE);
  });

  test('promtool check rules accepts the synthesized rules', () => {
    const { dir } = prepareRulesDir(rule);
    // promtool also lints (duplicate rules): its verdict must be SUCCESS.
    const out = promtool(['check', 'rules', 'rules.yml'], dir);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: every unit-test file in test/observability/rules passes', () => {
    const { dir, testFiles } = prepareRulesDir(rule);
    expect(testFiles.length).toBeGreaterThan(0);
    const out = promtool(['test', 'rules', ...testFiles], dir);
    expect(out.match(/SUCCESS/g)?.length).toBe(testFiles.length);
  });

  test('the unit tests cover every alert firing and not firing', () => {
    const cases = new Map<string, { firing: number; silent: number }>();
    for (const f of fs.readdirSync(RULE_TESTS_DIR).filter(n => n.endsWith('.test.yml'))) {
      const doc = YAML.parse(fs.readFileSync(path.join(RULE_TESTS_DIR, f), 'utf8'));
      expect(doc.rule_files).toEqual(['rules.yml']);
      expect(doc.group_eval_order).toEqual(rule.spec.groups.map((g: any) => g.name));
      for (const t of doc.tests) {
        for (const c of t.alert_rule_test ?? []) {
          const entry = cases.get(c.alertname) ?? { firing: 0, silent: 0 };
          if ((c.exp_alerts ?? []).length > 0) entry.firing++; else entry.silent++;
          cases.set(c.alertname, entry);
        }
      }
    }
    const names = alertsOf(rule).map(r => r.alert);
    expect(names.length).toBeGreaterThanOrEqual(16);
    for (const name of names) {
      expect({ name, ...cases.get(name) }).toEqual({ name, firing: expect.any(Number), silent: expect.any(Number) });
      expect(cases.get(name)!.firing).toBeGreaterThan(0);
      expect(cases.get(name)!.silent).toBeGreaterThan(0);
    }
    // No test names an alert that does not exist (a typo would silently test nothing).
    expect([...cases.keys()].filter(n => !names.includes(n))).toEqual([]);
  });

  test('every alert has a support level, its severity and response time, summary, description and a runbook section', () => {
    const runbooks = fs.readFileSync(RUNBOOKS, 'utf8');
    for (const r of alertsOf(rule)) {
      const level = SUPPORT_LEVELS.find(l => String(l.level) === r.labels.support_level);
      expect(level).toBeDefined();
      expect(r.labels.severity).toBe(level!.severity);
      expect(r.annotations.response_time).toBe(level!.responseTime);
      // The AlertmanagerConfig of the namespace only receives alerts labelled with it.
      expect(r.labels.namespace).toBe(TEST_NAMESPACE);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'response_time', 'runbook_url', 'summary']);
      expect(r.annotations.runbook_url).toBe(`https://github.com/rauli-vision/rauli-vision/blob/main/docs/runbooks/alerts.md#${r.alert.toLowerCase()}`);
      // GitHub's anchor for "## HighErrorRate" is "#higherrorrate".
      expect(runbooks).toMatch(new RegExp(`^## ${r.alert}$`, 'm'));
    }
  });

  test('the runbook\'s tables of support levels say what the rules and SUPPORT_LEVELS say', () => {
    const runbooks = fs.readFileSync(RUNBOOKS, 'utf8');
    const documented = new Map<string, string>();
    for (const m of runbooks.matchAll(/^\| ([A-Z][A-Za-z, ]+) \| ([1-4]) \|$/gm)) {
      for (const name of m[1].split(', ')) documented.set(name, m[2]);
    }
    const actual = new Map<string, string>(alertsOf(rule).map(r => [r.alert, r.labels.support_level]));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual));
    for (const l of SUPPORT_LEVELS) {
      expect(runbooks).toMatch(new RegExp(`^\\| ${l.level} \\| ${l.name.replace(/[()]/g, '.')} \\| ${l.severity} \\|`, 'm'));
    }
  });

  test('the guide\'s ratios are aggregated per service, not divided series by series', () => {
    expect(exprOf(rule, 'HighErrorRate')).toBe([
      `sum by (service) (rate(http_requests_total{namespace="${TEST_NAMESPACE}",status=~"5.."}[5m]))`,
      '/',
      `sum by (service) (rate(http_requests_total{namespace="${TEST_NAMESPACE}"}[5m]))`,
      `> ${Slo.HIGH_ERROR_RATE}`,
    ].join('\n'));
    expect(exprOf(rule, 'HighResponseTime')).toBe(
      `histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{namespace="${TEST_NAMESPACE}"}[5m])))\n> ${Slo.HIGH_RESPONSE_TIME_SECONDS}`,
    );
    expect(exprOf(rule, 'DatabaseConnectionsHigh')).toMatch(/^sum by \(instance\) \(pg_stat_database_numbackends\{[^}]*\}\)\n\/\nmax by \(instance\) \(pg_settings_max_connections\{[^}]*\}\)\n> 0\.8$/);
  });

  test('the latency SLO reads the histogram bucket equal to Slo.LATENCY_P95_SECONDS', () => {
    const recording = rule.spec.groups[0].rules.map((r: any) => r.expr).join('\n');
    expect(recording).toContain(`le="${Slo.LATENCY_P95_SECONDS}"`);
    expect(bucketMatcher('x', 0.2)).toBe('le="0.2"');
    // Prometheus 3 writes integral bounds as "1.0": both spellings match.
    expect(bucketMatcher('x', 1)).toBe('le=~"1(\\\\.0)?"');
    expect(() => bucketMatcher('Slo.LATENCY_P95_SECONDS', 0.3333)).toThrow(/Invalid Slo.LATENCY_P95_SECONDS: 0.3333. Expected one of the MetricNames.HTTP_DURATION_BUCKETS boundaries/);
  });

  test('burn-rate alerts follow the SRE workbook windows and factors', () => {
    const fast = exprOf(rule, 'ErrorBudgetBurnFast');
    expect(fast).toContain('service:http_requests_total:error_ratio_rate1h > (14.4 * 0.001)');
    expect(fast).toContain('service:http_requests_total:error_ratio_rate5m > (14.4 * 0.001)');
    expect(fast).toContain('service:http_requests_total:error_ratio_rate6h > (6 * 0.001)');
    expect(fast).toContain('service:http_requests_total:error_ratio_rate30m > (6 * 0.001)');
    const slow = exprOf(rule, 'LatencyBudgetBurnSlow');
    expect(slow).toContain('service:http_request_duration_seconds:slow_ratio_rate1d > (3 * 0.05)');
    expect(slow).toContain('service:http_request_duration_seconds:slow_ratio_rate3d > (1 * 0.05)');
    expect(slow).toContain('service:http_request_duration_seconds:slow_ratio_rate6h > (1 * 0.05)');
  });

  test('without a namespace the rules watch every namespace; watchNamespace overrides the chart\'s', () => {
    const clusterWide = synthPrometheusRule({}, null);
    expect(YAML.stringify(clusterWide.spec)).not.toContain('namespace=');
    const other = synthPrometheusRule({ watchNamespace: 'shop' });
    expect(exprOf(other, 'PodCrashLooping')).toContain('namespace="shop"');
    expect(other.metadata.namespace).toBe(TEST_NAMESPACE);
  });

  test('settings reach the expressions', () => {
    const custom = synthPrometheusRule({
      backupWindows: [{ cronJobPattern: 'wal-archive', maxAge: '15m' }, { cronJobPattern: 'pg-dump\\..*|wal-archive', maxAge: '2h' }],
      replicationLagSeconds: 300,
      certificateExpiryDays: 21,
      runbookBaseUrl: 'https://runbooks.example.com/rauli',
    });
    const backupRules = alertsOf(custom).filter(r => r.alert === 'BackupNotRun');
    expect(backupRules).toHaveLength(2);
    expect(backupRules[0].expr).toContain('kube_cronjob_status_last_successful_time{namespace="rauli-vision",cronjob=~"wal-archive"}) > 900');
    // The second window leaves out the CronJobs of the first; the regex backslash is escaped for PromQL.
    expect(backupRules[1].expr).toContain('{namespace="rauli-vision",cronjob=~"pg-dump\\\\..*|wal-archive",cronjob!~"wal-archive"}) > 7200');
    expect(backupRules[1].annotations.description).toContain('(allowed 2h)');
    expect(exprOf(custom, 'BackupJobFailed')).toContain('owner_name=~"wal-archive|pg-dump\\\\..*|wal-archive"');
    expect(exprOf(custom, 'PostgresReplicationLag')).toMatch(/> 300$/);
    expect(exprOf(custom, 'CertificateExpiringSoon')).toContain(`< ${21 * 86400}`);
    expect(alertsOf(custom)[0].annotations.runbook_url).toBe('https://runbooks.example.com/rauli#higherrorrate');
  });

  test.each([
    [{ backupWindows: [{ cronJobPattern: 'x', maxAge: '1 day' }] }, /Invalid backupWindows\[0\].maxAge: "1 day". Expected a duration/],
    [{ backupWindows: [{ cronJobPattern: 'backup(', maxAge: '1h' }] }, /Invalid backupWindows\[0\].cronJobPattern: "backup\(". Expected a regular expression/],
    [{ backupWindows: [] }, /Invalid backupWindows: \[\]. Expected at least one window/],
    [{ replicationLagSeconds: 0 }, /Invalid replicationLagSeconds: 0. Expected an integer from 1/],
    [{ certificateExpiryDays: 90 }, /Invalid certificateExpiryDays: 90. Expected an integer from 1 to 60/],
    [{ runbookBaseUrl: 'docs/runbooks.md' }, /Invalid runbookBaseUrl: "docs\/runbooks.md". Expected an http\(s\) URL/],
  ])('rejects invalid props %j', (props, message) => {
    const chart = new Chart(Testing.app(), 'bad');
    expect(() => new AlertRules(chart, 'rules', props)).toThrow(message);
  });

  test('alertNames lists every alert in rule order', () => {
    const chart = new Chart(Testing.app(), 'names', { namespace: TEST_NAMESPACE });
    const rules = new AlertRules(chart, 'rules');
    expect(rules.alertNames).toEqual([...new Set(alertsOf(Testing.synth(chart)[0]).map(r => r.alert))]);
  });
});
