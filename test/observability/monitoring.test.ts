import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Components, ServiceConventions } from '../../src/conventions';
import { PostgresEngine } from '../../src/data';
import { Monitoring, ServiceMonitor } from '../../src/observability';
import { validateManifests } from '../../src/validation';
import { synthEnvironment } from '../platform/support';
import { allCrdFiles } from '../support/crds';

const NS = 'rauli-vision';

/** A chart with one Service exposing a `metrics` port, for the ServiceMonitor to select. */
function chartWithService(): Chart {
  const chart = new Chart(Testing.app(), 'sm', { namespace: NS });
  new k8s.KubeService(chart, 'svc', {
    metadata: { name: 'backend-go', labels: { [Components.LABEL]: Components.BACKEND_GO } },
    spec: {
      selector: { app: 'backend-go' },
      ports: [{
        name: ServiceConventions.METRICS_PORT_NAME,
        port: ServiceConventions.METRICS_PORT,
        targetPort: k8s.IntOrString.fromNumber(ServiceConventions.METRICS_PORT),
      }],
    },
  });
  return chart;
}

const ofKind = (docs: any[], kind: string) => docs.filter(d => d.kind === kind);
const matches = (selector: { [k: string]: string } = {}, labels: { [k: string]: string } = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('ServiceMonitor', () => {
  test('scrapes the named metrics port and path, labelled for kube-prometheus-stack', () => {
    const chart = chartWithService();
    new ServiceMonitor(chart, 'monitor', {
      selector: { [Components.LABEL]: Components.BACKEND_GO },
      labels: { release: 'prometheus' },
      interval: '15s',
    });
    const docs = Testing.synth(chart);
    // The bare Service selects no pods here; only the ServiceMonitor is under test.
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors.filter(e => e.startsWith('ServiceMonitor/'))).toEqual([]);
    const [monitor] = ofKind(docs, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels).toEqual({ release: 'prometheus' });
    expect(monitor.metadata.namespace).toBe(NS);
    expect(monitor.spec).toEqual({
      selector: { matchLabels: { [Components.LABEL]: Components.BACKEND_GO } },
      podTargetLabels: [Components.LABEL],
      endpoints: [{ port: ServiceConventions.METRICS_PORT_NAME, path: ServiceConventions.METRICS_PATH, interval: '15s', scrapeTimeout: '10s' }],
    });
  });

  test('the harness catches a port the selected Service does not have', () => {
    const chart = chartWithService();
    new ServiceMonitor(chart, 'monitor', { selector: { [Components.LABEL]: Components.BACKEND_GO }, port: 'exporter' });
    expect(validateManifests(Testing.synth(chart)).errors.join('\n')).toContain('endpoint port "exporter" is not a named port');
  });

  test.each([
    [{ selector: {} }, /Invalid selector: \{\}. Expected at least one Service label/],
    [{ selector: { a: 'b' }, path: 'metrics' }, /Invalid path: "metrics". Expected an absolute HTTP path/],
    [{ selector: { a: 'b' }, port: 'Metrics_Port' }, /Invalid port: "Metrics_Port"/],
    [{ selector: { a: 'b' }, interval: '30 s' }, /Invalid interval: "30 s". Expected a duration/],
    [{ selector: { a: 'b' }, interval: '10s', scrapeTimeout: '15s' }, /Invalid scrapeTimeout: "15s". Expected a duration no longer than interval \(10s\)/],
  ])('rejects %j', (props, message) => {
    expect(() => new ServiceMonitor(new Chart(Testing.app(), 'bad'), 'm', props)).toThrow(message);
  });
});

