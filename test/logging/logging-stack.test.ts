import { BackupConventions, LoggingConventions } from '../../src/conventions';
import { LoggingPresets, LoggingStack } from '../../src/logging';
import { podSecurity, validateManifests } from '../../src/validation';
import { LOG_PIPELINE } from '../observability/promtool';
import { get, synthEnvironment } from '../platform/support';
import { allCrdFiles, crdFile } from '../support/crds';

const ECK = [crdFile('eck-3.5.0-crds.yaml')];
const BACKUP = { storage: { bucketName: 'rauli-vision-backups', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/backup' } };
const environments = ['dev', 'staging', 'production'];
const docsOf = Object.fromEntries(environments.map(e => [e, synthEnvironment(e, { backup: BACKUP })]));
const inLogging = (d: any) => d.metadata?.namespace === LoggingConventions.NAMESPACE;
const eck = (docs: any[], kind: string) => docs.find(d => d.kind === kind && d.apiVersion.includes('k8s.elastic.co'));
const body = (docs: any[], file: string) => JSON.parse(get(docs, 'ConfigMap', 'logs-lifecycle').data[file]);

describe.each(environments)('%s', env => {
  const docs = docsOf[env];

  test('synthesizes Elasticsearch, Kibana and a Filebeat DaemonSet in the logging namespace; 0 errors against the ECK 3.5 CRDs', () => {
    for (const kind of ['Elasticsearch', 'Kibana', 'Beat']) expect(eck(docs, kind).metadata.namespace).toBe('logging');
    expect(eck(docs, 'Beat').spec).toMatchObject({ type: 'filebeat', daemonSet: expect.any(Object) });
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
  });

  test('0 Pod Security (restricted) errors outside logging; logging enforces privileged, the application restricted', () => {
    const outside = podSecurity(docs.filter(d => !inLogging(d))).filter(r => r.ruleId.startsWith('PSS'));
    expect(outside).toEqual([]);
    const level = (name: string) => get(docs, 'Namespace', name).metadata.labels['pod-security.kubernetes.io/enforce'];
    expect(level('logging')).toBe('privileged');
    expect(level(`rauli-vision-${env}`)).toBe('restricted');
  });
});

test('the ECK CRDs are really applied: an unknown field in the Beat is an error', () => {
  const docs = JSON.parse(JSON.stringify(docsOf.dev));
  eck(docs, 'Beat').spec.daemonset = {};
  eck(docs, 'Elasticsearch').spec.nodeSets[0].replicas = 3;
  const errors = validateManifests(docs, { crdFiles: ECK, podSecurity: false }).errors;
  expect(errors.filter(e => /Beat\/logging\/logs: .*daemonset/.test(e))).toHaveLength(1);
  expect(errors.filter(e => /Elasticsearch\/logging\/logs: .*replicas/.test(e))).toHaveLength(1);
});

test('why the collector needs privileged: its pod, expanded as ECK does, fails restricted and baseline (hostPath)', () => {
  // Stand-in for ECK's expansion of the Beat into a DaemonSet (no operator runs here).
  const beat = eck(docsOf.production, 'Beat');
  const daemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'logs-beat-filebeat', namespace: 'logging' },
    spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: beat.spec.daemonSet.podTemplate.spec } },
  };
  daemonSet.spec.template.spec.containers[0].image = `docker.elastic.co/beats/filebeat:${LoggingConventions.STACK_VERSION}`;
  const rules = podSecurity([daemonSet]).map(r => r.ruleId);
  // PSS1xx are baseline rules (hostPath volumes), PSS2xx restricted ones (runAsNonRoot).
  expect(rules.some(r => /^PSS1/.test(r))).toBe(true);
  expect(rules.some(r => /^PSS2/.test(r))).toBe(true);
  const mounts = daemonSet.spec.template.spec.containers[0].volumeMounts.filter((m: any) => m.mountPath.startsWith('/var/log'));
  expect(mounts.every((m: any) => m.readOnly)).toBe(true);
});

test('production: 3 Elasticsearch nodes spread across zones, replicas per shard; dev: 1 node, no replicas', () => {
  const prod = eck(docsOf.production, 'Elasticsearch').spec.nodeSets[0];
  expect(prod.count).toBe(3);
  expect(prod.zoneAwareness).toEqual({});
  expect(prod.resources.limits.memory).toBe('4Gi');
  expect(eck(docsOf.production, 'Beat').spec.config['setup.template.settings']['index.number_of_replicas']).toBe(1);
  const dev = eck(docsOf.dev, 'Elasticsearch').spec.nodeSets[0];
  expect(dev.count).toBe(1);
  expect(dev.zoneAwareness).toBeUndefined();
  expect(eck(docsOf.dev, 'Beat').spec.config['setup.template.settings']['index.number_of_replicas']).toBe(0);
});

