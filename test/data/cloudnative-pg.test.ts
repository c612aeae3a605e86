/**
 * The CloudNativePG engine: every Cluster, Pooler, ScheduledBackup and
 * ObjectStore the platform writes is checked against the operators' released
 * CRD schemas (unknown fields are errors), and the production budget keeps the
 * guide's pool of 20 through the poolers.
 */
import { Testing } from 'cdk8s';
import { synth } from './support';
import { CloudNativePgCluster, DataTier, PostgresEngine } from '../../src/data';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';
import { validateManifests } from '../../src/validation';
import { allCrdFiles, crdFile } from '../support/crds';

const crdFiles = [crdFile('cnpg-1.30.0.yaml'), crdFile('barman-cloud-v0.14.0-objectstores.yaml')];
const storage = { bucketName: 'rauli-vision-backups', region: 'eu-west-1' };
const images = { frontend: 'x/f:1.0.0', backendGo: 'x/b:1.0.0', backendPython: 'x/p:1.0.0' };
const CUSTOM_KINDS = ['Cluster', 'Pooler', 'ScheduledBackup', 'ObjectStore'];

function production(): { chart: RauliVisionChart; docs: any[] } {
  const chart = new RauliVisionChart(Testing.app(), 'prod', { environment: 'production', images, backup: { storage } });
  return { chart, docs: Testing.synth(chart) };
}

