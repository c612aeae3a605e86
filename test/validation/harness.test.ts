import { Chart, Testing } from 'cdk8s';
import { HttpService } from '../../src';
import { validateManifests } from '../../src/validation';

/** A valid service to break one way at a time. */
function baseline(replicas = 3): any[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'ns' });
  new HttpService(chart, 'svc', { name: 'api', component: 'backend-go', image: 'ghcr.io/rauli-vision/backend:1.2.3', replicas });
  return Testing.synth(chart);
}
const find = (docs: any[], kind: string) => docs.find(d => d.kind === kind);
function errorsAfter(mutate: (docs: any[]) => void, replicas?: number): string[] {
  const docs = baseline(replicas);
  mutate(docs);
  return validateManifests(docs).errors;
}

test('a well-formed service passes with zero errors', () => {
  expect(validateManifests(baseline()).errors).toEqual([]);
});

test.each<[string, (docs: any[]) => void, RegExp]>([
  ['malformed quantity', d => { find(d, 'Deployment').spec.template.spec.containers[0].resources.limits.memory = '512MB'; }, /memory must match format "quantity"/],
  ['wrong type', d => { find(d, 'Deployment').spec.replicas = 'three'; }, /replicas must be integer/],
  ['unknown field', d => { find(d, 'Deployment').spec.template.spec.containers[0].livenessprobe = {}; }, /unknown field spec\.template\.spec\.containers\[0\]\.livenessprobe/],
  ['selector does not match the pod labels', d => { find(d, 'Deployment').spec.selector.matchLabels['app.kubernetes.io/name'] = 'other'; }, /spec\.selector does not match/],
  ['Service selects no pods', d => { find(d, 'Service').spec.selector = { app: 'nothing' }; }, /matches no pod template/],
  ['Service targetPort missing on the container', d => { find(d, 'Service').spec.ports[0].targetPort = 'htp'; }, /targetPort htp exists on no selected container/],
  ['latest tag', d => { find(d, 'Deployment').spec.template.spec.containers[0].image = 'ghcr.io/x/backend:latest'; }, /is not pinned/],
  ['untagged image', d => { find(d, 'Deployment').spec.template.spec.containers[0].image = 'ghcr.io/x/backend'; }, /is not pinned/],
  ['missing PodDisruptionBudget', d => { d.splice(d.indexOf(find(d, 'PodDisruptionBudget')), 1); }, /runs 3 replicas but no PodDisruptionBudget/],
  ['privileged container (Pod Security restricted)', d => {
    const c = find(d, 'Deployment').spec.template.spec.containers[0];
    c.securityContext.privileged = true;
    c.securityContext.allowPrivilegeEscalation = true;
  }, /PSS103|PSS202/],
  ['seccomp removed (Pod Security restricted)', d => {
    delete find(d, 'Deployment').spec.template.spec.securityContext.seccompProfile;
    delete find(d, 'Deployment').spec.template.spec.containers[0].securityContext.seccompProfile;
  }, /PSS205/],
  ['API version Kubernetes 1.28 does not serve', d => { d.push({ apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'old', namespace: 'ns' }, spec: {} }); }, /not served by Kubernetes 1\.28/],
  ['cluster-scoped object with a namespace', d => { d.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'ns' } }); }, /cluster-scoped Namespace must not set metadata\.namespace/],
  ['duplicate object', d => { d.push(JSON.parse(JSON.stringify(find(d, 'Service')))); }, /duplicate object/],
  ['container beyond the LimitRange', d => {
    d.push({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'l', namespace: 'ns' }, spec: { limits: [{ type: 'Container', max: { cpu: '200m', memory: '512Mi' } }] } });
  }, /limits\.cpu 250m exceeds the LimitRange max 200m/],
  ['ServiceMonitor on a port the Service does not name', d => {
    d.push({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm', namespace: 'ns' }, spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'api' } }, endpoints: [{ port: 'metric' }] } });
  }, /endpoint port "metric" is not a named port/],
])('rejects %s', (_name, mutate, expected) => {
  const errors = errorsAfter(mutate);
  expect(errors.join('\n')).toMatch(expected);
});

test('rejects an HPA whose target sets fixed replicas', () => {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'ns' });
  new HttpService(chart, 'svc', {
    name: 'api',
    component: 'backend-go',
    image: 'ghcr.io/rauli-vision/backend:1.2.3',
    autoscaling: { minReplicas: 2, maxReplicas: 4 },
  });
  const docs = Testing.synth(chart);
  expect(validateManifests(docs).errors).toEqual([]);
  find(docs, 'Deployment').spec.replicas = 10;
  expect(validateManifests(docs).errors.join('\n')).toMatch(/sets a fixed spec\.replicas \(10\)/);
});

test('rejects something that is not a Kubernetes object', () => {
  expect(validateManifests([{ foo: 1 }]).errors.join('\n')).toMatch(/not a Kubernetes object/);
});
