import { Chart, Testing } from 'cdk8s';
import { EdgeIngress } from '../../src/edge';
import { validateManifests } from '../../src/validation';
import { HttpService } from '../../src/workload/http-service';

const NGINX = 'nginx.ingress.kubernetes.io';

/** The platform's Ingress edge and the controller configuration it writes. */
function edge(): { docs: any[]; config: { [key: string]: string } } {
  const chart = new Chart(Testing.app(), 't', { namespace: 'web' });
  const frontend = new HttpService(chart, 'frontend', { name: 'frontend', component: 'frontend', image: 'ghcr.io/rauli-vision/frontend:1.0.0' });
  const backend = new HttpService(chart, 'api', { name: 'api', component: 'api', image: 'ghcr.io/rauli-vision/backend:1.0.0' });
  const e = new EdgeIngress(chart, 'edge', { frontend, backend });
  return { docs: Testing.synth(chart), config: e.controllerConfig };
}
const errors = (docs: any[], config?: { [key: string]: string }) =>
  validateManifests(docs, { podSecurity: false, ingressControllerConfig: config }).errors;

test('Ingresses pass with the controller configuration the platform writes', () => {
  const { docs, config } = edge();
  expect(errors(docs, config)).toEqual([]);
});

test('a header missing from global-allowed-response-headers fails the Ingress that sets it', () => {
  const { docs, config } = edge();
  const without = { ...config, 'global-allowed-response-headers': config['global-allowed-response-headers'].replace(/,?Cache-Control/, '') };
  expect(errors(docs, without)).toEqual([
    expect.stringMatching(/^Ingress\/web\/rauli-vision-assets: annotation nginx.ingress.kubernetes.io\/custom-headers needs the controller setting global-allowed-response-headers \(lacks Cache-Control\)/),
  ]);
});

test('rate-limit annotations need limit-req-status-code 429', () => {
  const { docs, config } = edge();
  const { ['limit-req-status-code']: _dropped, ...rest } = config;
  expect(errors(docs, rest).map(e => e.split(':')[0]).sort()).toEqual(['Ingress/web/rauli-vision-api', 'Ingress/web/rauli-vision-login']);
});

test('snippet annotations need allow-snippet-annotations, which the platform never sets', () => {
  const { docs, config } = edge();
  docs.find(d => d.metadata.name === 'rauli-vision-web').metadata.annotations[`${NGINX}/configuration-snippet`] = 'more_set_headers "X: y";';
  expect(errors(docs, config)).toEqual([expect.stringMatching(/rauli-vision-web: annotation .*configuration-snippet needs the controller setting allow-snippet-annotations/)]);
});

test('custom-headers naming a ConfigMap that is not among the objects fails', () => {
  const { docs, config } = edge();
  const withoutMaps = docs.filter(d => d.kind !== 'ConfigMap');
  expect(errors(withoutMaps, config).some(e => /names ConfigMap web\/rauli-vision-security-headers, which is not among the objects/.test(e))).toBe(true);
});
