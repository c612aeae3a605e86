import { synthChart, validateManifests } from '@rauli-vision/platform/lib/validation';
import { App } from 'cdk8s';
import { ServiceChart } from '../src/k8s/service-chart';
import { SERVICE } from '../src/k8s/settings.generated';

describe.each(SERVICE.environments)('%s manifests', (environment) => {
  const docs = synthChart(new ServiceChart(new App(), `${SERVICE.name}-${environment}`, { environment, imageTag: 'sha-0123456789ab' }));

  test('pass the platform validation harness', () => {
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('open only the ingress and data-store flows of this service', () => {
    const policy = docs.find((d: any) => d.kind === 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: SERVICE.port }]);
  });

  test('deploy this service into its environment namespace', () => {
    const deployment = docs.find((d: any) => d.kind === 'Deployment');
    expect(deployment.metadata.namespace).toBe(SERVICE.namespaces[environment]);
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${SERVICE.image}:sha-0123456789ab`);
  });
});
