/* The data tier's own resource envelope: PostgreSQL, Redis and the database
 * backups live in `<namespace>-data`, with a LimitRange and a ResourceQuota
 * sized by the preset, while the applications keep the guide's LimitRange. */
import { get, synthEnvironment } from './support';
import { parseQuantity } from '../../src/core/validate';
import { Environments } from '../../src/platform/environments';
import { validateManifests } from '../../src/validation';
import { allCrdFiles } from '../support/crds';

type Json = any;
const environments = ['dev', 'staging', 'production'];
const docsOf = Object.fromEntries(environments.map(e => [e, synthEnvironment(e, { backup: { storage: { bucketName: 'rauli-vision-backups' } } })]));
const inNamespace = (docs: Json[], ns: string) => docs.filter(d => d.metadata?.namespace === ns);

/** What the data namespace holds at once: every pod template times its count, each job once, plus one instance being rebuilt. */
function dataTierTotals(docs: Json[]) {
  const totals = { requestsCpu: 0, limitsCpu: 0, requestsMemory: 0, limitsMemory: 0, pods: 0, claims: 0, storage: 0 };
  const add = (count: number, containers: Json[]) => {
    totals.pods += count;
    for (const c of containers) {
      const r = c.resources ?? {};
      totals.requestsCpu += count * parseQuantity(String(r.requests?.cpu ?? 0));
      totals.limitsCpu += count * parseQuantity(String(r.limits?.cpu ?? 0));
      totals.requestsMemory += count * parseQuantity(String(r.requests?.memory ?? 0));
      totals.limitsMemory += count * parseQuantity(String(r.limits?.memory ?? 0));
    }
  };
  const claims = (count: number, sizes: string[]) => {
    totals.claims += count * sizes.length;
    totals.storage += count * sizes.reduce((n, s) => n + parseQuantity(s), 0);
  };
  const sidecar = docs.find(d => d.kind === 'ObjectStore')?.spec?.instanceSidecarConfiguration;
  for (const d of docs) {
    switch (d.kind) {
      case 'StatefulSet':
        add(d.spec.replicas, d.spec.template.spec.containers);
        claims(d.spec.replicas, (d.spec.volumeClaimTemplates ?? []).map((t: Json) => t.spec.resources.requests.storage));
        break;
      case 'Deployment':
        add(d.spec.replicas, d.spec.template.spec.containers);
        break;
      case 'Cluster': {
        const instance = [{ resources: d.spec.resources }, ...sidecar ? [sidecar] : []];
        const volumes = [d.spec.storage.size, ...d.spec.walStorage ? [d.spec.walStorage.size] : []];
        // A replaced instance is rebuilt beside the others (a join Job, then its pod).
        add(d.spec.instances + 1, instance);
        claims(d.spec.instances + 1, volumes);
        break;
      }
      case 'Pooler':
        add(d.spec.instances, d.spec.template.spec.containers);
        break;
      case 'CronJob':
        add(1, d.spec.jobTemplate.spec.template.spec.containers);
        break;
      case 'Job':
        add(1, d.spec.template.spec.containers);
        break;
    }
  }
  return totals;
}

