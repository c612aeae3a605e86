import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { Chart, Testing } from 'cdk8s';
import * as ts from 'typescript';
import { MetricNames, ServiceConventions, Slo } from '../../src/conventions';
import { ExporterMetrics, Monitoring } from '../../src/observability';
import { HttpLabels } from '../../src/observability/promql';

const KOA_DIR = path.join(__dirname, '..', '..', 'packages', 'koa');
const KOA_CONVENTIONS = path.join(KOA_DIR, 'src', 'conventions.generated.ts');

/** Loads the Koa package's generated conventions the way Node would run them. */
function koaConventions(): any {
  const js = ts.transpileModule(fs.readFileSync(KOA_CONVENTIONS, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
  const module = { exports: {} as any };
  vm.runInNewContext(js, { module, exports: module.exports });
  return module.exports;
}

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression reads (series selectors, not functions or labels). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w:])[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?(?![\w:])/gi, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = stripped.slice(m.index! + m[0].length);
    if (/^\s*\(/.test(rest) || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return [...new Set(names)];
}

describe('metric names stay in step across the conventions, the Koa package, rules and dashboards', () => {
  const chart = new Chart(Testing.app(), 'names', { namespace: 'rauli-vision' });
  new Monitoring(chart, 'monitoring', { cost: { hourlyCostMetric: 'node_total_hourly_cost' } });
  const docs = Testing.synth(chart);
  const rule = docs.find(d => d.kind === 'PrometheusRule');
  const recorded = rule.spec.groups.flatMap((g: any) => g.rules.filter((r: any) => r.record).map((r: any) => r.record));
  const ruleExprs: string[] = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr));
  const dashboardExprs: string[] = docs.filter(d => d.kind === 'ConfigMap').flatMap(cm => {
    const dashboard = JSON.parse(Object.values(cm.data)[0] as string);
    return dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
  });
  const used = [...new Set([...ruleExprs, ...dashboardExprs].flatMap(metricNamesIn))].sort();

  const appMetric = (name: string) => /^(http_|rate_limit_|cache_)/.test(name);
  const histogramFamily = (name: string) => name.replace(/_(bucket|count|sum)$/, '');

  test('the extractor finds series names and skips functions, labels and keywords', () => {
    expect(metricNamesIn('sum by (service, le) (rate(http_request_duration_seconds_bucket{status=~"5..",x="a{b}"}[5m])) > 1e3 and on (pod) up'))
      .toEqual(['http_request_duration_seconds_bucket', 'up']);
    expect(metricNamesIn('(time() - kube_cronjob_created{cronjob=~"a|b"}) > 90000')).toEqual(['kube_cronjob_created']);
  });

  test('the Koa package\'s generated conventions equal src/conventions', () => {
    const koa = koaConventions();
    expect(koa.MetricNames).toEqual({ ...MetricNames });
    expect(koa.ServiceConventions).toEqual({ ...ServiceConventions });
    expect(koa.Slo).toEqual({ ...Slo });
  });

  test('every metric the rules and dashboards read is a known name', () => {
    const koaNames = new Set(Object.values(koaConventions().MetricNames).filter(v => typeof v === 'string'));
    const srcNames = new Set(Object.values(MetricNames).filter(v => typeof v === 'string'));
    const exporterNames = new Set<string>(Object.values(ExporterMetrics));
    const unknown = used.filter(n => {
      if (appMetric(n)) return !(srcNames.has(histogramFamily(n)) && koaNames.has(histogramFamily(n)));
      return !exporterNames.has(n) && !recorded.includes(n) && n !== 'node_total_hourly_cost';
    });
    expect(unknown).toEqual([]);
    // The HTTP metrics the guide's alerts are about are really used.
    expect(used).toEqual(expect.arrayContaining([
      MetricNames.HTTP_REQUESTS_TOTAL, `${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_bucket`, `${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_count`,
    ]));
  });

  test('the Koa metrics middleware exposes those names, labels and the SLO buckets on the metrics path', () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-koa-')), 'exposition.js');
    fs.writeFileSync(script, `
      const { createHttpMetrics, startMetricsServer } = require(process.argv[2]);
      (async () => {
        const m = createHttpMetrics({ collectDefaultMetrics: false });
        await m.middleware({ method: 'GET', status: 200, _matchedRoute: '/api/items/:id' }, async () => {});
        await m.middleware({ method: 'POST', status: 503, _matchedRoute: '/api/items' }, async () => {});
        const server = await startMetricsServer({ registry: m.registry, port: 0, host: '127.0.0.1' });
        const res = await fetch('http://127.0.0.1:' + server.address().port + process.argv[3]);
        process.stdout.write(await res.text());
        server.close();
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script, path.join(KOA_DIR, 'src', 'metrics'), ServiceConventions.METRICS_PATH], {
      cwd: KOA_DIR, encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: path.join(KOA_DIR, 'tsconfig.json') },
    });
    const series = out.split('\n').filter(l => l && !l.startsWith('#')).map(l => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(l)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(x => [x[1], x[2]]));
      return { name: m[1], labels };
    });
    const names = new Set(series.map(s => s.name));
    for (const n of used.filter(u => /^http_/.test(u))) expect(names).toContain(n);

    const failed = series.find(s => s.name === MetricNames.HTTP_REQUESTS_TOTAL && s.labels[HttpLabels.STATUS] === '503');
    expect(Object.keys(failed!.labels).sort()).toEqual([HttpLabels.METHOD, HttpLabels.ROUTE, HttpLabels.STATUS].sort());
    // The rules select 5xx with status=~"5.." and the SLO bucket with le="0.2".
    expect(failed!.labels[HttpLabels.STATUS]).toMatch(/^5..$/);
    const bounds = series.filter(s => s.name === `${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_bucket`).map(s => s.labels.le);
    expect(bounds).toContain(String(Slo.LATENCY_P95_SECONDS));
    expect(bounds).toContain(String(Slo.HIGH_RESPONSE_TIME_SECONDS));
  });
});
