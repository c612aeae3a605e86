/**
 * The service catalog: a fourth service added with one entry reaches every
 * layer, and bad entries fail at construction naming the entry and the field.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parse, parseAllDocuments } from 'yaml';
import { IMAGES, get } from './support';
import { ClientTrust, DataStore, EdgeKind, RauliVisionChart, RauliVisionChartProps, ServiceCatalog, ServiceEntry, ServiceRoute } from '../../src';
import { deepMerge } from '../../src/core/merge';
import { generateChart } from '../../src/helm/chart-generator';
import { validateManifests } from '../../src/validation';
import { allCrdFiles } from '../support/crds';
import { helmTemplate } from '../support/helm';

/** The one entry that adds a reporting service. */
const REPORTS: ServiceEntry = {
  name: 'reports',
  component: 'reports',
  image: 'ghcr.io/rauli-vision/reports:1.0.0',
  reaches: { stores: [DataStore.POSTGRES], services: ['backend-python'] },
  route: ServiceRoute.path('/reports/'),
  metrics: { scrapeInterval: '20s' },
  sizing: { production: { replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 6 } } },
};
const WITH_REPORTS = [...ServiceCatalog.defaults(IMAGES), REPORTS];

// max_connections high enough that one more client changes every replica's pool.
const database = { maxConnections: 500 };
const chartWith = (props: Partial<RauliVisionChartProps> = {}) =>
  new RauliVisionChart(Testing.app(), 'production', { environment: 'production', services: WITH_REPORTS, database, edge: {}, ...props });

