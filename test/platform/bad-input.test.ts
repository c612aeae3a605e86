import { Chart, Testing } from 'cdk8s';
import { IMAGES, synthEnvironment } from './support';
import { HttpService, HttpServiceProps } from '../../src';

const service = (props: Partial<HttpServiceProps>) => () =>
  new HttpService(new Chart(Testing.app(), 'c'), 'svc', { name: 'api', component: 'backend-go', image: 'ghcr.io/x/api:1.0.0', ...props });

test('negative replicas', () => {
  expect(service({ replicas: -1 })).toThrow('Invalid replicas: -1. Expected an integer from 0 to 1000.');
});

test('HPA min greater than max', () => {
  expect(service({ autoscaling: { minReplicas: 10, maxReplicas: 3 } }))
    .toThrow('Invalid autoscaling.minReplicas: 10. Expected a value no greater than autoscaling.maxReplicas (3).');
});

test('malformed memory quantity', () => {
  expect(service({ resources: { cpuRequest: '250m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512MB' } }))
    .toThrow(/Invalid resources\.memoryLimit: "512MB"\. Expected a memory quantity .*'256Mi'/);
});

test('unknown environment name', () => {
  expect(() => synthEnvironment('prod')).toThrow('Invalid environment: "prod". Expected one of \'dev\', \'staging\', \'production\'.');
});

test('missing image tag in production', () => {
  expect(() => synthEnvironment('production', { images: { ...IMAGES, backendGo: 'ghcr.io/rauli-vision/backend' } }))
    .toThrow(/Invalid services\[1\] \(backend-go\)\.image: "ghcr.io\/rauli-vision\/backend"\. Expected a pinned image/);
  expect(() => synthEnvironment('staging', { images: { ...IMAGES, frontend: 'ghcr.io/rauli-vision/frontend:latest' } }))
    .toThrow(/Invalid services\[0\] \(frontend\)\.image: .*:latest.*refused in staging and production/);
});

test('dev accepts an untagged image for local iteration', () => {
  expect(() => synthEnvironment('dev', { images: { ...IMAGES, backendGo: 'rauli-vision/backend' } })).not.toThrow();
});

test('invalid DNS-1123 name', () => {
  expect(service({ name: 'Backend_Go' })).toThrow(/Invalid name: "Backend_Go"\. Expected a DNS-1123 label/);
  expect(() => synthEnvironment('dev', { namespace: 'Rauli Vision' })).toThrow(/Invalid namespace: "Rauli Vision"/);
});

test('a rollout that could never progress', () => {
  expect(service({ maxSurge: 0, maxUnavailable: 0 })).toThrow(/maxSurge\/maxUnavailable: both are 0/);
});

test('a secret in the ConfigMap', () => {
  expect(() => synthEnvironment('dev', { config: { extra: { JWT_SECRET: 'x' } } })).toThrow(/It is a secret/);
});

describe('the grace period the pod gets is the one the process works with', () => {
  const containerOf = (props: Partial<HttpServiceProps>) => {
    const chart = new Chart(Testing.app(), 'c');
    new HttpService(chart, 'svc', { name: 'api', component: 'backend-go', image: 'ghcr.io/x/api:1.0.0', ...props });
    const deployment = Testing.synth(chart).find((d: any) => d.kind === 'Deployment');
    return { pod: deployment.spec.template.spec, env: deployment.spec.template.spec.containers[0].env ?? [] };
  };

  test('a longer grace period reaches the process as TERMINATION_GRACE_PERIOD; the default is not repeated', () => {
    const longer = containerOf({ terminationGracePeriodSeconds: 90 });
    expect(longer.pod.terminationGracePeriodSeconds).toBe(90);
    expect(longer.env).toContainEqual({ name: 'TERMINATION_GRACE_PERIOD', value: '90s' });
    expect(containerOf({}).env.map((e: any) => e.name)).not.toContain('TERMINATION_GRACE_PERIOD');
  });

  test('a grace period within the drain delay, or set twice, fails naming the prop', () => {
    expect(service({ terminationGracePeriodSeconds: 10 }))
      .toThrow(/Invalid terminationGracePeriodSeconds: 10\. Expected more seconds than the drain delay \(SHUTDOWN_DRAIN_DELAY: 10 s\)/);
    expect(service({ terminationGracePeriodSeconds: 60, env: { SHUTDOWN_DRAIN_DELAY: '1m' } })).toThrow(/Invalid terminationGracePeriodSeconds: 60/);
    expect(service({ env: { TERMINATION_GRACE_PERIOD: '90s' } })).toThrow(/Invalid env\.TERMINATION_GRACE_PERIOD: "90s"\. Expected no value: it follows terminationGracePeriodSeconds/);
  });
});