test('retention: one setting for the index lifecycle and the snapshots, the backups\' by default', () => {
  const days = `${BackupConventions.RETENTION_DAYS}d`;
  const ilm = body(docsOf.production, 'ilm-policy.json').policy.phases.delete;
  expect(ilm.min_age).toBe(days);
  // Indices are deleted only once a snapshot holds them.
  expect(ilm.actions).toEqual({ wait_for_snapshot: { policy: LoggingStack.POLICY_NAME }, delete: {} });
  expect(body(docsOf.production, 'slm-policy.json').retention.expire_after).toBe(days);
  const week = synthEnvironment('dev', { backup: BACKUP, logging: { retentionDays: 7 } });
  expect(body(week, 'ilm-policy.json').policy.phases.delete.min_age).toBe('7d');
  expect(body(week, 'slm-policy.json').retention.expire_after).toBe('7d');
  // Filebeat's data stream points at that policy and never overwrites it.
  expect(eck(docsOf.production, 'Beat').spec.config).toMatchObject({ 'setup.ilm.policy_name': LoggingStack.POLICY_NAME, 'setup.ilm.overwrite': false });
});

test('snapshots go to the backup bucket\'s logs/ prefix, with the backup role through IRSA', () => {
  expect(body(docsOf.production, 'repository.json')).toEqual({
    type: 's3', settings: { bucket: 'rauli-vision-backups', base_path: BackupConventions.LOGS_PREFIX.replace(/\/$/, ''), client: 'default' },
  });
  const es = eck(docsOf.production, 'Elasticsearch').spec.nodeSets[0];
  expect(es.config['s3.client.default.endpoint']).toBe('s3.us-east-1.amazonaws.com');
  // The name the AWS package's LogSnapshotRole trusts by default.
  expect(LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT).toBe('logs-es-snapshots');
  const account = get(docsOf.production, 'ServiceAccount', LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT);
  expect(account.metadata).toMatchObject({ namespace: 'logging', annotations: { 'eks.amazonaws.com/role-arn': BACKUP.storage.roleArn } });
  expect(es.podTemplate.spec.serviceAccountName).toBe('logs-es-snapshots');
  expect(es.podTemplate.spec.containers[0].volumeMounts[0].mountPath).toBe('/usr/share/elasticsearch/config/repository-s3');
});

test('static credentials go into the Elasticsearch keystore from the Secret, never into the manifest', () => {
  const docs = synthEnvironment('dev', { backup: { storage: { bucketName: 'b-logs', credentialsSecret: 'backup-s3' } } });
  expect(eck(docs, 'Elasticsearch').spec.secureSettings).toEqual([{
    secretName: 'backup-s3',
    entries: [{ key: 'access-key-id', path: 's3.client.default.access_key' }, { key: 'secret-access-key', path: 's3.client.default.secret_key' }],
  }]);
});

test('without a backup bucket: no repository or snapshot policy, indices deleted on time anyway', () => {
  const docs = synthEnvironment('dev');
  const data = get(docs, 'ConfigMap', 'logs-lifecycle').data;
  expect(Object.keys(data).sort()).toEqual(['data-view.json', 'ilm-policy.json', 'lifecycle-setup.sh']);
  expect(JSON.parse(data['ilm-policy.json']).policy.phases.delete.actions).toEqual({ delete: {} });
});

test('Kibana gets a data view of the platform\'s logs', () => {
  expect(body(docsOf.dev, 'data-view.json')).toEqual({
    data_view: { id: LoggingStack.POLICY_NAME, name: 'RAULI-VISION logs', title: LoggingConventions.INDEX_PATTERN, timeFieldName: '@timestamp' },
    override: true,
  });
});