describe('Monitoring in RauliVisionChart', () => {
  const docs = synthEnvironment('production');

  test('the whole production chart, monitoring included, passes the validation harness', () => {
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
  });

  test('emits ServiceMonitors for the three services and both exporters, the PrometheusRule and three dashboards', () => {
    const monitors = ofKind(docs, 'ServiceMonitor');
    expect(monitors.map(m => m.metadata.name).sort()).toEqual([
      // CloudNativePG's instances are scraped through its own PodMonitors instead of an exporter Service.
      'rauli-vision-backend-go', 'rauli-vision-backend-python', 'rauli-vision-frontend', 'rauli-vision-redis-exporter',
    ]);
    expect(ofKind(docs, 'PodMonitor').map(m => m.metadata.name).sort()).toEqual(['postgres', 'postgres-poolers']);
    for (const m of monitors) expect(m.metadata.labels.release).toBe('kube-prometheus-stack');
    const [rule] = ofKind(docs, 'PrometheusRule');
    expect(rule.metadata).toMatchObject({ name: 'rauli-vision', namespace: 'rauli-vision-production', labels: { release: 'kube-prometheus-stack' } });
    // The rules watch the chart's namespace.
    expect(rule.spec.groups[1].rules[0].expr).toContain('namespace="rauli-vision-production"');
    const dashboards = ofKind(docs, 'ConfigMap').filter(c => c.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.map(d => JSON.parse(Object.values(d.data)[0] as string).title).sort()).toEqual([
      'RAULI-VISION Cost Analysis (rauli-vision-production)', 'RAULI-VISION Data Tier (rauli-vision-production)', 'RAULI-VISION Production (rauli-vision-production)',
    ]);
  });

  test('every pod with a metrics port is scraped exactly once, on a port its container declares', () => {
    const services = ofKind(docs, 'Service');
    const workloads = docs.filter(d => ['Deployment', 'StatefulSet'].includes(d.kind));
    const scrapes = new Map<string, number>();
    for (const m of ofKind(docs, 'ServiceMonitor')) {
      for (const svc of services.filter(s => matches(m.spec.selector.matchLabels, s.metadata.labels))) {
        const port = svc.spec.ports.find((p: any) => p.name === m.spec.endpoints[0].port);
        if (!port) continue;
        for (const w of workloads.filter(x => matches(svc.spec.selector, x.spec.template.metadata.labels))) {
          const containerPorts = w.spec.template.spec.containers.flatMap((c: any) => c.ports ?? []);
          expect(containerPorts.map((p: any) => p.name)).toContain(port.targetPort);
          const key = `${w.kind}/${w.metadata.name}`;
          scrapes.set(key, (scrapes.get(key) ?? 0) + 1);
        }
      }
    }
    const declaresMetrics = (c: any) => (c.ports ?? []).some((p: any) => p.name === ServiceConventions.METRICS_PORT_NAME);
    const withMetrics = workloads
      .filter(w => w.spec.template.spec.containers.some(declaresMetrics))
      .map(w => `${w.kind}/${w.metadata.name}`);
    // Frontend, the two backends, Redis (CloudNativePG's pods come from the operator, scraped by PodMonitors).
    expect(withMetrics.length).toBeGreaterThanOrEqual(4);
    expect(Object.fromEntries(withMetrics.map(w => [w, scrapes.get(w)]))).toEqual(Object.fromEntries(withMetrics.map(w => [w, 1])));
  });

  test('backup CronJobs each fall in a BackupNotRun window: RPO dumps within 1h, the daily ones within 25h', () => {
    // The operator-free engine: the only one with frequent dumps (CloudNativePG archives WAL instead).
    const withBackups = synthEnvironment('production', {
      database: { engine: PostgresEngine.statefulSet() },
      backup: { storage: { bucketName: 'rauli-vision-backups' }, applicationSources: [{ name: 'config', configMapName: 'rauli-vision-config' }] },
    });
    expect(validateManifests(withBackups, { crdFiles: allCrdFiles() }).errors).toEqual([]);
    const rules = ofKind(withBackups, 'PrometheusRule')[0].spec.groups.flatMap((g: any) => g.rules).filter((r: any) => r.alert === 'BackupNotRun');
    const windows = rules.map((r: any) => ({
      window: r.labels.backup_window,
      include: new RegExp(`^(?:${/cronjob=~"([^"]+)"/.exec(r.expr)![1]})$`),
      exclude: [...r.expr.matchAll(/cronjob!~"([^"]+)"/g)].map((m: any) => new RegExp(`^(?:${m[1]})$`)),
    }));
    const windowOf = (name: string) => windows
      .filter((w: any) => w.include.test(name) && !w.exclude.some((e: RegExp) => e.test(name)))
      .map((w: any) => w.window);
    const cronJobs = ofKind(withBackups, 'CronJob').map(c => c.metadata.name);
    expect(cronJobs.length).toBeGreaterThanOrEqual(3);
    for (const name of cronJobs) {
      expect({ name, windows: windowOf(name) }).toEqual({ name, windows: [name.endsWith('-frequent') ? '1h' : '25h'] });
    }
  });

  test('release label, dashboard label and on/off switches are settable', () => {
    const custom = synthEnvironment('staging', {
      monitoring: { release: 'prometheus', dashboardOptions: { labelKey: 'grafana_dashboard', labelValue: 'rauli' }, alerts: false },
    });
    expect(ofKind(custom, 'PrometheusRule')).toEqual([]);
    for (const m of ofKind(custom, 'ServiceMonitor')) expect(m.metadata.labels.release).toBe('prometheus');
    expect(ofKind(custom, 'ConfigMap').filter(c => c.metadata.labels?.grafana_dashboard === 'rauli')).toHaveLength(3);
    expect(validateManifests(custom, { crdFiles: allCrdFiles() }).errors).toEqual([]);

    const off = synthEnvironment('dev', { monitoring: { enabled: false } });
    expect(off.filter(d => ['ServiceMonitor', 'PrometheusRule'].includes(d.kind) || d.metadata?.labels?.grafana_dashboard)).toEqual([]);
    const noDashboards = synthEnvironment('dev', { monitoring: { dashboards: false, serviceMonitors: false } });
    expect(ofKind(noDashboards, 'ServiceMonitor')).toEqual([]);
    expect(ofKind(noDashboards, 'PrometheusRule')).toHaveLength(1);
  });

  test('Monitoring rejects duplicate target names and a bad release', () => {
    const chart = new Chart(Testing.app(), 'dup', { namespace: NS });
    expect(() => new Monitoring(chart, 'm', { targets: [{ name: 'a', selector: { x: 'y' } }, { name: 'a', selector: { x: 'z' } }] }))
      .toThrow(/two targets are named "a"/);
    expect(() => new Monitoring(chart, 'n', { release: 'Kube Prometheus' })).toThrow(/Invalid release: "Kube Prometheus"/);
  });
});
