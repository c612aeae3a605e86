import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { promtool } from './promtool';
import { MetricNames, Slo } from '../../src/conventions';
import { CostDashboard, DataTierDashboard, GrafanaDashboard, ProductionDashboard } from '../../src/observability';
import { validateManifests } from '../../src/validation';

const NS = 'rauli-vision-production';
const PANEL_TYPES = ['timeseries', 'stat', 'piechart'];
/** Variables Grafana defines itself. */
const BUILTIN_VARIABLES = ['__rate_interval', '__interval', '__range'];

type Kind = typeof ProductionDashboard | typeof CostDashboard | typeof DataTierDashboard;

function synth(kind: Kind, props: any = {}, namespace: string | null = NS): { configMap: any; dashboard: any } {
  const chart = new Chart(Testing.app(), 'test', { namespace: namespace ?? undefined });
  new kind(chart, 'dashboard', props);
  const [configMap] = Testing.synth(chart);
  const keys = Object.keys(configMap.data);
  expect(keys).toHaveLength(1);
  return { configMap, dashboard: JSON.parse(configMap.data[keys[0]]) };
}

/** Checks a dashboard model the way Grafana's loader needs it; returns its problems. */
function structureErrors(d: any): string[] {
  const errors: string[] = [];
  const check = (ok: boolean, msg: string) => { if (!ok) errors.push(msg); };
  check(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 36, 'schemaVersion is an integer >= 36');
  check(/^[A-Za-z0-9_-]{1,40}$/.test(d.uid), 'uid has 1-40 allowed characters');
  check(typeof d.title === 'string' && d.title.length > 0, 'title is set');
  check(Array.isArray(d.panels) && d.panels.length > 0, 'panels exist');
  const variables = new Set(d.templating.list.map((v: any) => v.name));
  check(variables.has('datasource') && d.templating.list.find((v: any) => v.name === 'datasource').type === 'datasource', 'datasource variable');
  const ids = new Set<number>();
  const cells = new Set<string>();
  for (const p of d.panels) {
    const where = `panel "${p.title}"`;
    check(PANEL_TYPES.includes(p.type), `${where}: type ${p.type} is current (not graph/singlestat)`);
    check(Number.isInteger(p.id) && !ids.has(p.id), `${where}: unique integer id`);
    ids.add(p.id);
    check(p.datasource?.type === 'prometheus' && p.datasource?.uid === '${datasource}', `${where}: datasource`);
    check(Array.isArray(p.targets) && p.targets.length > 0, `${where}: targets`);
    const refIds = new Set<string>();
    for (const t of p.targets ?? []) {
      check(typeof t.expr === 'string' && t.expr.length > 0, `${where}: target expr`);
      check(/^[A-Z]$/.test(t.refId) && !refIds.has(t.refId), `${where}: unique refId`);
      refIds.add(t.refId);
      check(t.datasource?.uid === '${datasource}', `${where}: target datasource`);
      for (const m of t.expr.matchAll(/\$\{?(\w+)/g)) {
        check(variables.has(m[1]) || BUILTIN_VARIABLES.includes(m[1]), `${where}: variable $${m[1]} is defined`);
      }
    }
    const g = p.gridPos;
    check(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `${where}: gridPos inside the 24-column grid`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        check(!cells.has(`${x},${y}`), `${where}: does not overlap another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
    check(typeof p.fieldConfig?.defaults?.unit === 'string', `${where}: unit`);
  }
  return [...new Set(errors)];
}

const panel = (d: any, title: string) => {
  const p = d.panels.find((x: any) => x.title === title);
  if (!p) throw new Error(`no panel "${title}" in ${d.panels.map((x: any) => x.title).join(', ')}`);
  return p;
};

describe.each([
  ['ProductionDashboard', ProductionDashboard, 'rauli-vision-production', 'RAULI-VISION Production', ['Request Rate', 'Response Time (p95)', 'Error Rate']],
  ['CostDashboard', CostDashboard, 'rauli-vision-cost', 'RAULI-VISION Cost Analysis', ['Monthly Cloud Costs', 'Cost per Service', 'Resource Utilization']],
  ['DataTierDashboard', DataTierDashboard, 'rauli-vision-data', 'RAULI-VISION Data Tier', ['PostgreSQL Connections', 'Replication Lag', 'Redis Memory', 'Redis Operations']],
] as const)('%s', (_name, kind, baseUid, baseTitle, guidePanels) => {
  const { configMap, dashboard } = synth(kind);

  test('is a ConfigMap the Grafana sidecar loads, passing the validation harness', () => {
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.metadata.labels).toEqual({ grafana_dashboard: '1' });
    expect(configMap.metadata.namespace).toBe(NS);
    expect(Object.keys(configMap.data)).toEqual([`${dashboard.uid}.json`]);
    expect(validateManifests([configMap]).errors).toEqual([]);
  });

  test('is a structurally valid Grafana dashboard', () => {
    expect(structureErrors(dashboard)).toEqual([]);
  });

  test('has the expected panels, uid and title', () => {
    for (const title of guidePanels) panel(dashboard, title);
    // `<base>-<namespace>` is longer than 40 characters here: shortened with a hash.
    expect(dashboard.uid).toMatch(new RegExp(`^${baseUid}-r[a-z-]*[a-z]-[0-9a-f]{8}$`));
    expect(dashboard.uid.length).toBeLessThanOrEqual(40);
    expect(dashboard.title).toBe(`${baseTitle} (${NS})`);
    expect(dashboard.templating.list.find((v: any) => v.name === 'namespace').current.value).toBe(NS);
  });

  test('without a namespace it keeps the guide\'s title and base uid', () => {
    const { dashboard: plain } = synth(kind, {}, null);
    expect(plain.uid).toBe(baseUid);
    expect(plain.title).toBe(baseTitle);
    expect(structureErrors(plain)).toEqual([]);
  });

  test('label, folder, uid and title are settable', () => {
    const { configMap: cm, dashboard: d } = synth(kind, {
      labelKey: 'grafana.io/dashboard', labelValue: 'rauli', folder: 'RAULI-VISION', uid: 'custom-uid', title: 'Custom',
    });
    expect(cm.metadata.labels).toEqual({ 'grafana.io/dashboard': 'rauli' });
    expect(cm.metadata.annotations).toEqual({ grafana_folder: 'RAULI-VISION' });
    expect(d.uid).toBe('custom-uid');
    expect(d.title).toBe('Custom');
  });
});

describe('dashboard queries', () => {
  const dashboards = [ProductionDashboard, CostDashboard, DataTierDashboard].map(k => synth(k).dashboard);
  const exprs = dashboards.flatMap(d => d.panels.flatMap((p: any) => p.targets.map((t: any) => ({ panel: p.title, expr: t.expr }))));

  test('every query is valid PromQL (promtool parses them as recording rules)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-dash-'));
    const rules = exprs.map((e, i) => ({
      record: `dashboard:query:${i}`,
      // Grafana substitutes its variables before querying; do the same.
      expr: e.expr.replace(/\$__rate_interval/g, '5m').replace(/\$namespace/g, NS).replace(/\$service/g, '.*'),
    }));
    fs.writeFileSync(path.join(dir, 'dashboards.yml'), YAML.stringify({ groups: [{ name: 'dashboards', rules }] }));
    expect(promtool(['check', 'rules', 'dashboards.yml'], dir)).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  test('the guide\'s production queries are fixed: aggregated with sum by, per service', () => {
    const [production] = dashboards;
    expect(panel(production, 'Request Rate').targets[0].expr)
      .toBe(`sum by (method, status) (rate(${MetricNames.HTTP_REQUESTS_TOTAL}{namespace=~"$namespace",service=~"$service"}[$__rate_interval]))`);
    expect(panel(production, 'Request Rate').targets[0].legendFormat).toBe('{{method}} {{status}}');
    expect(panel(production, 'Response Time (p95)').targets[0].expr)
      .toBe(`histogram_quantile(0.95, sum by (service, le) (rate(${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_bucket{namespace=~"$namespace",service=~"$service"}[$__rate_interval])))`);
    const errorRate = panel(production, 'Error Rate');
    expect(errorRate.type).toBe('stat');
    expect(errorRate.targets[0].expr).toMatch(/^sum by \(service\) \(rate\(http_requests_total\{[^}]*status=~"5.."\}\[\$__rate_interval\]\)\)\n\/\nsum by \(service\)/);
    expect(errorRate.fieldConfig.defaults.thresholds.steps.map((s: any) => s.value)).toEqual([null, 1 - Slo.AVAILABILITY, Slo.HIGH_ERROR_RATE]);
    expect(panel(production, 'Response Time (p95)').fieldConfig.defaults.thresholds.steps[1].value).toBe(Slo.LATENCY_P95_SECONDS);
  });

  test('cost panels use metrics a cluster has, not the guide\'s aws_cost_total', () => {
    const cost = dashboards[1];
    const all = cost.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr)).join('\n');
    expect(all).not.toContain('aws_cost_total');
    expect(all).toContain('kube_pod_container_resource_requests');
    expect(all).toContain('container_cpu_usage_seconds_total');
    expect(panel(cost, 'Cost per Service').type).toBe('piechart');
    expect(panel(cost, 'Monthly Cloud Costs').targets).toHaveLength(1);
    expect(panel(cost, 'Monthly Cloud Costs').targets[0].expr).toContain('* 0.04048');
  });

  test('cost prices and an hourly cost metric are settable', () => {
    const { dashboard } = synth(CostDashboard, { cpuCoreHourPrice: 0.03, memoryGibHourPrice: 0.004, hourlyCostMetric: 'node_total_hourly_cost', currencyUnit: 'currencyEUR' });
    const monthly = panel(dashboard, 'Monthly Cloud Costs');
    expect(monthly.targets.map((t: any) => t.expr)[1]).toBe('sum(node_total_hourly_cost) * 730');
    expect(monthly.targets[0].expr).toContain('* 0.03');
    expect(monthly.targets[0].expr).toContain('* 0.004\n');
    expect(monthly.fieldConfig.defaults.unit).toBe('currencyEUR');
  });
});

describe('dashboard identity', () => {
  test('a long namespace still yields a unique uid of at most 40 characters', () => {
    const a = synth(ProductionDashboard, {}, 'rauli-vision-feature-branch-with-a-long-name-1').dashboard.uid;
    const b = synth(ProductionDashboard, {}, 'rauli-vision-feature-branch-with-a-long-name-2').dashboard.uid;
    expect(a.length).toBeLessThanOrEqual(40);
    expect(b.length).toBeLessThanOrEqual(40);
    expect(a).not.toBe(b);
  });

  test.each([
    [{ labelKey: 'not a key' }, /Invalid labelKey: "not a key"/],
    [{ labelValue: 'x'.repeat(64) }, /Invalid labelValue/],
    [{ uid: 'has spaces' }, /Invalid dashboard.uid: "has spaces". Expected 1 to 40 letters/],
    [{ cpuCoreHourPrice: 0 }, /Invalid cpuCoreHourPrice: 0. Expected a positive price/],
    [{ hourlyCostMetric: 'node cost' }, /Invalid hourlyCostMetric: "node cost"/],
  ])('rejects %j', (props, message) => {
    const chart = new Chart(Testing.app(), 'bad', { namespace: NS });
    expect(() => new CostDashboard(chart, 'd', props)).toThrow(message);
  });

  test('GrafanaDashboard takes any dashboard model', () => {
    const chart = new Chart(Testing.app(), 'custom', { namespace: NS });
    const d = new GrafanaDashboard(chart, 'd', { dashboard: { uid: 'mine', title: 'Mine', schemaVersion: 39, panels: [] } });
    expect(d.uid).toBe('mine');
    expect(Object.keys(Testing.synth(chart)[0].data)).toEqual(['mine.json']);
    expect(() => new GrafanaDashboard(chart, 'e', { dashboard: { uid: 'x', title: ' ' } })).toThrow(/Invalid dashboard.title/);
  });
});
