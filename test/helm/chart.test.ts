import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { LoggingConventions, PrometheusConventions } from '../../src/conventions';
import { EdgeKind } from '../../src/edge';
import { generateChart } from '../../src/helm/chart-generator';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';
import { validateManifests } from '../../src/validation';
import { allCrdFiles } from '../support/crds';
import { helm, helmTemplate } from '../support/helm';

const ROOT = path.resolve(__dirname, '..', '..');
const CHART = path.join(ROOT, 'charts', 'rauli-vision');
const NS = 'rauli-vision-production';

type Doc = any;
const parse = (text: string): Doc[] => parseAllDocuments(text).map(d => d.toJSON()).filter(d => d);
const render = (...set: string[]): Doc[] => parse(helmTemplate(CHART, set.flatMap(s => ['--set', s]), 'rv', NS));
const get = (docs: Doc[], kind: string, name: string): Doc => {
  const d = docs.find(x => x.kind === kind && x.metadata.name === name);
  if (!d) throw new Error(`${kind}/${name} not rendered; have ${docs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return d;
};
const has = (docs: Doc[], kind: string, name?: string) => docs.some(x => x.kind === kind && (name === undefined || x.metadata.name === name));
const container = (docs: Doc[], deployment: string) => get(docs, 'Deployment', deployment).spec.template.spec.containers[0];
const ingresses = (docs: Doc[]) => docs.filter(d => d.kind === 'Ingress');
const APPS = ['frontend', 'backend-go', 'backend-python'];
const productionPostgres = () => new RauliVisionChart(Testing.app(), 'pg', {
  environment: 'production',
  images: { frontend: 'x/f:1', backendGo: 'x/b:1', backendPython: 'x/p:1' },
}).data.postgres;
// The harness needs the CRDs of the Gateway API edge and the controller settings of the ingress-nginx one.
const validation = {
  crdFiles: allCrdFiles(),
  ingressControllerConfig: new RauliVisionChart(Testing.app(), 'nginx', {
    environment: 'production', images: { frontend: 'x/f:1', backendGo: 'x/b:1', backendPython: 'x/p:1' }, edge: { kind: EdgeKind.INGRESS_NGINX },
  }).edge!.ingress!.controllerConfig,
};
const files = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, withFileTypes: false }).map(String)
  .filter(f => fs.statSync(path.join(dir, f)).isFile()).sort();

describe('charts/rauli-vision', () => {
  test('is what the generator writes from the current constructs (run `npx projen helm:chart`)', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chart-'));
    try {
      generateChart({ outdir: tmp, version: JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version });
      expect(files(CHART)).toEqual(files(tmp));
      for (const f of files(tmp)) {
        expect({ file: f, text: fs.readFileSync(path.join(CHART, f), 'utf8') }).toEqual({ file: f, text: fs.readFileSync(path.join(tmp, f), 'utf8') });
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test.each(['values.yaml', 'values-staging.yaml', 'values-dev.yaml'])('helm lint --strict passes with %s', values => {
    const r = helm(['lint', '--strict', CHART, '-f', path.join(CHART, values)]);
    expect(`${r.stdout}${r.stderr}`).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  test.each(['values.yaml', 'values-staging.yaml', 'values-dev.yaml'])('helm template with %s passes the validation harness', values => {
    const docs = parse(helmTemplate(CHART, ['-f', path.join(CHART, values)], 'rv', NS));
    expect(docs.length).toBeGreaterThan(20);
    expect(validateManifests(docs, validation).errors).toEqual([]);
  });

  test('the defaults render the production preset', () => {
    const docs = render();
    expect(has(docs, 'Namespace', NS)).toBe(false);
    expect(has(docs, 'ClusterIssuer')).toBe(false);
    expect(get(docs, 'Deployment', 'backend-go').spec.replicas).toBeUndefined();
    expect(get(docs, 'HorizontalPodAutoscaler', 'backend-go').spec).toMatchObject({ minReplicas: 3, maxReplicas: 50 });
    expect(get(docs, 'Deployment', 'frontend').spec.replicas).toBe(5);
    expect(has(docs, 'HorizontalPodAutoscaler', 'frontend')).toBe(false);
    expect(container(docs, 'backend-go').image).toBe('ghcr.io/rauli-vision/backend:1.0.0');
    expect(container(docs, 'backend-go').resources).toEqual({ limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } });
    expect(ingresses(docs)).toEqual([]);
    expect(has(docs, 'GatewayClass')).toBe(false);
    expect(docs.filter(d => d.apiVersion.startsWith('gateway.')).map(d => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'BackendTrafficPolicy/rauli-vision-web', 'ClientTrafficPolicy/rauli-vision', 'Gateway/rauli-vision', 'HTTPRoute/rauli-vision-redirect', 'HTTPRoute/rauli-vision-web',
    ]);
    const gw = get(docs, 'Gateway', 'rauli-vision');
    expect(gw.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
    expect(gw.spec.listeners[1]).toMatchObject({ name: 'https-rauli-vision.com', hostname: 'rauli-vision.com', tls: { certificateRefs: [{ name: 'rauli-vision-tls' }] } });
    expect(get(docs, 'NetworkPolicy', 'frontend-ingress').spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('envoy-gateway-system');
    const interval = (name: string) => get(docs, 'ServiceMonitor', `rauli-vision-${name}`).spec.endpoints[0].interval;
    // Production's PostgreSQL runs on CloudNativePG, scraped through PodMonitors.
    expect(['redis-exporter'].map(interval)).toEqual([PrometheusConventions.EXPORTER_SCRAPE_INTERVAL]);
    // The logging stack has its own namespace (and cluster-wide read access for the collector), the data tier `<release namespace>-data`.
    const logging = (d: Doc) => d.metadata.namespace === LoggingConventions.NAMESPACE || d.metadata.name === LoggingConventions.NAMESPACE || /^ClusterRole/.test(d.kind);
    const data = (d: Doc) => d.metadata.namespace === `${NS}-data` || (d.kind === 'Namespace' && d.metadata.name === `${NS}-data`);
    expect(get(docs, 'Cluster', 'postgres').metadata.namespace).toBe(`${NS}-data`);
    for (const d of docs.filter(x => x.kind !== 'ClusterIssuer' && !logging(x) && !data(x))) expect(d.metadata.namespace).toBe(NS);
  });
});

describe('helm template with the default values equals the constructs', () => {
  // What the chart adds for Helm, or leaves to values that default to off.
  // The release's own Namespace is Helm's (`--create-namespace` or namespace.create); the chart renders the others.
  const normalize = (docs: Doc[], fromHelm: boolean, releaseNamespace: string) => docs
    .filter(d => fromHelm || !(['ClusterIssuer', 'GatewayClass'].includes(d.kind) || (d.kind === 'Namespace' && d.metadata.name === releaseNamespace)))
    .map(d => {
      const copy = JSON.parse(JSON.stringify(d));
      const strip = (labels?: Doc) => { if (labels) delete labels['app.kubernetes.io/managed-by']; };
      strip(copy.metadata.labels);
      strip(copy.spec?.template?.metadata?.labels);
      if (copy.metadata.annotations) {
        for (const k of Object.keys(copy.metadata.annotations)) if (k.startsWith('helm.sh/')) delete copy.metadata.annotations[k];
        if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
      }
      for (const c of copy.spec?.template?.spec?.containers ?? []) {
        if (fromHelm && c.env) c.env = c.env.filter((e: Doc) => e.name !== 'PORT');
        if (c.env?.length === 0) delete c.env;
      }
      return copy;
    })
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

  // A long namespace makes the dashboard uids fall back to a hash: the template helper must agree.
  test.each(['rauli-vision-production', 'prod'])('in namespace %s', namespace => {
    const chart = new RauliVisionChart(Testing.app(), 'rauli-vision', {
      environment: 'production',
      namespace,
      images: {
        frontend: 'ghcr.io/rauli-vision/frontend:1.0.0',
        backendGo: 'ghcr.io/rauli-vision/backend:1.0.0',
        backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0',
      },
      edge: {},
      backup: { storage: { bucketName: 'rauli-vision-backups' } },
    });
    const fromConstructs = normalize(Testing.synth(chart), false, namespace);
    const fromHelm = normalize(parse(helmTemplate(CHART, [], 'rv', namespace)), true, namespace);
    expect(fromHelm.map(d => `${d.kind}/${d.metadata.name}`)).toEqual(fromConstructs.map(d => `${d.kind}/${d.metadata.name}`));
    for (let i = 0; i < fromHelm.length; i++) expect(fromHelm[i]).toEqual(fromConstructs[i]);
  });
});

/**
 * Each values.yaml key, changed with --set, changes the rendered manifests the
 * way it should. `base` sets a context the key needs (replicaCount only
 * counts while autoscaling is off).
 */
const cases: Array<{ key: string; set: string[]; base?: string[]; check: (docs: Doc[]) => void }> = [
  {
    key: 'services.backend-go.replicaCount',
    base: ['services.backend-go.autoscaling.enabled=false'],
    set: ['services.backend-go.replicaCount=7'],
    check: d => expect(get(d, 'Deployment', 'backend-go').spec.replicas).toBe(7),
  },
  {
    key: 'environment',
    set: ['environment=staging'],
    check: d => {
      const instances = d.map(x => x.metadata.labels?.['app.kubernetes.io/instance']).filter(l => l?.startsWith('rauli-vision-'));
      expect(instances.length).toBeGreaterThan(20);
      expect(new Set(instances)).toEqual(new Set(['rauli-vision-staging']));
      expect(get(d, 'Service', 'backend-go').spec.selector['app.kubernetes.io/instance']).toBe('rauli-vision-staging');
    },
  },
  {
    key: 'image.repository',
    set: ['image.repository=registry.example.com/rv'],
    check: d => {
      expect(APPS.map(a => container(d, a).image)).toEqual(['registry.example.com/rv/frontend:1.0.0', 'registry.example.com/rv/backend:1.0.0', 'registry.example.com/rv/cliente-local:1.0.0']);
    },
  },
  {
    key: 'image.tag',
    set: ['image.tag=3f9c2ab'],
    check: d => {
      for (const a of APPS) expect(container(d, a).image).toMatch(/:3f9c2ab$/);
      expect(get(d, 'Deployment', 'frontend').spec.template.metadata.labels['app.kubernetes.io/version']).toBe('3f9c2ab');
    },
  },
  { key: 'image.pullPolicy', set: ['image.pullPolicy=Always'], check: d => { for (const a of APPS) expect(container(d, a).imagePullPolicy).toBe('Always'); } },
  { key: 'service.type', set: ['service.type=NodePort'], check: d => { for (const a of APPS) expect(get(d, 'Service', a).spec.type).toBe('NodePort'); } },
  {
    key: 'service.port',
    set: ['service.port=8081'],
    check: d => {
      for (const a of APPS) expect(get(d, 'Service', a).spec.ports.find((p: Doc) => p.name === 'http').port).toBe(8081);
      for (const i of ingresses(d)) for (const r of i.spec.rules) for (const p of r.http.paths) expect(p.backend.service.port.number).toBe(8081);
      const refs = d.filter(x => x.kind === 'HTTPRoute').flatMap(x => x.spec.rules.flatMap((r: Doc) => r.backendRefs ?? []));
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) expect(ref.port).toBe(8081);
    },
  },
  {
    key: 'edge.kind',
    set: ['edge.kind=ingress-nginx'],
    check: d => {
      expect(ingresses(d).map(i => i.metadata.name).sort()).toEqual(['rauli-vision-api', 'rauli-vision-assets', 'rauli-vision-login', 'rauli-vision-web']);
      expect(d.filter(x => x.apiVersion.startsWith('gateway.'))).toEqual([]);
      expect(get(d, 'NetworkPolicy', 'backend-go-ingress').spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('ingress-nginx');
    },
  },
  {
    key: 'edge.ingressNginx.namespace',
    base: ['edge.kind=ingress-nginx'],
    set: ['edge.ingressNginx.namespace=edge-system'],
    check: d => expect(get(d, 'NetworkPolicy', 'backend-go-ingress').spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('edge-system'),
  },
  {
    key: 'edge.gateway.proxyNamespace',
    set: ['edge.gateway.proxyNamespace=eg'],
    check: d => expect(get(d, 'NetworkPolicy', 'backend-go-ingress').spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('eg'),
  },
  {
    key: 'edge.gatewayClass',
    set: ['edge.gatewayClass.create=true', 'edge.gatewayClass.name=envoy-public'],
    check: d => {
      const gc = get(d, 'GatewayClass', 'envoy-public');
      expect([gc.metadata.namespace, gc.spec.controllerName]).toEqual([undefined, 'gateway.envoyproxy.io/gatewayclass-controller']);
      expect(get(d, 'Gateway', 'rauli-vision').spec.gatewayClassName).toBe('envoy-public');
    },
  },
  {
    key: 'ingress.hosts (Gateway)',
    set: ['ingress.hosts[0].host=example.org', 'ingress.hosts[1].host=www.example.org'],
    check: d => {
      expect(get(d, 'Gateway', 'rauli-vision').spec.listeners.map((l: Doc) => `${l.name} ${l.hostname ?? '*'}`))
        .toEqual(['http *', 'https-example.org example.org', 'https-www.example.org www.example.org']);
      const web = get(d, 'HTTPRoute', 'rauli-vision-web');
      expect(web.spec.hostnames).toEqual(['example.org', 'www.example.org']);
      expect(web.spec.parentRefs.map((p: Doc) => p.sectionName)).toEqual(['https-example.org', 'https-www.example.org']);
      expect(get(d, 'HTTPRoute', 'rauli-vision-redirect').spec.hostnames).toEqual(['example.org', 'www.example.org']);
    },
  },
  {
    key: 'ingress.apiHosts (Gateway)',
    set: ['ingress.apiHosts={api.rauli-vision.com}'],
    check: d => {
      const api = get(d, 'HTTPRoute', 'rauli-vision-api');
      expect([api.spec.hostnames, api.spec.parentRefs[0].sectionName]).toEqual([['api.rauli-vision.com'], 'https-api.rauli-vision.com']);
      expect(get(d, 'BackendTrafficPolicy', 'rauli-vision-api').spec.targetRefs[0].name).toBe('rauli-vision-api');
      expect(get(d, 'HTTPRoute', 'rauli-vision-redirect').spec.hostnames).toEqual(['rauli-vision.com', 'api.rauli-vision.com']);
    },
  },
  {
    key: 'ingress.tls (Gateway)',
    set: ['ingress.tls[0].secretName=edge-tls', 'ingress.tls[0].hosts={rauli-vision.com}'],
    check: d => {
      for (const l of get(d, 'Gateway', 'rauli-vision').spec.listeners.filter((x: Doc) => x.tls)) expect(l.tls.certificateRefs[0].name).toBe('edge-tls');
    },
  },
  {
    key: 'ingress.clusterIssuer (Gateway)',
    set: ['ingress.clusterIssuer.create=true'],
    check: d => expect(get(d, 'ClusterIssuer', 'letsencrypt-prod').spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs)
      .toEqual([{ name: 'rauli-vision', namespace: NS, kind: 'Gateway', sectionName: 'http' }]),
  },
  {
    key: 'service.targetPort',
    set: ['service.targetPort=3000'],
    check: d => {
      for (const a of APPS) {
        expect(container(d, a).ports.find((p: Doc) => p.name === 'http').containerPort).toBe(3000);
        expect(container(d, a).env.find((e: Doc) => e.name === 'PORT').value).toBe('3000');
      }
      expect(get(d, 'NetworkPolicy', 'frontend-ingress').spec.ingress[0].ports[0].port).toBe(3000);
      expect(get(d, 'NetworkPolicy', 'backend-go-egress').spec.egress[2].ports[0].port).toBe(3000);
    },
  },
  {
    key: 'ingress.enabled',
    set: ['ingress.enabled=false'],
    check: d => {
      expect(ingresses(d)).toEqual([]);
      expect(d.filter(x => x.apiVersion.startsWith('gateway.'))).toEqual([]);
      expect(has(d, 'ConfigMap', 'rauli-vision-security-headers')).toBe(false);
      // Nobody in front: the routed services trust no proxy and send their own security headers (both settings' defaults).
      for (const a of ['frontend', 'backend-go']) {
        const names = container(d, a).env.map((e: Doc) => e.name);
        expect(names).toContain('PORT');
        expect(names).not.toContain('TRUSTED_PROXY_CIDRS');
        expect(names).not.toContain('SECURITY_HEADERS');
      }
    },
  },
  {
    key: 'ingress.className',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.className=internal-nginx'],
    check: d => {
      for (const i of ingresses(d)) expect(i.spec.ingressClassName).toBe('internal-nginx');
    },
  },
  {
    key: 'ingress.annotations',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size=50m', 'ingress.annotations.cert-manager\\.io/cluster-issuer=letsencrypt-staging'],
    check: d => {
      const a = get(d, 'Ingress', 'rauli-vision-web').metadata.annotations;
      expect([a['nginx.ingress.kubernetes.io/proxy-body-size'], a['cert-manager.io/cluster-issuer']]).toEqual(['50m', 'letsencrypt-staging']);
    },
  },
  {
    key: 'ingress.hosts',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.hosts[0].host=example.org', 'ingress.hosts[0].paths[0].path=/app'],
    check: d => {
      for (const i of ingresses(d)) expect(i.spec.rules.map((r: Doc) => r.host)).toEqual(['example.org']);
      expect(get(d, 'Ingress', 'rauli-vision-web').spec.rules[0].http.paths.map((p: Doc) => p.path)).toEqual(['/app']);
    },
  },
  {
    key: 'ingress.hosts (host only)',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.hosts[0].host=example.org'],
    check: d => {
      const paths = [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'frontend', port: { number: 80 } } } }];
      expect(get(d, 'Ingress', 'rauli-vision-web').spec.rules).toEqual([{ host: 'example.org', http: { paths } }]);
    },
  },
  {
    key: 'ingress.apiHosts',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.apiHosts={api.rauli-vision.com}'],
    check: d => {
      const api = get(d, 'Ingress', 'rauli-vision-api').spec.rules;
      expect(api.map((r: Doc) => `${r.host}${r.http.paths[0].path} -> ${r.http.paths[0].backend.service.name}`))
        .toEqual(['rauli-vision.com/api/ -> backend-go', 'api.rauli-vision.com/ -> backend-go']);
      expect(get(d, 'Ingress', 'rauli-vision-login').spec.rules.map((r: Doc) => r.host)).toEqual(['rauli-vision.com', 'api.rauli-vision.com']);
    },
  },
  {
    key: 'ingress.tls',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.tls[0].secretName=edge-tls', 'ingress.tls[0].hosts={rauli-vision.com,www.rauli-vision.com}'],
    check: d => {
      for (const i of ingresses(d)) expect(i.spec.tls).toEqual([{ secretName: 'edge-tls', hosts: ['rauli-vision.com', 'www.rauli-vision.com'] }]);
    },
  },
  {
    key: 'ingress.clusterIssuer',
    base: ['edge.kind=ingress-nginx'],
    set: ['ingress.clusterIssuer.create=true', 'ingress.clusterIssuer.email=ops@rauli-vision.com'],
    check: d => {
      const issuer = get(d, 'ClusterIssuer', 'letsencrypt-prod');
      expect(issuer.metadata.namespace).toBeUndefined();
      expect(issuer.spec.acme.email).toBe('ops@rauli-vision.com');
      expect(issuer.spec.acme.solvers[0].http01.ingress.ingressClassName).toBe('nginx');
    },
  },
  ...([['limits', 'cpu', '400m'], ['limits', 'memory', '384Mi'], ['requests', 'cpu', '300m'], ['requests', 'memory', '300Mi']] as const).map(([kind, res, value]) => ({
    key: `services.backend-go.resources.${kind}.${res}`,
    set: [`services.backend-go.resources.${kind}.${res}=${value}`],
    check: (d: Doc[]) => expect(container(d, 'backend-go').resources[kind][res]).toBe(value),
  })),
  {
    key: 'services.backend-go.autoscaling.enabled',
    set: ['services.backend-go.autoscaling.enabled=false'],
    check: d => {
      expect(has(d, 'HorizontalPodAutoscaler', 'backend-go')).toBe(false);
      expect(get(d, 'Deployment', 'backend-go').spec.replicas).toBe(10);
    },
  },
  { key: 'services.backend-go.autoscaling.minReplicas', set: ['services.backend-go.autoscaling.minReplicas=4'], check: d => expect(get(d, 'HorizontalPodAutoscaler', 'backend-go').spec.minReplicas).toBe(4) },
  {
    key: 'services.backend-go.autoscaling.maxReplicas',
    set: ['services.backend-go.autoscaling.maxReplicas=20'],
    check: d => {
      expect(get(d, 'HorizontalPodAutoscaler', 'backend-go').spec.maxReplicas).toBe(20);
      // The usable connections shared by 20 Go + 2 Python replicas at most, as the construct computes it.
      expect(get(d, 'ConfigMap', 'rauli-vision-config').data.DATABASE_POOL_SIZE).toBe(String(productionPostgres().poolSizeFor(22)));
    },
  },
  {
    key: 'services.backend-go.autoscaling.targetCPUUtilizationPercentage',
    set: ['services.backend-go.autoscaling.targetCPUUtilizationPercentage=60'],
    check: d => {
      expect(get(d, 'HorizontalPodAutoscaler', 'backend-go').spec.metrics.find((m: Doc) => m.resource.name === 'cpu').resource.target.averageUtilization).toBe(60);
    },
  },
  {
    key: 'services.backend-go.autoscaling.targetMemoryUtilizationPercentage',
    set: ['services.backend-go.autoscaling.targetMemoryUtilizationPercentage=90'],
    check: d => {
      expect(get(d, 'HorizontalPodAutoscaler', 'backend-go').spec.metrics.find((m: Doc) => m.resource.name === 'memory').resource.target.averageUtilization).toBe(90);
    },
  },
  {
    key: 'services.frontend.replicaCount',
    set: ['services.frontend.replicaCount=1'],
    check: d => {
      expect(get(d, 'Deployment', 'frontend').spec.replicas).toBe(1);
      // One replica needs no disruption budget (and one with maxUnavailable 1 would be pointless).
      expect(has(d, 'PodDisruptionBudget', 'frontend')).toBe(false);
    },
  },
  {
    key: 'services.frontend.autoscaling',
    set: ['services.frontend.autoscaling.enabled=true', 'services.frontend.autoscaling.maxReplicas=12'],
    check: d => {
      expect(get(d, 'HorizontalPodAutoscaler', 'frontend').spec).toMatchObject({ minReplicas: 5, maxReplicas: 12 });
      expect(get(d, 'Deployment', 'frontend').spec.replicas).toBeUndefined();
    },
  },
  { key: 'services.backend-python.resources', set: ['services.backend-python.resources.limits.memory=384Mi'], check: d => expect(container(d, 'backend-python').resources.limits.memory).toBe('384Mi') },
  {
    key: 'monitoring.enabled',
    set: ['monitoring.enabled=false'],
    check: d => {
      expect(['ServiceMonitor', 'PrometheusRule'].filter(k => has(d, k))).toEqual([]);
      expect(d.filter(x => x.kind === 'ConfigMap' && x.metadata.labels?.grafana_dashboard)).toEqual([]);
    },
  },
  {
    key: 'monitoring.release',
    set: ['monitoring.release=prom'],
    check: d => {
      for (const x of d.filter(y => ['ServiceMonitor', 'PrometheusRule'].includes(y.kind))) expect(x.metadata.labels.release).toBe('prom');
    },
  },
  {
    key: 'monitoring.serviceMonitor.enabled',
    set: ['monitoring.serviceMonitor.enabled=false'],
    check: d => {
      expect(has(d, 'ServiceMonitor')).toBe(false);
      expect(has(d, 'PrometheusRule')).toBe(true);
    },
  },
  {
    key: 'monitoring.serviceMonitor.interval',
    set: ['monitoring.serviceMonitor.interval=20s'],
    check: d => {
      // The value sets the data-tier exporters' interval; each service keeps its catalog's own.
      const interval = (name: string) => get(d, 'ServiceMonitor', `rauli-vision-${name}`).spec.endpoints[0].interval;
      expect(['redis-exporter', ...APPS].map(interval)).toEqual(['20s', '30s', '15s', '15s']);
      // CloudNativePG's instances are scraped through PodMonitors, not a postgres-exporter ServiceMonitor.
      expect(d.some(x => x.kind === 'ServiceMonitor' && x.metadata.name === 'rauli-vision-postgres-exporter')).toBe(false);
    },
  },
  {
    key: 'services.frontend.scrapeInterval',
    set: ['services.frontend.scrapeInterval=1m'],
    check: d => expect(get(d, 'ServiceMonitor', 'rauli-vision-frontend').spec.endpoints[0].interval).toBe('1m'),
  },
  {
    key: 'backup.enabled',
    set: ['backup.enabled=false'],
    check: d => {
      expect(has(d, 'CronJob')).toBe(false);
    },
  },
  {
    key: 'backup.schedule',
    set: ['backup.schedule=30 3 * * *'],
    check: d => {
      expect(d.filter(x => x.kind === 'CronJob').map(x => x.spec.schedule)).toContain('30 3 * * *');
    },
  },
  {
    key: 'backup.retention',
    set: ['backup.retention=14d'],
    check: d => {
      expect(d.find(x => x.kind === 'ConfigMap' && x.data?.['retention-days'])?.data['retention-days']).toBe('14');
    },
  },
  {
    key: 'backup.storage.bucketName',
    set: ['backup.storage.bucketName=dr-bucket'],
    check: d => {
      const env = d.filter(x => x.kind === 'CronJob').flatMap(x => x.spec.jobTemplate.spec.template.spec.containers.flatMap((c: Doc) => c.env ?? []));
      expect(env.some((e: Doc) => String(e.value).includes('s3://dr-bucket'))).toBe(true);
    },
  },
  {
    key: 'namespace.create',
    set: ['namespace.create=true'],
    check: d => {
      const ns = get(d, 'Namespace', NS);
      expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    },
  },
  {
    key: 'logging.enabled',
    set: ['logging.enabled=false'],
    check: d => {
      expect(d.filter(x => x.metadata.namespace === LoggingConventions.NAMESPACE || (x.kind === 'Namespace' && x.metadata.name === LoggingConventions.NAMESPACE))).toEqual([]);
      // The data tier's namespace stays.
      expect(d.filter(x => x.kind === 'Namespace').map(x => x.metadata.name)).toEqual([`${NS}-data`]);
      expect(has(d, 'ClusterRole')).toBe(false);
    },
  },
];

test.each([
  ['services.backend-go.replicaCount=abc', /services.backend-go.replicaCount: Invalid type/],
  ['services.reports.replicaCount=1', /Additional property reports is not allowed/],
  ['image.tag=latest', /image.tag: Must not validate/],
  ['image.tag=1.0.0+build', /image.tag: Does not match pattern/],
  ['replicaCont=3', /Additional property replicaCont is not allowed/],
  ['service.type=Ingress', /service.type: service.type must be one of/],
  ['services.backend-go.resources.limits.memory=512MB', /resources.limits.memory: Does not match pattern/],
  ['services.backend-go.scrapeInterval=fast', /scrapeInterval: Does not match pattern/],
  ['environment=prod', /environment: environment must be one of/],
])('values.schema.json refuses --set %s', (set, message) => {
  expect(() => render(set)).toThrow(message);
});

test('a 128-character image tag becomes a valid 63-character version label', () => {
  const tag = `${'a'.repeat(62)}.${'b'.repeat(65)}`;
  const docs = render(`image.tag=${tag}`);
  expect(container(docs, 'backend-go').image).toBe(`ghcr.io/rauli-vision/backend:${tag}`);
  expect(get(docs, 'Deployment', 'backend-go').spec.template.metadata.labels['app.kubernetes.io/version']).toBe('a'.repeat(62));
  expect(validateManifests(docs, validation).errors).toEqual([]);
});

test('an all-digit commit sha is a valid image tag', () => {
  expect(container(render('image.tag=1234567'), 'backend-go').image).toBe('ghcr.io/rauli-vision/backend:1234567');
});

test('refuses autoscaling maxima whose pools one PgBouncer cannot accept', () => {
  const pg = productionPostgres();
  const fit = Math.floor(pg.budget.maxClientConnections / pg.poolSize);
  expect(pg.poolSizeFor(fit)).toBe(pg.poolSize);
  expect(() => pg.poolSizeFor(fit + 1)).toThrow(/maxReplicas/);
  // fit - 1 Go replicas plus the 2 Python replicas.
  expect(() => render(`services.backend-go.autoscaling.maxReplicas=${fit - 1}`))
    .toThrow(new RegExp(`${fit + 1} database client replicas at most with pools of ${pg.poolSize} do not fit in one PgBouncer's ${pg.budget.maxClientConnections} client connections`));
});

describe('helm template --set', () => {
  const baselines = new Map<string, string>();
  const baseline = (base: string[]) => {
    const k = base.join(',');
    if (!baselines.has(k)) baselines.set(k, JSON.stringify(render(...base)));
    return baselines.get(k)!;
  };

  test.each(cases.map(c => [c.key, c]))('%s changes the manifests', (_key, c) => {
    const base = c.base ?? [];
    const docs = render(...base, ...c.set);
    expect(JSON.stringify(docs)).not.toEqual(baseline(base));
    c.check(docs);
    expect(validateManifests(docs, validation).errors).toEqual([]);
  });
});
