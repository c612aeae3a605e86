import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { EdgeConventions, SecurityHeaders } from '../../src/conventions';
import { Edge, EdgeEnvironments, EdgeGateway, EdgeIngress, EdgeKind, LetsEncryptClusterIssuer, SecurityHeadersConfigMap } from '../../src/edge';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';
import { validateManifests } from '../../src/validation';
import { HttpService } from '../../src/workload/http-service';
import { allCrdFiles } from '../support/crds';

const NGINX = 'nginx.ingress.kubernetes.io';
/** The two services the edge routes to, created in the chart the edge goes into. */
const routing = (scope: Construct) => ({
  frontend: new HttpService(scope, 'frontend', { name: 'frontend', component: 'frontend', image: 'ghcr.io/rauli-vision/frontend:1.0.0' }),
  backend: new HttpService(scope, 'backend', { name: 'backend-go', component: 'backend-go', image: 'ghcr.io/rauli-vision/backend:1.0.0', servicePort: 8080 }),
});

function synth(build: (chart: Chart) => void, namespace = 'production'): any[] {
  const chart = new Chart(Testing.app(), 'test', { namespace });
  build(chart);
  return Testing.synth(chart);
}
const find = (docs: any[], kind: string, name: string) => {
  const doc = docs.find(d => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`${kind}/${name} not synthesized; have ${docs.map(d => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
};
const backendsOf = (ing: any) => ing.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) =>
  `${r.host}${p.path} ${p.pathType} -> ${p.backend.service.name}:${p.backend.service.port.number}`));

describe('EdgeIngress', () => {
  const docs = synth(c => new EdgeIngress(c, 'edge', { ...routing(c), apiHosts: ['api.rauli-vision.com'] }));

  test('passes the validation harness', () => {
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('routes / to the frontend, /api/ and the API host to the backend, login and assets separately', () => {
    expect(backendsOf(find(docs, 'Ingress', 'rauli-vision-web'))).toEqual(['rauli-vision.com/ Prefix -> frontend:80']);
    expect(backendsOf(find(docs, 'Ingress', 'rauli-vision-api'))).toEqual([
      'rauli-vision.com/api/ Prefix -> backend-go:8080',
      'api.rauli-vision.com/ Prefix -> backend-go:8080',
    ]);
    expect(backendsOf(find(docs, 'Ingress', 'rauli-vision-login'))).toEqual([
      `rauli-vision.com${EdgeConventions.LOGIN_PATH} Exact -> backend-go:8080`,
      `api.rauli-vision.com${EdgeConventions.LOGIN_PATH} Exact -> backend-go:8080`,
    ]);
    expect(backendsOf(find(docs, 'Ingress', 'rauli-vision-assets'))).toEqual(['rauli-vision.com/assets/ Prefix -> frontend:80']);
    for (const ing of docs.filter(d => d.kind === 'Ingress')) expect(ing.spec.ingressClassName).toBe('nginx');
  });

  test('applies the seed rate limits as ingress-nginx annotations', () => {
    const api = find(docs, 'Ingress', 'rauli-vision-api').metadata.annotations;
    expect([api[`${NGINX}/limit-rps`], api[`${NGINX}/limit-burst-multiplier`]]).toEqual(['10', '2']);
    const login = find(docs, 'Ingress', 'rauli-vision-login').metadata.annotations;
    expect([login[`${NGINX}/limit-rps`], login[`${NGINX}/limit-burst-multiplier`]]).toEqual(['1', '5']);
    expect(find(docs, 'Ingress', 'rauli-vision-web').metadata.annotations[`${NGINX}/limit-rps`]).toBeUndefined();
  });

  test('every Ingress redirects to HTTPS with the same certificate; only one asks cert-manager for it', () => {
    const ingresses = docs.filter(d => d.kind === 'Ingress');
    expect(ingresses).toHaveLength(4);
    for (const ing of ingresses) {
      expect(ing.spec.tls).toEqual([{ hosts: ['rauli-vision.com', 'api.rauli-vision.com'], secretName: 'rauli-vision-tls' }]);
      const a = ing.metadata.annotations;
      expect([a[`${NGINX}/ssl-redirect`], a[`${NGINX}/proxy-body-size`], a[`${NGINX}/proxy-read-timeout`], a[`${NGINX}/proxy-send-timeout`]])
        .toEqual(['true', '10m', '30', '30']);
      expect(Object.keys(a).filter(k => k.includes('snippet'))).toEqual([]);
    }
    expect(ingresses.filter(i => i.metadata.annotations['cert-manager.io/cluster-issuer']).map(i => i.metadata.name))
      .toEqual(['rauli-vision-web']);
  });

  test('security headers and asset caching come from ConfigMaps named namespace/name, not snippets', () => {
    const headers = find(docs, 'ConfigMap', 'rauli-vision-security-headers');
    expect(headers.data).toEqual(SecurityHeaders.HEADERS);
    const assets = find(docs, 'ConfigMap', 'rauli-vision-asset-headers');
    expect(assets.data).toEqual({ ...SecurityHeaders.HEADERS, 'Cache-Control': 'public, max-age=31536000, immutable' });
    expect(find(docs, 'Ingress', 'rauli-vision-web').metadata.annotations[`${NGINX}/custom-headers`]).toBe('production/rauli-vision-security-headers');
    expect(find(docs, 'Ingress', 'rauli-vision-assets').metadata.annotations[`${NGINX}/custom-headers`]).toBe('production/rauli-vision-asset-headers');
  });

  test('tells the controller which response headers to allow', () => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const edge = new EdgeIngress(chart, 'edge', routing(chart));
    expect(edge.controllerConfig['global-allowed-response-headers'].split(',').sort())
      .toEqual([...Object.keys(SecurityHeaders.HEADERS), 'Cache-Control'].sort());
    expect(edge.controllerConfig['limit-req-status-code']).toBe('429');
  });

  test('hosts, secret, issuer, limits, body size and timeout are settable', () => {
    const d = synth(c => new EdgeIngress(c, 'edge', {
      ...routing(c),
      name: 'rv',
      hosts: ['staging.rauli-vision.com'],
      tlsSecretName: 'staging-tls',
      clusterIssuerName: 'letsencrypt-staging',
      apiRateLimit: { requestsPerSecond: 50, burst: 150 },
      maxBodySize: '1m',
      requestTimeout: '1m',
      className: 'internal',
    }), 'staging');
    const web = find(d, 'Ingress', 'rv-web');
    expect(web.spec.rules[0].host).toBe('staging.rauli-vision.com');
    expect(web.spec.tls[0].secretName).toBe('staging-tls');
    expect(web.spec.ingressClassName).toBe('internal');
    expect(web.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-staging');
    expect(web.metadata.annotations[`${NGINX}/proxy-body-size`]).toBe('1m');
    expect(web.metadata.annotations[`${NGINX}/proxy-read-timeout`]).toBe('60');
    const api = find(d, 'Ingress', 'rv-api').metadata.annotations;
    expect([api[`${NGINX}/limit-rps`], api[`${NGINX}/limit-burst-multiplier`]]).toEqual(['50', '3']);
    expect(validateManifests(d).errors).toEqual([]);
  });

  test('without security headers the assets still get their cache header', () => {
    const d = synth(c => new EdgeIngress(c, 'edge', { ...routing(c), securityHeaders: false }));
    expect(d.filter(x => x.kind === 'ConfigMap').map(x => x.metadata.name)).toEqual(['rauli-vision-asset-headers']);
    expect(find(d, 'ConfigMap', 'rauli-vision-asset-headers').data).toEqual({ 'Cache-Control': EdgeConventions.STATIC_ASSETS_CACHE_CONTROL });
    expect(find(d, 'Ingress', 'rauli-vision-web').metadata.annotations[`${NGINX}/custom-headers`]).toBeUndefined();
  });

  test.each([
    [{ hosts: ['Rauli-Vision.com'] }, /hosts\[0\].*DNS-1123 subdomain/],
    [{ hosts: [] }, /hosts.*at least one host/],
    [{ apiHosts: ['rauli-vision.com'] }, /each host once/],
    [{ tlsSecretName: 'tls_secret' }, /tlsSecretName/],
    [{ apiRateLimit: { requestsPerSecond: 10, burst: 25 } }, /apiRateLimit.burst.*multiple of requestsPerSecond/],
    [{ loginRateLimit: { requestsPerSecond: 0, burst: 5 } }, /loginRateLimit.requestsPerSecond/],
    [{ maxBodySize: '10MB' }, /maxBodySize.*nginx size/],
    [{ requestTimeout: '500ms' }, /requestTimeout.*whole number of seconds/],
    [{ requestTimeout: 'thirty' }, /requestTimeout.*duration/],
    [{ routes: [{ pathPrefix: '/api/', service: 'backend' }] }, /routes\[0\].pathPrefix.*not \/, \/api\//],
    [{ routes: [{ pathPrefix: '/reports/', host: 'elsewhere.example.com', service: 'backend' }] }, /routes\[0\].host.*one of the edge's hosts/],
    [{ annotations: { [`${NGINX}/configuration-snippet`]: 'more_set_headers "X: y";' } }, /snippet/],
  ])('refuses %j', (bad, message) => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const services = routing(chart);
    const routes = (bad as any).routes?.map((r: any) => ({ ...r, service: services.backend }));
    expect(() => new EdgeIngress(chart, 'edge', { ...services, ...bad, ...(routes ? { routes } : {}) } as any)).toThrow(message);
  });

  test('needs a namespace for the namespace/name ConfigMap reference', () => {
    const chart = new Chart(Testing.app(), 't');
    const services = routing(chart);
    expect(() => new EdgeIngress(chart, 'edge', services)).toThrow(/namespace/);
    expect(() => new EdgeIngress(chart, 'edge2', { ...services, namespace: 'prod' })).not.toThrow();
  });
});

describe('SecurityHeadersConfigMap', () => {
  test('refuses values ingress-nginx would reject (the controller would deny the whole Ingress)', () => {
    const chart = new Chart(Testing.app(), 't');
    expect(() => new SecurityHeadersConfigMap(chart, 'a', { headers: { 'X-Bad\nName': 'x' } })).toThrow(/header names/);
    expect(() => new SecurityHeadersConfigMap(chart, 'b', { headers: { 'X-Ok': 'line\nbreak' } })).toThrow(/X-Ok/);
    expect(() => new SecurityHeadersConfigMap(chart, 'c', { headers: {} })).toThrow(/at least one header/);
    expect(new SecurityHeadersConfigMap(chart, 'd').allowedResponseHeaders).toBe(Object.keys(SecurityHeaders.HEADERS).join(','));
  });
});

describe('LetsEncryptClusterIssuer', () => {
  test('ACME http01 through the nginx class, e-mail settable, cluster-scoped', () => {
    const docs = synth(c => new LetsEncryptClusterIssuer(c, 'issuer', { email: 'ops@rauli-vision.com' }));
    const issuer = find(docs, 'ClusterIssuer', 'letsencrypt-prod');
    expect(issuer.metadata.namespace).toBeUndefined();
    expect(issuer.spec.acme).toEqual({
      email: 'ops@rauli-vision.com',
      server: LetsEncryptClusterIssuer.PRODUCTION_SERVER,
      privateKeySecretRef: { name: 'letsencrypt-prod-account-key' },
      solvers: [{ http01: { ingress: { ingressClassName: 'nginx' } } }],
    });
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('refuses a malformed e-mail or server', () => {
    const chart = new Chart(Testing.app(), 't');
    expect(() => new LetsEncryptClusterIssuer(chart, 'a', { email: 'ops at rauli' })).toThrow(/email.*e-mail address/);
    expect(() => new LetsEncryptClusterIssuer(chart, 'b', { server: 'http://acme.example/dir' })).toThrow(/server.*https/);
  });
});

describe('EdgeGateway', () => {
  const docs = synth(c => new EdgeGateway(c, 'gw', { ...routing(c), apiHosts: ['api.rauli-vision.com'] }));

  test('passes the validation harness', () => {
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('one HTTPS listener per host on the cert-manager secret, HTTP redirects to HTTPS', () => {
    const gw = find(docs, 'Gateway', 'rauli-vision');
    expect(gw.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
    expect(gw.spec.listeners.map((l: any) => `${l.name} ${l.protocol}:${l.port} ${l.hostname ?? '*'} ${l.tls?.certificateRefs[0].name ?? ''}`)).toEqual([
      'http HTTP:80 * ',
      'https-0 HTTPS:443 rauli-vision.com rauli-vision-tls',
      'https-1 HTTPS:443 api.rauli-vision.com rauli-vision-tls',
    ]);
    const redirect = find(docs, 'HTTPRoute', 'rauli-vision-redirect');
    expect(redirect.spec.parentRefs).toEqual([{ name: 'rauli-vision', sectionName: 'http' }]);
    expect(redirect.spec.rules[0].filters[0].requestRedirect).toEqual({ scheme: 'https', statusCode: 301 });
  });

  test('the same routes as the Ingress edge, with headers as ResponseHeaderModifier filters', () => {
    const web = find(docs, 'HTTPRoute', 'rauli-vision-web');
    expect(web.spec.hostnames).toEqual(['rauli-vision.com']);
    expect(web.spec.parentRefs).toEqual([{ name: 'rauli-vision', sectionName: 'https-0' }]);
    const rules = web.spec.rules.map((r: any) => `${r.matches[0].path.type} ${r.matches[0].path.value} -> ${r.backendRefs[0].name}:${r.backendRefs[0].port}`);
    expect(rules).toEqual([
      `Exact ${EdgeConventions.LOGIN_PATH} -> backend-go:8080`,
      'PathPrefix /api/ -> backend-go:8080',
      'PathPrefix /assets/ -> frontend:80',
      'PathPrefix / -> frontend:80',
    ]);
    const setOf = (rule: any) => Object.fromEntries(rule.filters[0].responseHeaderModifier.set.map((h: any) => [h.name, h.value]));
    expect(setOf(web.spec.rules[3])).toEqual(SecurityHeaders.HEADERS);
    expect(setOf(web.spec.rules[2])['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(web.spec.rules.every((r: any) => r.timeouts.request === '30s')).toBe(true);
    const api = find(docs, 'HTTPRoute', 'rauli-vision-api');
    expect(api.spec.hostnames).toEqual(['api.rauli-vision.com']);
    expect(api.spec.rules[0].backendRefs).toEqual([{ name: 'backend-go', port: 8080 }]);
  });
});

describe('Edge', () => {
  test('defaults to ingress-nginx with a ClusterIssuer solving through the nginx class', () => {
    const docs = synth(c => new Edge(c, 'edge', routing(c)));
    expect(docs.filter(d => d.kind === 'Ingress')).toHaveLength(4);
    expect(docs.some(d => d.kind === 'Gateway')).toBe(false);
    expect(find(docs, 'ClusterIssuer', 'letsencrypt-prod').spec.acme.solvers[0].http01.ingress.ingressClassName).toBe('nginx');
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('Gateway API alternative: the issuer solves HTTP-01 through the Gateway listener', () => {
    const docs = synth(c => new Edge(c, 'edge', { ...routing(c), kind: EdgeKind.GATEWAY_API, acmeEmail: 'ops@rauli-vision.com' }));
    expect(docs.some(d => d.kind === 'Ingress')).toBe(false);
    const issuer = find(docs, 'ClusterIssuer', 'letsencrypt-prod');
    expect(issuer.spec.acme.email).toBe('ops@rauli-vision.com');
    expect(issuer.spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs)
      .toEqual([{ name: 'rauli-vision', namespace: 'production', kind: 'Gateway', sectionName: 'http' }]);
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('the ClusterIssuer can be left to another chart', () => {
    const docs = synth(c => new Edge(c, 'edge', { ...routing(c), createClusterIssuer: false }));
    expect(docs.some(d => d.kind === 'ClusterIssuer')).toBe(false);
    expect(find(docs, 'Ingress', 'rauli-vision-web').metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
  });
});

describe('extra path routes', () => {
  const withReports = (c: Construct) => {
    const services = routing(c);
    const reports = new HttpService(c, 'reports', { name: 'reports', component: 'reports', image: 'ghcr.io/rauli-vision/reports:1.0.0', servicePort: 8081 });
    return { ...services, apiHosts: ['api.rauli-vision.com'], routes: [{ service: reports, pathPrefix: '/reports/' }, { service: reports, pathPrefix: '/exports/', host: 'api.rauli-vision.com' }] };
  };

  test('ingress-nginx: one Ingress per route, to the service\'s port, with the API limit and headers', () => {
    const docs = synth(c => new EdgeIngress(c, 'edge', withReports(c)));
    const ing = find(docs, 'Ingress', 'rauli-vision-reports');
    expect(backendsOf(ing)).toEqual(['rauli-vision.com/reports/ Prefix -> reports:8081', 'api.rauli-vision.com/exports/ Prefix -> reports:8081']);
    expect(ing.metadata.annotations[`${NGINX}/limit-rps`]).toBe('10');
    expect(ing.metadata.annotations[`${NGINX}/custom-headers`]).toBe('production/rauli-vision-security-headers');
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('Gateway API: one HTTPRoute per route on the listeners of its hosts', () => {
    const docs = synth(c => new EdgeGateway(c, 'gw', withReports(c)));
    const routes = ['rauli-vision-reports', 'rauli-vision-reports-2'].map(n => find(docs, 'HTTPRoute', n).spec);
    const summary = routes.map(r => [
      r.hostnames, r.parentRefs.map((p: any) => p.sectionName), r.rules[0].matches[0].path.value, r.rules[0].backendRefs[0],
    ]);
    expect(summary).toEqual([
      [['rauli-vision.com'], ['https-0'], '/reports/', { name: 'reports', port: 8081 }],
      [['api.rauli-vision.com'], ['https-1'], '/exports/', { name: 'reports', port: 8081 }],
    ]);
  });
});

describe('RauliVisionChart edge', () => {
  test('routes to the chart\'s frontend and Go backend Services and passes the harness', () => {
    const chart = new RauliVisionChart(Testing.app(), 'prod', {
      environment: 'production',
      images: { frontend: 'ghcr.io/rauli-vision/frontend:1.0.0', backendGo: 'ghcr.io/rauli-vision/backend:1.0.0', backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0' },
      edge: { apiHosts: ['api.rauli-vision.com'] },
    });
    const docs = Testing.synth(chart);
    const services = new Map(docs.filter(d => d.kind === 'Service').map(d => [d.metadata.name, d.spec.ports.map((p: any) => p.port)]));
    for (const ing of docs.filter(d => d.kind === 'Ingress')) {
      for (const p of ing.spec.rules.flatMap((r: any) => r.http.paths)) {
        expect(services.get(p.backend.service.name)).toContain(p.backend.service.port.number);
      }
    }
    expect(find(docs, 'Ingress', 'rauli-vision-web').spec.rules[0].http.paths[0].backend.service.name).toBe('frontend');
    expect(find(docs, 'Ingress', 'rauli-vision-api').spec.rules[0].http.paths[0].backend.service.name).toBe('backend-go');
    // Production runs PostgreSQL on CloudNativePG: its custom resources need the operators' CRD files.
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
  });
});

describe('EdgeEnvironments', () => {
  test('production serves the apex domain, other environments their own hosts (the seed\'s api-staging)', () => {
    expect(EdgeEnvironments.routing('production')).toEqual({ hosts: ['rauli-vision.com'], apiHosts: [] });
    expect(EdgeEnvironments.routing('staging')).toEqual({ hosts: ['staging.rauli-vision.com'], apiHosts: ['api-staging.rauli-vision.com'] });
    expect(() => EdgeEnvironments.routing('Staging')).toThrow(/environment/);
  });

  test('two environments in one cluster claim no common host', () => {
    const hosts = ['dev', 'staging', 'production'].flatMap(env => {
      const docs = synth(c => new EdgeIngress(c, 'edge', { ...routing(c), ...EdgeEnvironments.routing(env) }), `rauli-vision-${env}`);
      return [...new Set(docs.filter(d => d.kind === 'Ingress').flatMap(d => d.spec.rules.map((r: any) => r.host)))];
    });
    expect(new Set(hosts).size).toBe(hosts.length);
  });
});
