import { get, synthEnvironment } from './support';
import { LoggingConventions } from '../../src/conventions';
import { validateManifests } from '../../src/validation';
import { allCrdFiles } from '../support/crds';

const environments = ['dev', 'staging', 'production'];
const docsOf = Object.fromEntries(environments.map(e => [e, synthEnvironment(e)]));

test.each(environments)('%s passes the validation harness with zero errors', env => {
  expect(validateManifests(docsOf[env], { crdFiles: allCrdFiles() }).errors).toEqual([]);
});

test('production follows the guide: frontend 5 replicas, 2 at a time, 10 s apart', () => {
  const frontend = get(docsOf.production, 'Deployment', 'frontend');
  expect(frontend.spec.replicas).toBe(5);
  expect(frontend.spec.strategy.rollingUpdate).toEqual({ maxSurge: 2, maxUnavailable: 0 });
  expect(frontend.spec.minReadySeconds).toBe(10);
  expect(get(docsOf.production, 'PodDisruptionBudget', 'frontend').spec.maxUnavailable).toBe(1);
});

test('production Go backend: the guide\'s resources and an HPA 3..50 that owns the replica count', () => {
  const backend = get(docsOf.production, 'Deployment', 'backend-go');
  expect(backend.spec.replicas).toBeUndefined();
  expect(backend.spec.template.spec.containers[0].resources).toEqual({
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '500m', memory: '512Mi' },
  });
  const hpa = get(docsOf.production, 'HorizontalPodAutoscaler', 'backend-go');
  expect(hpa.apiVersion).toBe('autoscaling/v2');
  expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 50]);
  expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([['cpu', 70], ['memory', 80]]);
  expect(hpa.spec.behavior).toEqual({
    scaleUp: { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
    scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
  });
});

test('turning production autoscaling off gives the guide\'s 10 fixed replicas', () => {
  const docs = synthEnvironment('production', { backendGo: { autoscaling: undefined } });
  expect(get(docs, 'Deployment', 'backend-go').spec.replicas).toBe(10);
  expect(docs.some(d => d.kind === 'HorizontalPodAutoscaler')).toBe(false);
});

test.each([['staging', 2, 3], ['dev', 1, 1]])('%s: frontend %i, Go backend %i replicas', (env, frontend, backend) => {
  expect(get(docsOf[env], 'Deployment', 'frontend').spec.replicas).toBe(frontend);
  expect(get(docsOf[env], 'Deployment', 'backend-go').spec.replicas).toBe(backend);
});

test.each(environments)('%s: the Python backend (cliente-local) is the third service', env => {
  expect(get(docsOf[env], 'Deployment', 'backend-python').spec.template.metadata.labels['app.kubernetes.io/component']).toBe('backend-python');
});

test.each(environments)('%s: namespace enforces Pod Security restricted with the guide\'s LimitRange and a quota', env => {
  const docs = docsOf[env];
  const ns = docs.find(d => d.kind === 'Namespace');
  expect(ns.metadata.namespace).toBeUndefined();
  expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  const [limits] = get(docs, 'LimitRange', 'rauli-vision-limits').spec.limits;
  expect(limits).toEqual({
    type: 'Container',
    default: { cpu: '100m', memory: '128Mi' },
    defaultRequest: { cpu: '50m', memory: '64Mi' },
    max: { cpu: '500m', memory: '512Mi' },
    min: { cpu: '50m', memory: '64Mi' },
  });
  expect(get(docs, 'ResourceQuota', 'rauli-vision-quota').spec.hard['services.loadbalancers']).toBe('0');
});

