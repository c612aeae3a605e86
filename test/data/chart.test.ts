/** The data tier inside RauliVisionChart: presets per environment, backups, and the harness on the whole chart. */
import { BackupConventions, Components } from '../../src/conventions';
import { validateManifests } from '../../src/validation';
import { synthEnvironment } from '../platform/support';
import { allCrdFiles } from '../support/crds';

const backup = { storage: { bucketName: 'rauli-vision-backups', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/rauli-vision-backup' } };
const count = (docs: any[], kind: string, name: string) => docs.find(d => d.kind === kind && d.metadata.name === name)?.spec.replicas;

const cnpgInstances = (docs: any[]) => docs.find(d => d.kind === 'Cluster' && d.metadata.name === 'postgres')?.spec.instances;

test.each([
  // environment, StatefulSet primary, StatefulSet replicas, CloudNativePG instances, Redis nodes, RPO
  ['dev', 1, undefined, undefined, 3, '1h'],
  ['staging', undefined, undefined, 2, 3, '5m'],
  ['production', undefined, undefined, 2, 6, '5m'],
])('%s: PostgreSQL primary %s + replicas %s, CloudNativePG instances %s, %s Redis nodes, backups and DR plan with RPO %s, zero validation errors',
  (env, primary, replicas, instances, redisNodes, rpo) => {
    const docs = synthEnvironment(env, { backup });
    expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
    expect(count(docs, 'StatefulSet', 'postgres-primary')).toBe(primary);
    expect(count(docs, 'StatefulSet', 'postgres-replica')).toBe(replicas);
    expect(cnpgInstances(docs)).toBe(instances);
    expect(count(docs, 'StatefulSet', 'redis')).toBe(redisNodes);
    // The chart backs up its configuration by default next to the database schedules; WAL archiving replaces the frequent dumps.
    expect(Object.fromEntries(docs.filter(d => d.kind === 'CronJob').map(d => [d.metadata.name, d.spec.schedule]))).toEqual({
      ...instances ? {} : { 'postgres-backup-frequent': '*/30 * * * *' },
      'postgres-backup-daily': BackupConventions.DATABASE_SCHEDULE,
      'application-backup': BackupConventions.DATABASE_SCHEDULE,
    });
    expect(docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === 'disaster-recovery-plan').data.rpo).toBe(rpo);
    // Every pod of the data tier is in its namespace (the application backup in the application's) and labelled for the platform policies.
    // (The logging stack's lifecycle Job lives in the logging namespace.)
    for (const d of docs.filter(x => ['StatefulSet', 'CronJob', 'Job'].includes(x.kind) && x.metadata.labels?.[Components.LABEL] !== 'log-lifecycle')) {
      expect(d.metadata.namespace).toBe(d.metadata.name === 'application-backup' ? `rauli-vision-${env}` : `rauli-vision-${env}-data`);
      const labels = d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.metadata.labels : d.spec.template.metadata.labels;
      expect([Components.POSTGRES, Components.REDIS, Components.BACKUP]).toContain(labels[Components.LABEL]);
    }
  });

test('without a bucket there are no backup jobs, and overrides reach the constructs', () => {
  const docs = synthEnvironment('production', { database: { instances: 3, storageSize: '100Gi' }, redis: { replicasPerMaster: 2 } });
  expect(docs.filter(d => d.kind === 'CronJob')).toEqual([]);
  expect(cnpgInstances(docs)).toBe(3);
  expect(count(docs, 'StatefulSet', 'redis')).toBe(9);
  expect(validateManifests(docs, { crdFiles: allCrdFiles() }).errors).toEqual([]);
});

test('the applications get the data tier\'s settings from one place', () => {
  const cm = synthEnvironment('staging').find(d => d.kind === 'ConfigMap' && d.metadata.name === 'rauli-vision-config').data;
  expect(cm).toMatchObject({
    // The poolers, never the servers.
    DATABASE_HOST: 'postgres-pooler-rw.rauli-vision-staging-data.svc.cluster.local',
    DATABASE_READ_HOST: 'postgres-pooler-ro.rauli-vision-staging-data.svc.cluster.local',
    DATABASE_PORT: '5432',
    DATABASE_NAME: 'rauli',
    DATABASE_MAX_CONNECTIONS: '100',
    DATABASE_POOL_SIZE: '20',
  });
  expect(cm.REDIS_CLUSTER_NODES).toBe('redis-0.redis-headless.rauli-vision-staging-data.svc.cluster.local:6379,'
    + 'redis-1.redis-headless.rauli-vision-staging-data.svc.cluster.local:6379,redis-2.redis-headless.rauli-vision-staging-data.svc.cluster.local:6379');
});

test('a scaffolded service is admitted to PostgreSQL and Redis through clientComponents', () => {
  const clients = [Components.BACKEND_GO, Components.BACKEND_PYTHON, 'billing'];
  const docs = synthEnvironment('staging', { database: { clientComponents: clients }, redis: { clientComponents: clients } });
  for (const name of ['postgres-poolers', 'redis']) {
    const np = docs.find(d => d.kind === 'NetworkPolicy' && d.metadata.name === name);
    expect(np.spec.ingress[0].from[0].podSelector.matchExpressions[0].values).toEqual(expect.arrayContaining(clients));
  }
});
