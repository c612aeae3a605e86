import { ApiObject, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { EdgeConventions, SecurityHeaders } from '../../src/conventions';
import { Edge, EdgeEnvironments, EdgeGateway, EdgeGatewayClass, EdgeIngress, EdgeKind, LetsEncryptClusterIssuer, SecurityHeadersConfigMap } from '../../src/edge';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';
import { validateManifests } from '../../src/validation';
import { HttpService } from '../../src/workload/http-service';
import { allCrdFiles } from '../support/crds';

const crdFiles = allCrdFiles();

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
  let edge!: EdgeIngress;
  const docs = synth(c => { edge = new EdgeIngress(c, 'edge', { ...routing(c), apiHosts: ['api.rauli-vision.com'] }); });

  test('passes the validation harness with the controller configuration it writes', () => {
    expect(validateManifests(docs, { ingressControllerConfig: edge.controllerConfig }).errors).toEqual([]);
  });

  test('the harness fails its custom-headers and limits without that configuration', () => {
    const errors = validateManifests(docs, { podSecurity: false }).errors;
    expect(errors.filter(e => e.includes('global-allowed-response-headers')).length).toBe(4);
    expect(errors.some(e => /Ingress\/production\/rauli-vision-api: .*limit-rps needs the controller setting limit-req-status-code/.test(e))).toBe(true);
    const lacking = { ...edge.controllerConfig, 'global-allowed-response-headers': 'X-Frame-Options' };
    expect(validateManifests(docs, { podSecurity: false, ingressControllerConfig: lacking }).errors.join('\n')).toMatch(/lacks .*X-Content-Type-Options/);
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

  test('applies the guide\'s rate limits as ingress-nginx annotations', () => {
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

  test('tells the controller which response headers to allow, 429, gzip, and no forwarded headers without a CDN', () => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const svc = routing(chart);
    const e = new EdgeIngress(chart, 'edge', svc);
    expect(e.controllerConfig['global-allowed-response-headers'].split(',').sort())
      .toEqual([...Object.keys(SecurityHeaders.HEADERS), 'Cache-Control'].sort());
    expect(e.controllerConfig).toMatchObject({
      'limit-req-status-code': '429',
      'use-gzip': 'true',
      'gzip-min-length': '1024',
      'gzip-types': 'text/plain text/css application/json application/javascript text/xml application/xml application/xml+rss text/javascript',
      'use-forwarded-headers': 'false',
      'allow-snippet-annotations': 'false',
      'ssl-protocols': 'TLSv1.2 TLSv1.3',
      'use-http2': 'true',
    });
    expect(new EdgeIngress(chart, 'tls13', { ...svc, tls: { minVersion: '1.3' } }).controllerConfig['ssl-protocols']).toBe('TLSv1.3');
    expect(e.controllerConfig['proxy-real-ip-cidr']).toBeUndefined();
    expect(e.controllerValues()).toEqual({ controller: { config: e.controllerConfig } });
  });

  test('behind a declared CDN the controller takes the client address from X-Forwarded-For sent by the CDN only', () => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const svc = routing(chart);
    const e = new EdgeIngress(chart, 'edge', { ...svc, cdn: { cidrs: ['173.245.48.0/20', '2400:cb00::/32'] } });
    expect(e.controllerConfig).toMatchObject({ 'use-forwarded-headers': 'true', 'proxy-real-ip-cidr': '173.245.48.0/20,2400:cb00::/32' });
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
    expect(validateManifests(d, { podSecurity: false }).errors.filter(e => !e.includes('needs the controller setting'))).toEqual([]);
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
    [{ annotations: { [`${NGINX}/configuration-snippet`]: 'more_set_headers "X: y";' } }, /snippet/],
    [{ apiRateLimit: { requestsPerSecond: 0, burst: 0 } }, /apiRateLimit.requestsPerSecond: 0/],
    [{ cdn: { cidrs: ['10.0.0.0/33'] } }, /edge.cdn.cidrs\[0\]: "10.0.0.0\/33".*CIDR/],
    [{ tls: { minVersion: '1.0' } }, /Invalid tls.minVersion: "1.0"/],
  ])('refuses %j', (bad, message) => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const svc = routing(chart);
    expect(() => new EdgeIngress(chart, 'edge', { ...svc, ...bad } as any)).toThrow(message);
  });

  test('needs a namespace for the namespace/name ConfigMap reference', () => {
    const chart = new Chart(Testing.app(), 't');
    const svc = routing(chart);
    expect(() => new EdgeIngress(chart, 'edge', svc)).toThrow(/namespace/);
    expect(() => new EdgeIngress(chart, 'edge2', { ...svc, namespace: 'prod' })).not.toThrow();
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

  test('passes the validation harness against the Envoy Gateway and Gateway API CRDs', () => {
    expect(validateManifests(docs, { crdFiles }).errors).toEqual([]);
  });

  test('Envoy Gateway\'s GatewayClass, one HTTPS listener per host on the cert-manager secret, HTTP redirects to HTTPS', () => {
    const gc = find(docs, 'GatewayClass', 'envoy');
    expect(gc.spec).toEqual({ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' });
    expect(gc.metadata.namespace).toBeUndefined();
    const gw = find(docs, 'Gateway', 'rauli-vision');
    expect(gw.spec.gatewayClassName).toBe('envoy');
    expect(gw.metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
    expect(gw.spec.listeners.map((l: any) => `${l.name} ${l.protocol}:${l.port} ${l.hostname ?? '*'} ${l.tls?.certificateRefs[0].name ?? ''}`)).toEqual([
      'http HTTP:80 * ',
      'https-rauli-vision.com HTTPS:443 rauli-vision.com rauli-vision-tls',
      'https-api.rauli-vision.com HTTPS:443 api.rauli-vision.com rauli-vision-tls',
    ]);
    const redirect = find(docs, 'HTTPRoute', 'rauli-vision-redirect');
    expect(redirect.spec.parentRefs).toEqual([{ name: 'rauli-vision', sectionName: 'http' }]);
    expect(redirect.spec.hostnames).toEqual(['rauli-vision.com', 'api.rauli-vision.com']);
    expect(redirect.spec.rules[0].filters[0].requestRedirect).toEqual({ scheme: 'https', statusCode: 301 });
  });

  test('the same routes as the Ingress edge, with headers as ResponseHeaderModifier filters', () => {
    const web = find(docs, 'HTTPRoute', 'rauli-vision-web');
    expect(web.spec.hostnames).toEqual(['rauli-vision.com']);
    expect(web.spec.parentRefs).toEqual([{ name: 'rauli-vision', sectionName: 'https-rauli-vision.com' }]);
    const rules = web.spec.rules.map((r: any) => `${r.matches[0].path.type} ${r.matches[0].path.value} -> ${r.backendRefs[0].name}:${r.backendRefs[0].port}`);
    expect(rules).toEqual([
      'PathPrefix /assets/ -> frontend:80',
      'PathPrefix /api/ -> backend-go:8080',
      'PathPrefix / -> frontend:80',
    ]);
    const setOf = (rule: any) => Object.fromEntries(rule.filters[0].responseHeaderModifier.set.map((h: any) => [h.name, h.value]));
    expect(setOf(web.spec.rules[2])).toEqual(SecurityHeaders.HEADERS);
    expect(setOf(web.spec.rules[0])).toEqual({ ...SecurityHeaders.HEADERS, 'Cache-Control': 'public, max-age=31536000, immutable' });
    expect(web.spec.rules.every((r: any) => r.timeouts.request === '30s')).toBe(true);
    const api = find(docs, 'HTTPRoute', 'rauli-vision-api');
    expect(api.spec.hostnames).toEqual(['api.rauli-vision.com']);
    expect(api.spec.parentRefs).toEqual([{ name: 'rauli-vision', sectionName: 'https-api.rauli-vision.com' }]);
    expect(api.spec.rules.map((r: any) => r.matches[0].path.value)).toEqual(['/']);
    expect(api.spec.rules[0].backendRefs).toEqual([{ name: 'backend-go', port: 8080 }]);
  });

  test('each HTTPRoute has its BackendTrafficPolicy: the API host is limited everywhere, login on both', () => {
    const limitsOf = (name: string) => find(docs, 'BackendTrafficPolicy', name).spec.rateLimit.local.rules
      .map((r: any) => `${r.clientSelectors[0].path.type} ${r.clientSelectors[0].path.value} ${r.clientSelectors[0].sourceCIDR.value} ${r.limit.requests}/${r.limit.unit}`);
    expect(limitsOf('rauli-vision-web')).toEqual([
      'PathPrefix /api/ 0.0.0.0/0 10/Second', 'PathPrefix /api/ ::/0 10/Second',
      `Exact ${EdgeConventions.LOGIN_PATH} 0.0.0.0/0 1/Second`, `Exact ${EdgeConventions.LOGIN_PATH} ::/0 1/Second`,
    ]);
    expect(limitsOf('rauli-vision-api')).toEqual([
      'PathPrefix / 0.0.0.0/0 10/Second', 'PathPrefix / ::/0 10/Second',
      `Exact ${EdgeConventions.LOGIN_PATH} 0.0.0.0/0 1/Second`, `Exact ${EdgeConventions.LOGIN_PATH} ::/0 1/Second`,
    ]);
    for (const name of ['rauli-vision-web', 'rauli-vision-api']) {
      expect(find(docs, 'BackendTrafficPolicy', name).spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name }]);
    }
    expect(find(docs, 'ClientTrafficPolicy', 'rauli-vision').spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'rauli-vision' }]);
    expect(find(docs, 'ClientTrafficPolicy', 'rauli-vision').spec.clientIPDetection).toBeUndefined();
  });

  test('limits, body size, TLS versions, CDN and timeouts are settable', () => {
    const d = synth(c => new EdgeGateway(c, 'gw', {
      ...routing(c),
      apiRateLimit: { requestsPerSecond: 50, burst: 100 },
      loginRateLimit: { requestsPerSecond: 2, burst: 2 },
      maxBodySize: '512k',
      requestTimeout: '1m',
      tls: { minVersion: '1.3' },
      cdn: { cidrs: ['173.245.48.0/20', '2400:cb00::/32'] },
    }));
    const btp = find(d, 'BackendTrafficPolicy', 'rauli-vision-web').spec;
    expect(btp.rateLimit.local.rules.map((r: any) => r.limit.requests)).toEqual([50, 50, 2, 2]);
    expect(btp.requestBuffer).toEqual({ limit: '512Ki' });
    const ctp = find(d, 'ClientTrafficPolicy', 'rauli-vision').spec;
    expect(ctp.tls).toEqual({ minVersion: '1.3', maxVersion: '1.3', alpnProtocols: ['h2', 'http/1.1'] });
    expect(ctp.clientIPDetection).toEqual({ xForwardedFor: { trustedCIDRs: ['173.245.48.0/20', '2400:cb00::/32'] } });
    expect(find(d, 'HTTPRoute', 'rauli-vision-web').spec.rules[0].timeouts).toEqual({ request: '1m' });
    expect(validateManifests(d, { crdFiles }).errors).toEqual([]);
    const unlimited = synth(c => new EdgeGateway(c, 'gw', { ...routing(c), maxBodySize: '0' }));
    expect(find(unlimited, 'BackendTrafficPolicy', 'rauli-vision-web').spec.requestBuffer).toBeUndefined();
  });

  test('routes from a catalog: service, host and path prefix per entry; hosts with the same routes share an HTTPRoute', () => {
    const d = synth(c => {
      const { frontend, backend } = routing(c);
      const shop = new HttpService(c, 'shop', { name: 'shop', component: 'shop', image: 'ghcr.io/rauli-vision/shop:1.0.0', servicePort: 8080 });
      new EdgeGateway(c, 'gw', {
        routes: [
          { backend: frontend, host: 'rauli-vision.com', pathPrefix: '/', staticAssets: true },
          { backend: backend, host: 'rauli-vision.com', pathPrefix: '/api/', rateLimit: { requestsPerSecond: 10, burst: 20 } },
          { backend: shop, host: 'shop.rauli-vision.com', pathPrefix: '/' },
          { backend: shop, host: 'tienda.rauli-vision.com', pathPrefix: '/' },
        ],
      });
    });
    expect(d.filter(x => x.kind === 'HTTPRoute').map(x => `${x.metadata.name} ${x.spec.hostnames.join(',')}`)).toEqual([
      'rauli-vision-redirect rauli-vision.com,shop.rauli-vision.com,tienda.rauli-vision.com',
      'rauli-vision-web rauli-vision.com',
      'rauli-vision-web-1 shop.rauli-vision.com,tienda.rauli-vision.com',
    ]);
    const shopRoute = find(d, 'HTTPRoute', 'rauli-vision-web-1');
    expect(shopRoute.spec.rules.map((r: any) => `${r.matches[0].path.value} -> ${r.backendRefs[0].name}`)).toEqual(['/ -> shop']);
    expect(find(d, 'BackendTrafficPolicy', 'rauli-vision-web-1').spec.rateLimit).toBeUndefined();
    expect(validateManifests(d, { crdFiles }).errors).toEqual([]);
  });

  test('an existing GatewayClass is only named', () => {
    const d = synth(c => new EdgeGateway(c, 'gw', { ...routing(c), gatewayClass: EdgeGatewayClass.existing('eg-shared') }));
    expect(d.some(x => x.kind === 'GatewayClass')).toBe(false);
    expect(find(d, 'Gateway', 'rauli-vision').spec.gatewayClassName).toBe('eg-shared');
  });

  test.each([
    [{ apiRateLimit: { requestsPerSecond: 0, burst: 20 } }, /Invalid apiRateLimit.requestsPerSecond: 0/],
    [{ loginRateLimit: { requestsPerSecond: 0, burst: 0 } }, /Invalid loginRateLimit.requestsPerSecond: 0/],
    [{ tls: { minVersion: '1.1' } }, /Invalid tls.minVersion: "1.1".*'1.2', '1.3'/],
    [{ tls: { minVersion: '1.3', maxVersion: '1.2' } }, /Invalid tls.maxVersion: "1.2".*'1.3'/],
    [{ cdn: { cidrs: ['173.245.48.0/20', '173.245.48.1/20'] } }, /Invalid edge.cdn.cidrs\[1\]: "173.245.48.1\/20".*host bits/],
    [{ cdn: { cidrs: ['2400:cb00::1/32'] } }, /Invalid edge.cdn.cidrs\[0\]: "2400:cb00::1\/32".*host bits/],
    [{ cdn: { cidrs: ['173.245.48.0'] } }, /Invalid edge.cdn.cidrs\[0\]: "173.245.48.0".*CIDR block/],
    [{ cdn: { cidrs: ['173.245.48.0/33'] } }, /Invalid edge.cdn.cidrs\[0\]: "173.245.48.0\/33"/],
    [{ cdn: { cidrs: ['010.0.0.0/8'] } }, /Invalid edge.cdn.cidrs\[0\]: "010.0.0.0\/8"/],
    [{ cdn: { cidrs: ['cloudflare'] } }, /Invalid edge.cdn.cidrs\[0\]: "cloudflare"/],
    [{ cdn: { cidrs: [] } }, /Invalid edge.cdn.cidrs: \[\]/],
    [{ frontend: undefined }, /Invalid frontend/],
  ])('refuses %j', (bad, message) => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const svc = routing(chart);
    expect(() => new EdgeGateway(chart, 'edge', { ...svc, ...bad } as any)).toThrow(message);
  });

  test('refuses two routes on the same host and path, naming the route', () => {
    const chart = new Chart(Testing.app(), 't', { namespace: 'x' });
    const svc = routing(chart);
    expect(() => new EdgeGateway(chart, 'edge', {
      routes: [
        { backend: svc.frontend, host: 'rauli-vision.com', pathPrefix: '/' },
        { backend: svc.backend, host: 'rauli-vision.com', pathPrefix: '/' },
      ],
    })).toThrow(/Invalid routes\[1\]: "rauli-vision.com\/".*one route per host and path prefix \(routes\[0\] already routes/);
    expect(() => new EdgeGateway(chart, 'edge2', { ...svc, routes: [] })).toThrow(/either routes or hosts/);
    expect(() => new EdgeGateway(chart, 'edge3', { routes: [{ backend: undefined as any, host: 'a.b', pathPrefix: '/' }] }))
      .toThrow(/routes\[0\].backend/);
  });
});

describe('Edge', () => {
  test('defaults to Gateway API on Envoy Gateway, the issuer solving HTTP-01 through the Gateway listener', () => {
    let edge!: Edge;
    const docs = synth(c => { edge = new Edge(c, 'edge', { ...routing(c), acmeEmail: 'ops@rauli-vision.com' }); });
    expect(edge.kind).toBe(EdgeKind.GATEWAY_API);
    expect(edge.proxyNamespace).toBe('envoy-gateway-system');
    expect(docs.some(d => d.kind === 'Ingress')).toBe(false);
    expect(docs.filter(d => d.apiVersion.startsWith('gateway.')).map(d => d.kind).sort())
      .toEqual(['BackendTrafficPolicy', 'ClientTrafficPolicy', 'Gateway', 'GatewayClass', 'HTTPRoute', 'HTTPRoute']);
    const issuer = find(docs, 'ClusterIssuer', 'letsencrypt-prod');
    expect(issuer.spec.acme.email).toBe('ops@rauli-vision.com');
    expect(issuer.spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs)
      .toEqual([{ name: 'rauli-vision', namespace: 'production', kind: 'Gateway', sectionName: 'http' }]);
    expect(validateManifests(docs, { crdFiles }).errors).toEqual([]);
  });

  test('ingress-nginx stays selectable, with a ClusterIssuer solving through the nginx class', () => {
    let edge!: Edge;
    const docs = synth(c => { edge = new Edge(c, 'edge', { ...routing(c), kind: EdgeKind.INGRESS_NGINX }); });
    expect(docs.filter(d => d.kind === 'Ingress')).toHaveLength(4);
    expect(docs.some(d => d.kind === 'Gateway')).toBe(false);
    expect(edge.proxyNamespace).toBe('ingress-nginx');
    expect(find(docs, 'ClusterIssuer', 'letsencrypt-prod').spec.acme.solvers[0].http01.ingress.ingressClassName).toBe('nginx');
    expect(validateManifests(docs, { ingressControllerConfig: edge.ingress!.controllerConfig }).errors).toEqual([]);
  });

  test('the ClusterIssuer can be left to another chart', () => {
    const docs = synth(c => new Edge(c, 'edge', { ...routing(c), kind: EdgeKind.INGRESS_NGINX, createClusterIssuer: false }));
    expect(docs.some(d => d.kind === 'ClusterIssuer')).toBe(false);
    expect(find(docs, 'Ingress', 'rauli-vision-web').metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
  });
});

describe('RauliVisionChart edge', () => {
  const images = { frontend: 'ghcr.io/rauli-vision/frontend:1.0.0', backendGo: 'ghcr.io/rauli-vision/backend:1.0.0', backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0' };
  const servicesOf = (docs: any[]) => new Map(docs.filter(d => d.kind === 'Service').map(d => [d.metadata.name, d.spec.ports.map((p: any) => p.port)]));
  // The namespace the edge admits traffic from, on every routed service's policy.
  const edgePolicy = (docs: any[]) => [...new Set(['frontend-ingress', 'backend-go-ingress'].map(n =>
    find(docs, 'NetworkPolicy', n).spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']))].join(',');

  // The catalog's routing table is the edge's own default layout for the three services.
  test.each([EdgeKind.GATEWAY_API, EdgeKind.INGRESS_NGINX])('%s: the catalog routes exactly as the edge\'s frontend/backend defaults', kind => {
    const edgeOptions = { kind, ...EdgeEnvironments.routing('staging') };
    const fromCatalog = new RauliVisionChart(Testing.app(), 'staging', { environment: 'staging', images, edge: edgeOptions });
    const direct = new RauliVisionChart(Testing.app(), 'staging', { environment: 'staging', images });
    new Edge(direct, 'Edge', { ...edgeOptions, frontend: direct.frontend!, backend: direct.backendGo! });
    const edgeDocs = (chart: RauliVisionChart) => {
      const keys = new Set(chart.node.findChild('Edge').node.findAll().filter(c => c instanceof ApiObject).map(o => `${(o as ApiObject).kind}/${(o as ApiObject).name}`));
      return Testing.synth(chart).filter(d => keys.has(`${d.kind}/${d.metadata.name}`));
    };
    const expected = edgeDocs(direct);
    expect(expected.length).toBeGreaterThan(3);
    expect(edgeDocs(fromCatalog)).toEqual(expected);
  });

  test.each(['dev', 'staging', 'production'])('%s: HTTPRoutes reach the Services, Envoy\'s namespace may reach the pods, 0 harness errors', environment => {
    const chart = new RauliVisionChart(Testing.app(), environment, { environment, images, edge: EdgeEnvironments.routing(environment) });
    const docs = Testing.synth(chart);
    const services = servicesOf(docs);
    const refs = docs.filter(d => d.kind === 'HTTPRoute').flatMap(d => d.spec.rules.flatMap((r: any) => r.backendRefs ?? []));
    expect(refs.length).toBeGreaterThan(2);
    for (const ref of refs) expect(services.get(ref.name)).toContain(ref.port);
    expect(edgePolicy(docs)).toBe('envoy-gateway-system');
    expect(validateManifests(docs, { crdFiles }).errors).toEqual([]);
  });

  test('with ingress-nginx the Ingresses reach the Services and the controller\'s namespace may reach the pods', () => {
    const chart = new RauliVisionChart(Testing.app(), 'prod', {
      environment: 'production', images, edge: { kind: EdgeKind.INGRESS_NGINX, apiHosts: ['api.rauli-vision.com'] },
    });
    const docs = Testing.synth(chart);
    const services = servicesOf(docs);
    for (const ing of docs.filter(d => d.kind === 'Ingress')) {
      for (const p of ing.spec.rules.flatMap((r: any) => r.http.paths)) {
        expect(services.get(p.backend.service.name)).toContain(p.backend.service.port.number);
      }
    }
    expect(find(docs, 'Ingress', 'rauli-vision-web').spec.rules[0].http.paths[0].backend.service.name).toBe('frontend');
    expect(find(docs, 'Ingress', 'rauli-vision-api').spec.rules[0].http.paths[0].backend.service.name).toBe('backend-go');
    expect(edgePolicy(docs)).toBe('ingress-nginx');
    expect(validateManifests(docs, { crdFiles, ingressControllerConfig: chart.edge!.ingress!.controllerConfig }).errors).toEqual([]);
  });
});

describe('EdgeEnvironments', () => {
  test('production serves the apex domain, other environments their own hosts (the guide\'s api-staging)', () => {
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