test('HTTP services: restricted security context, probes on the Koa paths, named metrics port, no token', () => {
  const pod = get(docsOf.production, 'Deployment', 'backend-go').spec.template.spec;
  const [c] = pod.containers;
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(get(docsOf.production, 'ServiceAccount', 'backend-go').automountServiceAccountToken).toBe(false);
  expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  expect(c.livenessProbe.httpGet.path).toBe('/healthz');
  expect(c.readinessProbe.httpGet.path).toBe('/readyz');
  expect(c.ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
  expect(pod.topologySpreadConstraints.map((t: any) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
  expect(c.imagePullPolicy).toBe('IfNotPresent');
});

test('configuration: plain settings in a ConfigMap, credentials only as Secret references', () => {
  const cm = get(docsOf.production, 'ConfigMap', 'rauli-vision-config');
  // The guide's 20 per replica: the 52 backend replicas at the autoscalers' maximum open 1040 client
  // connections to PgBouncer, which keeps PostgreSQL within max_connections.
  expect(cm.data).toMatchObject({ DATABASE_POOL_SIZE: '20', DATABASE_MAX_CONNECTIONS: '100', RATE_LIMIT_REQUESTS: '100', RATE_LIMIT_WINDOW: '1m', METRICS_PORT: '9090', LOG_FORMAT: 'json' });
  expect(get(docsOf.dev, 'ConfigMap', 'rauli-vision-config').data.DATABASE_POOL_SIZE).toBe('20');
  expect(cm.data.REDIS_CLUSTER_NODES.split(',')).toHaveLength(6);
  expect(cm.data.DATABASE_HOST).toBe('postgres-pooler-rw.rauli-vision-production-data.svc.cluster.local');
  for (const secret of ['DATABASE_URL', 'JWT_SECRET', 'REDIS_PASSWORD']) expect(cm.data[secret]).toBeUndefined();
  expect(docsOf.production.some(d => d.kind === 'Secret' && (d.data || d.stringData))).toBe(false);
  const env = get(docsOf.production, 'Deployment', 'backend-go').spec.template.spec.containers[0].env;
  expect(env).toContainEqual({ name: 'JWT_SECRET', valueFrom: { secretKeyRef: { name: 'rauli-vision-app', key: 'JWT_SECRET' } } });
  // The frontend never receives credentials.
  expect(get(docsOf.production, 'Deployment', 'frontend').spec.template.spec.containers[0].env).toBeUndefined();
});

test('existingSecret points every credential reference at the operator\'s Secret', () => {
  const docs = synthEnvironment('production', { existingSecret: 'vault-synced' });
  const env = get(docs, 'Deployment', 'backend-python').spec.template.spec.containers[0].env;
  expect(env.map((e: any) => e.valueFrom.secretKeyRef.name)).toEqual(['vault-synced', 'vault-synced', 'vault-synced']);
});

test('network policies: default deny, then only the architecture\'s flows', () => {
  // The logging stack's own policies live in its namespace (test/logging).
  const policies = docsOf.production.filter(d => d.kind === 'NetworkPolicy' && d.metadata.namespace !== LoggingConventions.NAMESPACE);
  const byName = Object.fromEntries(policies.map(p => [p.metadata.name, p.spec]));
  expect(byName['default-deny']).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  expect(byName['allow-dns'].egress[0].ports.map((p: any) => p.port)).toEqual([53, 53]);
  const peers = (rules: any[]) => rules.map(r => [
    ...(r.from ?? r.to).map((p: any) => [p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'], p.podSelector?.matchLabels['app.kubernetes.io/component']].filter(Boolean).join('/')),
    ...r.ports.map((p: any) => p.port),
  ].join(' '));
  // Per service: who may connect to it and where it may connect, nothing more.
  const applicationPolicies = Object.keys(byName).filter(n => !/^(postgres|redis)/.test(n)).sort();
  expect(applicationPolicies).toEqual(['allow-dns', 'allow-edge-to-acme-solver', 'backend-go-egress', 'backend-go-ingress', 'backend-python-egress', 'backend-python-ingress',
    'default-deny', 'frontend-ingress']);
  expect(peers(byName['frontend-ingress'].ingress)).toEqual(['ingress-nginx 8080', 'monitoring 9090']);
  expect(peers(byName['backend-go-ingress'].ingress)).toEqual(['ingress-nginx 8080', 'monitoring 9090']);
  expect(peers(byName['backend-go-egress'].egress)).toEqual(['rauli-vision-production-data/postgres 5432', 'rauli-vision-production-data/redis 6379', 'backend-python 8080']);
  expect(peers(byName['backend-python-ingress'].ingress)).toEqual(['backend-go 8080', 'monitoring 9090']);
  expect(peers(byName['backend-python-egress'].egress)).toEqual(['rauli-vision-production-data/postgres 5432', 'rauli-vision-production-data/redis 6379']);
  // The data tier admits exactly the services that declare it.
  const clients = (name: string) => byName[name].ingress[0].from[0].podSelector.matchExpressions[0].values;
  // Production runs CloudNativePG: applications come through the poolers, only the backup jobs reach the instances.
  expect(clients('postgres-poolers')).toEqual(['backend-go', 'backend-python']);
  expect(byName.postgres.ingress[0].from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/component']).filter(Boolean)).toEqual(['backup']);
  expect(clients('redis')).toEqual(['backend-go', 'backend-python']);
  expect(byName['allow-edge-to-acme-solver']).toEqual({
    podSelector: { matchLabels: { 'acme.cert-manager.io/http01-solver': 'true' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ protocol: 'TCP', port: 8089 }] }],
  });
});