describe('production on CloudNativePG', () => {
  const { chart, docs } = production();
  const get = (kind: string, name: string) => docs.find(d => d.kind === kind && d.metadata.name === name);

  test('every CloudNativePG and Barman Cloud object passes the CRD schemas with 0 errors', () => {
    const custom = docs.filter(d => CUSTOM_KINDS.includes(d.kind));
    expect(custom.map(d => `${d.kind}/${d.metadata.name}`).sort()).toEqual(
      ['Cluster/postgres', 'ObjectStore/postgres-backups', 'Pooler/postgres-pooler-ro', 'Pooler/postgres-pooler-rw', 'ScheduledBackup/postgres-daily']);
    expect(validateManifests(custom, { crdFiles, podSecurity: false }).errors).toEqual([]);
  });

  test('the whole production chart validates, CRDs included', () => {
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
  });

  test('a Cluster of 2 instances of PostgreSQL 15 spread over nodes and zones, archiving WAL through the plugin at least every 5 minutes', () => {
    const spec = get('Cluster', 'postgres').spec;
    expect(spec.instances).toBe(2);
    expect(spec.imageName).toMatch(/postgresql:15\./);
    expect(spec.affinity).toMatchObject({ enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname' });
    expect(spec.topologySpreadConstraints[0].topologyKey).toBe('topology.kubernetes.io/zone');
    expect(spec.postgresql.parameters.archive_timeout).toBe('5min');
    expect(spec.plugins).toEqual([{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'postgres-backups' } }]);
    expect(spec.bootstrap.initdb).toMatchObject({ database: 'rauli', owner: 'rauli' });
  });

  test('base backups at 02:00 with the seconds field, retention from the one setting', () => {
    expect(get('ScheduledBackup', 'postgres-daily').spec).toMatchObject({ schedule: '0 0 2 * * *', method: 'plugin', cluster: { name: 'postgres' } });
    expect(get('ObjectStore', 'postgres-backups').spec).toMatchObject({
      retentionPolicy: '30d',
      configuration: { destinationPath: 's3://rauli-vision-backups/wal', s3Credentials: { inheritFromIAMRole: true } },
    });
  });

  test('the production pool is 20 and the applications connect through the read-write pooler', () => {
    const cm = get('ConfigMap', RauliVisionChart.CONFIG_MAP_NAME).data;
    expect(cm.DATABASE_POOL_SIZE).toBe('20');
    expect(cm.DATABASE_HOST).toBe('postgres-pooler-rw.rauli-vision-production-data.svc.cluster.local');
    expect(cm.DATABASE_READ_HOST).toBe('postgres-pooler-ro.rauli-vision-production-data.svc.cluster.local');
    const pooler = get('Pooler', 'postgres-pooler-rw').spec;
    expect(pooler.pgbouncer.poolMode).toBe('transaction');
    // 52 replicas at the autoscalers' maximum x 20 fit in one PgBouncer; 2 PgBouncers x their server pool fit in max_connections.
    const maxClients = Number(pooler.pgbouncer.parameters.max_client_conn);
    expect(maxClients).toBeGreaterThanOrEqual(52 * 20);
    const server = Number(pooler.pgbouncer.parameters.max_db_connections);
    expect(pooler.instances * server + 6).toBeLessThanOrEqual(Number(get('Cluster', 'postgres').spec.postgresql.parameters.max_connections));
    expect(chart.data.databasePoolSize).toBe(20);
  });

  test('PodMonitors labelled for kube-prometheus-stack on the metrics port', () => {
    const pm = get('PodMonitor', 'postgres');
    expect(pm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(pm.spec.podMetricsEndpoints).toEqual([{ port: 'metrics', path: '/metrics' }]);
    expect(pm.spec.selector.matchLabels).toEqual({ 'cnpg.io/cluster': 'postgres', 'cnpg.io/podRole': 'instance' });
  });

  test('the logical backup stays as the nightly dump, without the frequent one, and dumps from the primary', () => {
    const cronJobs = docs.filter(d => d.kind === 'CronJob' && d.metadata.name.startsWith('postgres-backup')).map(d => d.metadata.name);
    expect(cronJobs).toEqual(['postgres-backup-daily']);
    const dump = get('CronJob', 'postgres-backup-daily').spec.jobTemplate.spec.template.spec.initContainers[0];
    expect(dump.env.find((e: any) => e.name === 'PGHOST').value).toBe('postgres-rw.rauli-vision-production-data.svc.cluster.local');
    expect(dump.env.find((e: any) => e.name === 'PGPASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'postgres-superuser', key: 'password' });
  });

  test('the disaster-recovery plan states RPO 5 min, automatic failover and the point-in-time steps', () => {
    const plan = get('ConfigMap', 'disaster-recovery-plan').data;
    expect(plan.rpo).toBe('5m');
    expect(plan.failover).toMatch(/^automatic/);
    expect(plan.procedures).toContain('CloudNativePgCluster.restore');
  });
});

describe('point-in-time restore', () => {
  const now = new Date('2026-03-02T12:00:00Z');
  const build = (targetTime: string) => synth(c => {
    const pg = new CloudNativePgCluster(c, 'Pg', { backupStorage: storage });
    pg.restore('Restore', { targetTime, now });
  });

  test('a new Cluster recovers from the object store to the target time and validates', () => {
    const docs = build('2026-03-02T09:41:00Z');
    const restored = docs.find(d => d.kind === 'Cluster' && d.metadata.name === 'postgres-restore');
    expect(restored.spec.bootstrap.recovery).toMatchObject({ source: 'postgres-origin', recoveryTarget: { targetTime: '2026-03-02T09:41:00Z' } });
    expect(restored.spec.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: 'postgres-backups', serverName: 'postgres' });
    expect(restored.spec.plugins[0].parameters.serverName).toBe('postgres-restore');
    expect(validateManifests(docs.filter(d => CUSTOM_KINDS.includes(d.kind)), { crdFiles, podSecurity: false }).errors).toEqual([]);
  });

  test('a target time in the future fails naming targetTime', () => {
    expect(() => build('2026-03-02T12:05:00Z')).toThrow(/targetTime.*not in the future/);
  });

  test('a target without a zone or before the retention fails', () => {
    expect(() => build('2026-03-02 09:41')).toThrow(/targetTime/);
    expect(() => build('2026-01-01T00:00:00Z')).toThrow(/targetTime.*30-day retention/);
  });
});

describe('bad input fails at construction, naming the prop', () => {
  test('instances 0', () => {
    expect(() => synth(c => new CloudNativePgCluster(c, 'Pg', { instances: 0 }))).toThrow(/instances/);
  });
  test('a pool size that cannot fit in max_connections', () => {
    expect(() => synth(c => new CloudNativePgCluster(c, 'Pg', { maxConnections: 20, poolSize: 20 }))).toThrow(/poolSize.*at most maxConnections - 6/);
  });
  test('an RPO the archive timeout cannot meet', () => {
    expect(() => PostgresEngine.cloudNativePg({ archiveTimeoutMinutes: 10, rpoMinutes: 5 })).toThrow(/archiveTimeoutMinutes.*at most rpoMinutes \(5\)/);
  });
  test('more replicas than one PgBouncer accepts', () => {
    expect(() => synth(c => new DataTier(c, 'Data', { postgres: { engine: PostgresEngine.cloudNativePg() }, databaseClientReplicas: 101 }))).toThrow(/maxReplicas.*at most 100 replicas/);
  });
  test('the StatefulSet engine given to the CloudNativePG construct', () => {
    expect(() => synth(c => new CloudNativePgCluster(c, 'Pg', { engine: PostgresEngine.statefulSet() }))).toThrow(/engine/);
  });
});