describe.each(environments)('%s', env => {
  const docs = docsOf[env];
  const preset = Environments.preset(env);
  const app = `rauli-vision-${env}`;
  const data = `${app}-data`;

  test('PostgreSQL, Redis and the database backups live in the data namespace; the services and the application backup in the application\'s', () => {
    const kinds = (ns: string) => new Set(inNamespace(docs, ns).map(d => d.kind));
    const stores = preset.postgres.engine!.isCloudNativePg ? ['Cluster', 'Pooler', 'ObjectStore', 'ScheduledBackup', 'PodMonitor'] : ['StatefulSet', 'Deployment'];
    expect([...kinds(data)]).toEqual(expect.arrayContaining([...stores, 'LimitRange', 'ResourceQuota', 'CronJob', 'Job', 'NetworkPolicy']));
    expect(get(docs, 'StatefulSet', 'redis').metadata.namespace).toBe(data);
    expect(get(docs, 'CronJob', 'postgres-backup-daily').metadata.namespace).toBe(data);
    expect(get(docs, 'ConfigMap', 'disaster-recovery-plan').metadata.namespace).toBe(data);
    expect(get(docs, 'CronJob', 'application-backup').metadata.namespace).toBe(app);
    for (const name of ['frontend', 'backend-go', 'backend-python']) expect(get(docs, 'Deployment', name).metadata.namespace).toBe(app);
    expect(get(docs, 'Namespace', data).metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
  });

  test('the applications reach the stores by their fully qualified names in the data namespace', () => {
    const config = get(docs, 'ConfigMap', 'rauli-vision-config').data;
    expect(config.DATABASE_HOST).toBe(`postgres-pooler-rw.${data}.svc.cluster.local`);
    expect(config.REDIS_CLUSTER_NODES.split(',').every((n: string) => n.endsWith(`.redis-headless.${data}.svc.cluster.local:6379`))).toBe(true);
  });

  test('the data quota holds every instance, pooler, node and job at once, plus one instance being rebuilt', () => {
    const totals = dataTierTotals(inNamespace(docs, data));
    const q = preset.dataTierQuota;
    expect(totals.requestsCpu).toBeLessThanOrEqual(parseQuantity(q.requestsCpu));
    expect(totals.limitsCpu).toBeLessThanOrEqual(parseQuantity(q.limitsCpu));
    expect(totals.requestsMemory).toBeLessThanOrEqual(parseQuantity(q.requestsMemory));
    expect(totals.limitsMemory).toBeLessThanOrEqual(parseQuantity(q.limitsMemory));
    expect(totals.pods).toBeLessThanOrEqual(q.pods);
    expect(totals.claims).toBeLessThanOrEqual(q.persistentVolumeClaims);
    expect(totals.storage).toBeLessThanOrEqual(parseQuantity(q.requestsStorage));
    // The quota binds the data tier, not the applications: it is not the application quota copied.
    expect(q).not.toEqual(preset.quota);
  });

  test('the data tier\'s NetworkPolicies admit the clients from the application namespace only', () => {
    const policies = inNamespace(docs, data).filter(d => d.kind === 'NetworkPolicy');
    expect(policies.map(p => p.metadata.name)).toEqual(expect.arrayContaining(['default-deny', 'allow-dns']));
    const clientRules = policies.flatMap(p => (p.spec.ingress ?? []).flatMap((r: Json) => r.from ?? []))
      .filter((peer: Json) => peer.podSelector?.matchExpressions);
    expect(clientRules.length).toBeGreaterThan(0);
    for (const peer of clientRules) {
      expect(peer.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': app } });
    }
    const egress = get(docs, 'NetworkPolicy', 'backend-go-egress').spec.egress;
    const stores = egress.filter((r: Json) => r.to[0].podSelector?.matchLabels?.['app.kubernetes.io/component'] !== 'backend-python');
    expect(stores.length).toBe(2);
    for (const rule of stores) expect(rule.to[0].namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': data } });
  });

  test('passes the validation harness: every container within its own namespace\'s LimitRange', () => {
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
  });
});

test('production PostgreSQL gets at least 2Gi, which the applications\' LimitRange would have refused', () => {
  const docs = docsOf.production;
  const cluster = get(docs, 'Cluster', 'postgres');
  expect(parseQuantity(cluster.spec.resources.requests.memory)).toBeGreaterThanOrEqual(2 * 2 ** 30);
  expect(parseQuantity(cluster.spec.resources.limits.memory)).toBeGreaterThanOrEqual(2 * 2 ** 30);
  // The same Cluster in the application namespace: the harness reports what the API server would reject.
  const moved = docs.map(d => d === cluster ? { ...d, metadata: { ...d.metadata, namespace: 'rauli-vision-production' } } : d);
  expect(validateManifests(moved, { crdFiles: allCrdFiles() }).errors.join('\n')).toMatch(/Cluster\/rauli-vision-production\/postgres: container postgres limits\.memory 2Gi exceeds the LimitRange max 512Mi/);
});

test('alerts watch both namespaces of the environment and stay routed by the application\'s', () => {
  const rule = get(docsOf.production, 'PrometheusRule', 'rauli-vision');
  const alerts = rule.spec.groups.flatMap((g: Json) => g.rules).filter((r: Json) => r.alert);
  const connections = alerts.find((r: Json) => r.alert === 'DatabaseConnectionsHigh');
  expect(connections.expr).toContain('namespace=~"rauli-vision-production|rauli-vision-production-data"');
  expect(connections.labels.namespace).toBe('rauli-vision-production');
});

test('the data tier\'s ServiceMonitors sit beside their Services', () => {
  const monitor = get(docsOf.production, 'ServiceMonitor', 'rauli-vision-redis-exporter');
  expect(monitor.metadata.namespace).toBe('rauli-vision-production-data');
});

describe('bad input', () => {
  test('a namespace too long for its data namespace names `namespace` and the way out', () => {
    expect(() => synthEnvironment('dev', { namespace: 'n'.repeat(60) })).toThrow(/Invalid namespace: .*at most 58 characters.*or set dataNamespace/);
    expect(synthEnvironment('dev', { namespace: 'n'.repeat(60), dataNamespace: 'db' }).some(d => d.metadata?.namespace === 'db')).toBe(true);
  });

  test('the data namespace must be one of its own', () => {
    expect(() => synthEnvironment('dev', { namespace: 'shop', dataNamespace: 'shop' })).toThrow(/Invalid dataNamespace: "shop".*a namespace of its own/);
    expect(() => synthEnvironment('dev', { dataNamespace: 'logging' })).toThrow(/Invalid dataNamespace: "logging"/);
    expect(() => synthEnvironment('dev', { dataNamespace: 'Data_NS' })).toThrow(/Invalid dataNamespace/);
  });
});