describe('a fourth service takes one entry', () => {
  const chart = chartWith();
  const docs = Testing.synth(chart);
  const policy = (name: string) => get(docs, 'NetworkPolicy', name).spec;
  const peers = (rules: any[]) => rules.map(r => [
    ...(r.from ?? r.to).map((p: any) => [p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'], p.podSelector?.matchLabels['app.kubernetes.io/component']].filter(Boolean).join('/')),
    ...r.ports.map((p: any) => p.port),
  ].join(' '));

  test('the whole chart passes the validation harness', () => {
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
  });

  test('Deployment, HPA and PDB from its sizing', () => {
    expect(get(docs, 'Deployment', 'reports').spec.template.spec.containers[0].image).toBe(REPORTS.image);
    expect(get(docs, 'HorizontalPodAutoscaler', 'reports').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(get(docs, 'PodDisruptionBudget', 'reports').spec.maxUnavailable).toBe(1);
    // It reaches a store, so it gets the credentials.
    expect(get(docs, 'Deployment', 'reports').spec.template.spec.containers[0].env.map((e: any) => e.name)).toContain('DATABASE_URL');
  });

  test('routed by the edge, it believes the edge\'s proxies; its own env merges in and wins', () => {
    const env = (docs2: any[], name: string) => Object.fromEntries(
      (get(docs2, 'Deployment', name).spec.template.spec.containers[0].env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    const cdn = { cidrs: ['173.245.48.0/20'] };
    const own = Testing.synth(chartWith({ edge: { cdn }, services: [...ServiceCatalog.defaults(IMAGES), { ...REPORTS, env: { REPORT_FORMAT: 'pdf' } }] }));
    expect(env(own, 'reports')).toMatchObject({ REPORT_FORMAT: 'pdf', TRUSTED_PROXY_CIDRS: [...ClientTrust.PRIVATE_NETWORKS, ...cdn.cidrs].join(',') });
    const overridden = Testing.synth(chartWith({ services: [...ServiceCatalog.defaults(IMAGES), { ...REPORTS, env: { TRUSTED_PROXY_CIDRS: '10.1.0.0/16' } }] }));
    expect(env(overridden, 'reports').TRUSTED_PROXY_CIDRS).toBe('10.1.0.0/16');
    // Not routed (backend-python), or no edge at all: nobody is believed.
    expect(env(docs, 'backend-python').TRUSTED_PROXY_CIDRS).toBeUndefined();
    expect(env(Testing.synth(chartWith({ edge: undefined })), 'reports').TRUSTED_PROXY_CIDRS).toBeUndefined();
  });

  test('NetworkPolicies: exactly its declared flows, from the namespace of the edge that runs', () => {
    expect(peers(policy('reports-ingress').ingress)).toEqual(['envoy-gateway-system 8080', 'monitoring 9090']);
    expect(peers(policy('reports-egress').egress)).toEqual(['rauli-vision-production-data/postgres 5432', 'backend-python 8080']);
    expect(peers(policy('backend-python-ingress').ingress)).toEqual(['backend-go reports 8080', 'monitoring 9090']);
  });

  test('the data stores admit it only where it declared them', () => {
    const clients = (name: string) => policy(name).ingress[0].from[0].podSelector.matchExpressions[0].values;
    // Production runs CloudNativePG: the applications reach PostgreSQL through its poolers.
    expect(clients('postgres-poolers')).toContain('reports');
    expect(clients('redis')).not.toContain('reports');
  });

  test('its replicas count in the database connection budget', () => {
    const pool = get(docs, 'ConfigMap', 'rauli-vision-config').data.DATABASE_POOL_SIZE;
    // 50 Go + 2 Python + 6 reports replicas at most.
    expect(pool).toBe(String(chart.data.postgres.poolSizeFor(58)));
    // One PgBouncer must accept every replica's pool: the reports replicas count against it.
    const fit = Math.floor(chart.data.postgres.budget.maxClientConnections / chart.data.postgres.poolSize);
    const over = { ...REPORTS, sizing: { production: { replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: fit - 52 + 1 } } } };
    expect(() => chartWith({ services: [...ServiceCatalog.defaults(IMAGES), over] })).toThrow(/maxReplicas/);
  });

  test('a ServiceMonitor at its interval, and the alerts watch it', () => {
    const monitor = get(docs, 'ServiceMonitor', 'rauli-vision-reports').spec;
    expect(monitor.selector.matchLabels['app.kubernetes.io/component']).toBe('reports');
    expect(monitor.endpoints[0].interval).toBe('20s');
    const rules = get(docs, 'PrometheusRule', 'rauli-vision').spec.groups.flatMap((g: any) => g.rules);
    const highErrors = rules.find((r: any) => r.alert === 'HighErrorRate');
    expect(highErrors.expr).toContain('service=~"frontend|backend-go|backend-python|reports"');
  });

  // The route joins the edge's routing table: the API limit applies, longest prefix first.
  test.each([EdgeKind.INGRESS_NGINX, EdgeKind.GATEWAY_API])('an edge route on %s', kind => {
    const edgeDocs = Testing.synth(chartWith({ edge: { kind } }));
    if (kind === EdgeKind.INGRESS_NGINX) {
      const rules = get(edgeDocs, 'Ingress', 'rauli-vision-api').spec.rules;
      expect(rules.flatMap((r: any) => r.http.paths.map((p: any) => [r.host, p.path, p.backend.service]))).toEqual([
        ['rauli-vision.com', '/reports/', { name: 'reports', port: { number: 80 } }],
        ['rauli-vision.com', '/api/', { name: 'backend-go', port: { number: 80 } }],
      ]);
    } else {
      const rules = get(edgeDocs, 'HTTPRoute', 'rauli-vision-web').spec.rules;
      expect(rules.map((r: any) => [r.matches[0].path.value, r.backendRefs])).toEqual([
        ['/reports/', [{ name: 'reports', port: 80 }]],
        ['/assets/', [{ name: 'frontend', port: 80 }]],
        ['/api/', [{ name: 'backend-go', port: 80 }]],
        ['/', [{ name: 'frontend', port: 80 }]],
      ]);
      const limited = get(edgeDocs, 'BackendTrafficPolicy', 'rauli-vision-web').spec.rateLimit.local.rules
        .map((r: any) => r.clientSelectors[0].path.value);
      expect(limited).toContain('/reports/');
    }
  });

  test('Helm: a values entry that sizes it, and templates that render it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-chart-'));
    try {
      generateChart({ outdir: dir, version: '0.0.0', services: WITH_REPORTS });
      const values = parse(fs.readFileSync(path.join(dir, 'values.yaml'), 'utf8'));
      expect(values.services.reports).toMatchObject({ replicaCount: 2, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 }, scrapeInterval: '20s' });
      const render = (...set: string[]) => parseAllDocuments(helmTemplate(dir, set.flatMap(s => ['--set', s]), 'rv', 'rauli-vision-production'))
        .map(d => d.toJSON()).filter(d => d);
      const rendered = render();
      const objects = [['Deployment', 'reports'], ['Service', 'reports'], ['HorizontalPodAutoscaler', 'reports'], ['PodDisruptionBudget', 'reports'],
        ['ServiceMonitor', 'rauli-vision-reports'], ['HTTPRoute', 'rauli-vision-web'], ['NetworkPolicy', 'reports-ingress'], ['NetworkPolicy', 'reports-egress']];
      for (const [kind, name] of objects) expect(get(rendered, kind, name).metadata.namespace).toBe('rauli-vision-production');
      expect(get(rendered, 'HTTPRoute', 'rauli-vision-web').spec.rules[0].backendRefs).toEqual([{ name: 'reports', port: 80 }]);
      const nginx = render('edge.kind=ingress-nginx');
      expect(get(nginx, 'Ingress', 'rauli-vision-api').spec.rules[0].http.paths[0]).toMatchObject({ path: '/reports/', backend: { service: { name: 'reports' } } });
      const resized = render('services.reports.autoscaling.maxReplicas=12');
      expect(get(resized, 'HorizontalPodAutoscaler', 'reports').spec.maxReplicas).toBe(12);
      // The template's connection budget counts the entry too: with 50 Go and 2 Python replicas
      // at most, one PgBouncer's client connections are gone once the reports service may run one replica more.
      const pg = new RauliVisionChart(Testing.app(), 'helm', { environment: 'production', services: WITH_REPORTS }).data.postgres;
      const fit = Math.floor(pg.budget.maxClientConnections / pg.poolSize);
      const room = fit - 52;
      expect(get(render(`services.reports.autoscaling.maxReplicas=${room}`), 'ConfigMap', 'rauli-vision-config').data.DATABASE_POOL_SIZE)
        .toBe(String(pg.poolSizeFor(52 + room)));
      expect(() => pg.poolSizeFor(52 + room + 1)).toThrow(/maxReplicas/);
      expect(() => render(`services.reports.autoscaling.maxReplicas=${room + 1}`)).toThrow(new RegExp(`${fit + 1} database client replicas at most with pools of ${pg.poolSize} do not fit`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the default catalog', () => {
  test('is the guide\'s three services, with the backends scraped every 15 s and the frontend every 30 s', () => {
    const entries = ServiceCatalog.defaults(IMAGES);
    expect(entries.map(e => [e.name, e.component, e.metrics?.scrapeInterval])).toEqual([
      ['frontend', 'frontend', '30s'], ['backend-go', 'backend-go', '15s'], ['backend-python', 'backend-python', '15s'],
    ]);
    const docs = Testing.synth(new RauliVisionChart(Testing.app(), 'p', { environment: 'production', images: IMAGES }));
    expect(get(docs, 'ServiceMonitor', 'rauli-vision-backend-go').spec.endpoints[0].interval).toBe('15s');
    expect(get(docs, 'ServiceMonitor', 'rauli-vision-frontend').spec.endpoints[0].interval).toBe('30s');
  });
});

describe('overrides deep-merge into presets', () => {
  test('deepMerge: objects merge, arrays and scalars replace, an explicit undefined clears', () => {
    const base = { a: { b: 1, c: 2 }, list: [1, 2], keep: 'x', drop: { y: 1 } };
    expect(deepMerge<any>(base, { a: { c: 3 }, list: [9], drop: undefined })).toEqual({ a: { b: 1, c: 3 }, list: [9], keep: 'x', drop: undefined });
    expect(base.a).toEqual({ b: 1, c: 2 });
  });

  test('database: { resources: { memoryLimit } } keeps the other resource fields', () => {
    // Production runs CloudNativePG: the resources are the Cluster's.
    const container = (docs: any[]) => get(docs, 'Cluster', 'postgres').spec.resources;
    const preset = container(Testing.synth(new RauliVisionChart(Testing.app(), 'a', { environment: 'production', images: IMAGES })));
    const docs = Testing.synth(new RauliVisionChart(Testing.app(), 'b', { environment: 'production', images: IMAGES, database: { resources: { memoryLimit: '2Gi' } } }));
    expect(container(docs)).toEqual({ ...preset, limits: { ...preset.limits, memory: '2Gi' } });
  });

  test('a service override keeps the preset\'s other fields, at every depth', () => {
    const docs = Testing.synth(new RauliVisionChart(Testing.app(), 'c', {
      environment: 'production',
      images: IMAGES,
      backendGo: { resources: { memoryLimit: '384Mi' }, autoscaling: { minReplicas: 3, maxReplicas: 40 } },
    }));
    expect(get(docs, 'Deployment', 'backend-go').spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '384Mi' },
    });
    const hpa = get(docs, 'HorizontalPodAutoscaler', 'backend-go').spec;
    expect(hpa).toMatchObject({ minReplicas: 3, maxReplicas: 40 });
    // The preset's utilization targets and scaling behaviour stay.
    expect(hpa.metrics.map((m: any) => m.resource.target.averageUtilization)).toEqual([70, 80]);
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
  });
});

describe('bad catalog entries fail at construction, naming the entry and the field', () => {
  const build = (services: ServiceEntry[], props: Partial<RauliVisionChartProps> = {}) => () =>
    new RauliVisionChart(Testing.app(), 'bad', { environment: 'production', services, ...props });
  const defaults = ServiceCatalog.defaults(IMAGES);

  test('a store the platform does not run', () => {
    const redisless = [DataStore.POSTGRES];
    expect(() => new ServiceCatalog([...defaults.slice(0, 1), { ...REPORTS, reaches: { stores: [DataStore.REDIS] } }], redisless))
      .toThrow(/Invalid services\[1\] \(reports\)\.reaches\.stores\[0\]: "redis"\. Expected a store the chart declares \(postgres\)/);
  });

  test('an unknown service, or itself', () => {
    expect(build([...defaults, { ...REPORTS, reaches: { services: ['billing'] } }]))
      .toThrow(/Invalid services\[3\] \(reports\)\.reaches\.services\[0\]: "billing"\. Expected the name of another entry of the catalog \(frontend, backend-go, backend-python\)/);
    expect(build([...defaults, { ...REPORTS, reaches: { services: ['reports'] } }])).toThrow(/services\[3\] \(reports\)\.reaches\.services\[0\]/);
  });

  test('two services on one host and path', () => {
    const twin = { ...REPORTS, name: 'reports-v2', component: 'reports-v2', route: ServiceRoute.path('/reports/', 'rauli-vision.com') };
    expect(build([...defaults, REPORTS, twin])).toThrow(/Invalid services\[4\] \(reports-v2\)\.route: "rauli-vision.com\/reports\/"\. Expected a host and path no other entry is routed on \(services\[3\] \(reports\) has it\)/);
    expect(build([...defaults, { ...REPORTS, route: ServiceRoute.site() }])).toThrow(/services\[3\] \(reports\)\.route: "\/ on every host".*services\[0\] \(frontend\)/);
    expect(build([...defaults, { ...REPORTS, route: ServiceRoute.path('/api/') }])).toThrow(/services\[3\] \(reports\)\.route: "\/api\/ on every host".*services\[1\] \(backend-go\)/);
  });

  test('a path entry at / on an API host, or routes given beside the catalog', () => {
    const onApiHost = { ...REPORTS, route: ServiceRoute.path('/', 'api.rauli-vision.com') };
    expect(build([...defaults, onApiHost], { edge: { apiHosts: ['api.rauli-vision.com'] } }))
      .toThrow(/Invalid services\[3\] \(reports\)\.route: "api\.rauli-vision\.com\/"\. Expected a host and path no other entry is routed on/);
    expect(build(defaults, { edge: { routes: [] } })).toThrow(/Invalid edge\.routes.*the chart routes the catalog's entries/);
  });

  test('a reused name or component', () => {
    expect(build([...defaults, { ...REPORTS, name: 'frontend' }])).toThrow(/Invalid services\[3\] \(frontend\)\.name: "frontend"\. Expected a name no other entry uses \(services\[0\] has it already\)/);
    expect(build([...defaults, { ...REPORTS, component: 'backend-go' }])).toThrow(/services\[3\] \(reports\)\.component: "backend-go"/);
  });

  test('sizing for an unknown environment, a route host the edge does not serve, an edge without a site', () => {
    expect(build([...defaults, { ...REPORTS, sizing: { prod: {} } }])).toThrow(/services\[3\] \(reports\)\.sizing: "prod"\. Expected environment names as keys \(dev, staging, production\)/);
    expect(build([...defaults, { ...REPORTS, route: ServiceRoute.path('/reports/', 'reports.example.com') }], { edge: {} }))
      .toThrow(/services\[3\] \(reports\)\.route\.host: "reports\.example\.com"\. Expected one of the edge's hosts \(rauli-vision\.com\)/);
    expect(build(defaults.slice(1), { edge: {} })).toThrow(/services\[\]\.route.*exactly one entry with ServiceRoute\.site\(\)/);
  });

  test('services together with the default catalog\'s images or overrides', () => {
    expect(build(defaults, { images: IMAGES })).toThrow(/Invalid images: .*Expected no value when `services` is given/);
    expect(build(defaults, { backendGo: { replicas: 2 } })).toThrow(/Invalid backendGo/);
    expect(() => new RauliVisionChart(Testing.app(), 'none', { environment: 'dev' })).toThrow(/Invalid images: undefined/);
  });
});