describe('network policies of the log path', () => {
  const docs = docsOf.production;
  const policies = docs.filter(d => d.kind === 'NetworkPolicy' && inLogging(d));
  const selects = (p: any, labels: any) => Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  /** Whether some policy of the namespace admits `from` (pod labels or a namespace) to `to`'s port. */
  const ingressAllowed = (to: any, port: number, from: { pod?: any; namespace?: string }) => policies
    .filter(p => p.spec.policyTypes.includes('Ingress') && selects(p, to))
    .some(p => (p.spec.ingress ?? []).some((rule: any) => rule.ports.some((x: any) => x.port === port) && rule.from.some((peer: any) =>
      (from.pod && peer.podSelector && !peer.namespaceSelector && Object.entries(peer.podSelector.matchLabels).every(([k, v]) => from.pod[k] === v))
      || (from.namespace && peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === from.namespace))));
  const egressAllowed = (from: any, port: number, to: any) => policies
    .filter(p => p.spec.policyTypes.includes('Egress') && selects(p, from))
    .some(p => (p.spec.egress ?? []).some((rule: any) => rule.ports.some((x: any) => x.port === port)
      && rule.to.some((peer: any) => peer.podSelector && Object.entries(peer.podSelector.matchLabels).every(([k, v]) => to[k] === v))));
  const ES = { 'elasticsearch.k8s.elastic.co/cluster-name': 'logs' };
  const KB = { 'kibana.k8s.elastic.co/name': 'logs' };
  const BEAT = { 'beat.k8s.elastic.co/name': 'logs' };

  test('default deny, then collector -> ES, Kibana -> ES, ES <-> ES (9200, 9300)', () => {
    expect(policies.find(p => p.metadata.name === 'logging-default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(ingressAllowed(ES, 9200, { pod: BEAT }) && egressAllowed(BEAT, 9200, ES)).toBe(true);
    expect(ingressAllowed(ES, 9200, { pod: KB }) && egressAllowed(KB, 9200, ES)).toBe(true);
    expect(ingressAllowed(ES, 9300, { pod: ES }) && egressAllowed(ES, 9300, ES)).toBe(true);
    expect(ingressAllowed(ES, 9200, { namespace: 'elastic-system' })).toBe(true);
  });

  test('users reach Kibana through the edge; nothing else reaches Elasticsearch or Kibana', () => {
    expect(ingressAllowed(KB, 5601, { namespace: 'ingress-nginx' })).toBe(true);
    expect(ingressAllowed(ES, 9200, { namespace: 'ingress-nginx' })).toBe(false);
    expect(ingressAllowed(ES, 9300, { pod: BEAT })).toBe(false);
    expect(ingressAllowed(KB, 5601, { pod: BEAT })).toBe(false);
    expect(ingressAllowed(ES, 9200, { namespace: 'rauli-vision-production' })).toBe(false);
  });
});

test('the alerts watch the objects ECK creates (the promtool tests use the same names)', () => {
  const rule = docsOf.production.find(d => d.kind === 'PrometheusRule');
  const group = rule.spec.groups.find((g: any) => g.name === 'rauli-vision.logging');
  expect(group.rules.map((r: any) => r.alert)).toContain('LogCollectorPodsUnavailable');
  const exprs = group.rules.map((r: any) => r.expr).join('\n');
  expect(exprs).toContain(`daemonset="${LOG_PIPELINE.collectorDaemonSet}"`);
  expect(exprs).toContain(`statefulset=~"${LOG_PIPELINE.elasticsearchStatefulSets.replace('.*', 'default')}"`);
  expect(exprs).toContain(`deployment="${LOG_PIPELINE.kibanaDeployment}"`);
  expect(exprs).toContain(`job_name="${LOG_PIPELINE.setupJob}"`);
  expect('elasticsearch-data-logs-es-default-0').toMatch(new RegExp(`^${LOG_PIPELINE.elasticsearchVolumeClaims}$`));
});

describe('bad input names the prop', () => {
  test.each<[string, any, RegExp]>([
    ['a retention of 0', { retentionDays: 0 }, /Invalid logging\.retentionDays: 0/],
    ['the application namespace', { namespace: 'rauli-vision-dev' }, /Invalid logging\.namespace: "rauli-vision-dev".*must not be the application's namespace/],
    ['kube-system', { namespace: 'kube-system' }, /Invalid logging\.namespace: "kube-system"/],
    ['two Elasticsearch nodes', { sizing: { ...LoggingPresets.DEV, elasticsearchNodes: 2 } }, /Invalid logging\.sizing\.elasticsearchNodes: 2/],
  ])('%s', (_name, logging, error) => {
    expect(() => synthEnvironment('dev', { logging })).toThrow(error);
  });
});
