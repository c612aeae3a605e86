import { container, envValue, synth } from './support';
import { BackupConventions, Components, DataConventions, RuntimeDefaults } from '../../src/conventions';
import {
  ApplicationBackup, DatabaseBackup, DisasterRecoveryPlan, PostgresCluster, PostgresClusterProps, RedisCluster, RestoreJob,
} from '../../src/data';
import { validateManifests } from '../../src/validation';

const STORAGE = { bucketName: 'rauli-vision-backups', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/rauli-vision-backup' };

function fullStack(pgProps: PostgresClusterProps = {}) {
  let refs: { pg?: PostgresCluster; redis?: RedisCluster; backup?: DatabaseBackup; plan?: DisasterRecoveryPlan } = {};
  const docs = synth(chart => {
    const pg = new PostgresCluster(chart, 'Postgres', pgProps);
    const redis = new RedisCluster(chart, 'Redis', {});
    const backup = new DatabaseBackup(chart, 'Backup', { postgres: pg, storage: STORAGE });
    const app = new ApplicationBackup(chart, 'AppBackup', { storage: STORAGE, sources: [{ name: 'config', configMapName: 'rauli-vision-config' }, { name: 'user-data', claimName: 'user-data' }] });
    backup.restore('Restore', { backupKey: 'database/daily/20260101T020000Z/rauli.dump' });
    const plan = new DisasterRecoveryPlan(chart, 'Plan', { databaseBackup: backup, applicationBackup: app, redis });
    refs = { pg, redis, backup, plan };
  });
  return { docs, ...refs };
}

const find = (docs: any[], kind: string, name: string) => {
  const d = docs.find(x => x.kind === kind && x.metadata.name === name);
  if (!d) throw new Error(`no ${kind}/${name}`);
  return d;
};
const podSpecOf = (d: any) => d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec;
const podMetaOf = (d: any) => d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.metadata : d.spec.template.metadata;
const WORKLOADS = ['StatefulSet', 'Job', 'CronJob', 'Deployment'];

describe('the whole data tier', () => {
  const { docs } = fullStack();

  test('passes the validation harness: schemas, Pod Security restricted, project checks', () => {
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('every pod is labelled with its component and part-of, restricted, resourced and pinned', () => {
    const workloads = docs.filter(d => WORKLOADS.includes(d.kind));
    expect(workloads.map(w => `${w.kind}/${w.metadata.name}`).sort()).toEqual([
      'CronJob/application-backup', 'CronJob/postgres-backup-daily', 'CronJob/postgres-backup-frequent',
      'Deployment/postgres-pooler-ro', 'Deployment/postgres-pooler-rw', 'Job/postgres-restore', 'Job/redis-bootstrap', 'StatefulSet/postgres-primary', 'StatefulSet/postgres-replica', 'StatefulSet/redis',
    ]);
    for (const w of workloads) {
      const labels = podMetaOf(w).labels;
      expect([Components.POSTGRES, Components.REDIS, Components.BACKUP]).toContain(labels[Components.LABEL]);
      expect(labels[Components.PART_OF_LABEL]).toBe(Components.PART_OF);
      const spec = podSpecOf(w);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.fsGroup).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of [...spec.initContainers ?? [], ...spec.containers]) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
        });
        expect(c.image).toMatch(/:[0-9v][\w.-]*$/);
        expect(c.image).not.toMatch(/:latest$/);
        expect(c.resources.requests).toBeDefined();
        expect(c.resources.limits).toBeDefined();
        if (w.kind === 'StatefulSet') {
          expect(c.readinessProbe).toBeDefined();
          expect(c.livenessProbe).toBeDefined();
        }
      }
    }
  });
});

describe('PostgresCluster', () => {
  test('a primary and replicas, with read-write, read-only and headless Services', () => {
    const { docs, pg } = fullStack({ instances: 3 });
    const primary = find(docs, 'StatefulSet', 'postgres-primary');
    const replicas = find(docs, 'StatefulSet', 'postgres-replica');
    expect(primary.spec.replicas).toBe(1);
    expect(replicas.spec.replicas).toBe(2);
    expect(primary.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('20Gi');
    expect(find(docs, 'Service', 'postgres-rw').spec.selector['rauli-vision.com/role']).toBe('primary');
    expect(find(docs, 'Service', 'postgres-ro').spec.selector['rauli-vision.com/role']).toBe('replica');
    expect(find(docs, 'Service', 'postgres-headless').spec.clusterIP).toBe('None');
    expect(find(docs, 'PodDisruptionBudget', 'postgres').spec.maxUnavailable).toBe(1);
    // The applications' hosts are the poolers; the servers' Services stay for the poolers and the backup jobs.
    expect(pg!.readWriteHost).toBe('postgres-pooler-rw.rauli-vision-test.svc.cluster.local');
    expect(pg!.readOnlyHost).toBe('postgres-pooler-ro.rauli-vision-test.svc.cluster.local');
    expect(pg!.primaryHost).toBe('postgres-rw.rauli-vision-test.svc.cluster.local');
    const replica = container(replicas.spec.template.spec, 'postgres');
    expect(replica.command).toEqual(['bash', '/scripts/start-replica.sh']);
    expect(envValue(replica, 'PRIMARY_HOST')).toBe('postgres-rw');
    expect(primary.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['postgres', 'exporter']);
  });

  test('max_connections and the pools come from one setting', () => {
    const { docs, pg } = fullStack();
    const args: string[] = container(find(docs, 'StatefulSet', 'postgres-primary').spec.template.spec, 'postgres').args;
    expect(args).toContain(`max_connections=${RuntimeDefaults.DATABASE_MAX_CONNECTIONS}`);
    expect(args).toContain('shared_buffers=128MB');
    expect(pg!.maxConnections).toBe(RuntimeDefaults.DATABASE_MAX_CONNECTIONS);
    expect(pg!.poolSizeFor(2)).toBe(RuntimeDefaults.DATABASE_POOL_SIZE);
    // Through PgBouncer every replica keeps the guide's 20, up to one PgBouncer's 2000 clients (100 replicas);
    // the 2 PgBouncers open at most (100 - 6) / 2 = 47 server connections each.
    expect(pg!.poolSizeFor(100)).toBe(20);
    expect(() => pg!.poolSizeFor(101)).toThrow(/Invalid maxReplicas: 101/);
    expect(pg!.budget.serverPoolSize).toBe(47);
    expect(find(docs, 'ConfigMap', 'postgres-pooler-rw-config').data['pgbouncer.ini']).toContain('max_db_connections = 47');
    const replicaArgs: string[] = container(find(docs, 'StatefulSet', 'postgres-replica').spec.template.spec, 'postgres').args;
    expect(replicaArgs).toEqual(args);
  });

  test('a single instance serves reads from the primary and needs no PodDisruptionBudget', () => {
    const { docs } = fullStack({ instances: 1 });
    expect(docs.find(d => d.kind === 'StatefulSet' && d.metadata.name === 'postgres-replica')).toBeUndefined();
    expect(docs.find(d => d.kind === 'PodDisruptionBudget' && d.metadata.name === 'postgres')).toBeUndefined();
    expect(find(docs, 'Service', 'postgres-ro').spec.selector['rauli-vision.com/role']).toBe('primary');
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('its NetworkPolicy admits the backends, the backup jobs, its own pods and Prometheus only', () => {
    const { docs } = fullStack();
    const np = find(docs, 'NetworkPolicy', 'postgres');
    const [clients, peers, monitoring] = np.spec.ingress;
    // The applications reach only the poolers; the poolers and the backup jobs reach the servers.
    expect(clients.from.map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/instance'] ?? f.podSelector.matchLabels[Components.LABEL]))
      .toEqual(['postgres-pooler-rw', 'postgres-pooler-ro', Components.BACKUP]);
    const poolerNp = find(docs, 'NetworkPolicy', 'postgres-pooler-rw');
    expect(poolerNp.spec.ingress[0].from[0].podSelector.matchExpressions[0].values.sort())
      .toEqual([Components.BACKEND_GO, Components.BACKEND_PYTHON].sort());
    expect(clients.ports).toEqual([{ protocol: 'TCP', port: DataConventions.POSTGRES_PORT }]);
    expect(peers.from[0].podSelector.matchLabels).toEqual({ [Components.LABEL]: Components.POSTGRES, 'app.kubernetes.io/instance': 'postgres' });
    expect(monitoring.from[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'monitoring' });
    expect(monitoring.ports).toEqual([{ protocol: 'TCP', port: DataConventions.POSTGRES_EXPORTER_PORT }]);
  });

  test('credentials come from an existing Secret unless generation is asked for', () => {
    expect(fullStack().docs.filter(d => d.kind === 'Secret')).toEqual([]);
    const generated = fullStack({ generateCredentials: true }).docs.filter(d => d.kind === 'Secret');
    expect(Object.keys(generated[0].stringData).sort()).toEqual([...PostgresCluster.SECRET_KEYS].sort());
  });

  test.each([
    [{ instances: 0 }, /Invalid instances: 0/],
    [{ storageSize: '20GB' }, /Invalid storageSize/],
    [{ maxConnections: 20, poolSize: 20 }, /Invalid poolSize: 20/],
    [{ database: 'Rauli-Prod' }, /Invalid database/],
    [{ image: 'postgres:latest' }, /Invalid image/],
    [{ image: 'postgres' }, /Invalid image/],
    [{ existingSecret: 'x', generateCredentials: true }, /Invalid generateCredentials/],
    [{ resources: { cpuRequest: '2', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' } }, /Invalid resources.cpuRequest/],
  ])('refuses %j', (props, message) => {
    expect(() => fullStack(props as PostgresClusterProps)).toThrow(message);
  });
});

describe('RedisCluster', () => {
  test('masters times (1 + replicas) nodes, REDIS_CLUSTER_NODES, maxmemory from the limit', () => {
    let redis: RedisCluster | undefined;
    const docs = synth(chart => { redis = new RedisCluster(chart, 'Redis', { masters: 3, replicasPerMaster: 1 }); });
    const sts = find(docs, 'StatefulSet', 'redis');
    expect(sts.spec.replicas).toBe(6);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(redis!.clusterNodes.split(',')).toHaveLength(6);
    expect(redis!.clusterNodes.split(',')[0]).toBe('redis-0.redis-headless.rauli-vision-test.svc.cluster.local:6379');
    const conf: string = find(docs, 'ConfigMap', 'redis-config').data['redis.conf'];
    expect(conf).toContain('cluster-enabled yes');
    expect(conf).toContain('maxmemory 384mb');
    expect(conf).toContain('appendonly yes');
    const args: string[] = container(sts.spec.template.spec, 'redis').args;
    expect(args).toContain('$(REDIS_PASSWORD)');
    expect(args).toContain('$(POD_NAME).redis-headless.rauli-vision-test.svc.cluster.local');
    const np = find(docs, 'NetworkPolicy', 'redis');
    expect(np.spec.ingress[1].ports.map((p: any) => p.port)).toEqual([DataConventions.REDIS_PORT, DataConventions.REDIS_BUS_PORT]);
    expect(find(docs, 'PodDisruptionBudget', 'redis').spec.maxUnavailable).toBe(1);
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test.each([
    [{ masters: 2 }, /Invalid masters: 2/],
    [{ replicasPerMaster: -1 }, /Invalid replicasPerMaster/],
    [{ maxmemoryPolicy: 'lru' }, /Invalid maxmemoryPolicy/],
    [{ exporterImage: 'oliver006/redis_exporter' }, /Invalid exporterImage/],
  ])('refuses %j', (props, message) => {
    expect(() => synth(chart => new RedisCluster(chart, 'Redis', props))).toThrow(message);
  });
});

describe('backups', () => {
  test('the nightly dump on the guide\'s schedule and the frequent one that keeps the RPO', () => {
    const { docs, backup } = fullStack();
    const daily = find(docs, 'CronJob', 'postgres-backup-daily');
    const frequent = find(docs, 'CronJob', 'postgres-backup-frequent');
    expect(daily.spec.schedule).toBe(BackupConventions.DATABASE_SCHEDULE);
    expect(frequent.spec.schedule).toBe('*/30 * * * *');
    for (const cj of [daily, frequent]) {
      expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 5 });
      expect(cj.spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
      const spec = podSpecOf(cj);
      expect(spec.initContainers.map((c: any) => c.name)).toEqual(['dump']);
      expect(spec.containers.map((c: any) => c.name)).toEqual(['upload']);
      expect(envValue(container(spec, 'dump'), 'PGHOST')).toBe('postgres-rw.rauli-vision-test.svc.cluster.local');
      expect(envValue(container(spec, 'upload'), 'BACKUP_DESTINATION')).toBe('s3://rauli-vision-backups');
      expect(envValue(container(spec, 'upload'), 'AWS_REGION')).toBe('eu-west-1');
    }
    expect(frequent.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(25 * 60);
    expect(backup!.worstCaseDataLossMinutes).toBe(55);
    expect(backup!.worstCaseDataLossMinutes).toBeLessThanOrEqual(BackupConventions.RPO_HOURS * 60);
    expect(find(docs, 'ServiceAccount', 'postgres-backup').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': STORAGE.roleArn });
    const egress = find(docs, 'NetworkPolicy', 'postgres-backup-egress').spec.egress;
    expect(egress[0].ports[0].port).toBe(DataConventions.POSTGRES_PORT);
    expect(egress[1].ports[0].port).toBe(443);
    expect(egress[2].ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
  });

  test('static credentials and an S3-compatible endpoint', () => {
    const docs = synth(chart => {
      const postgres = new PostgresCluster(chart, 'Postgres', { instances: 1 });
      new DatabaseBackup(chart, 'Backup', { postgres, storage: { bucketName: 'backups', endpoint: 'http://minio.storage.svc:9000', credentialsSecret: 'minio-backup' } });
    });
    const upload = container(podSpecOf(find(docs, 'CronJob', 'postgres-backup-daily')), 'upload');
    expect(envValue(upload, 'S3_ENDPOINT')).toBe('http://minio.storage.svc:9000');
    expect(upload.env.find((e: any) => e.name === 'AWS_ACCESS_KEY_ID').valueFrom.secretKeyRef).toEqual({ name: 'minio-backup', key: 'access-key-id' });
    expect(find(docs, 'ServiceAccount', 'postgres-backup').metadata.annotations).toBeUndefined();
    expect(find(docs, 'NetworkPolicy', 'postgres-backup-egress').spec.egress[1].ports[0].port).toBe(9000);
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('the restore Job downloads then restores one dump', () => {
    const { docs } = fullStack();
    const job = find(docs, 'Job', 'postgres-restore');
    const spec = podSpecOf(job);
    expect(envValue(container(spec, 'download'), 'RESTORE_KEY')).toBe('database/daily/20260101T020000Z/rauli.dump');
    expect(envValue(container(spec, 'restore'), 'RESTORE_CLEAN')).toBe('false');
    expect(job.spec.activeDeadlineSeconds).toBe(BackupConventions.RTO_HOURS * 3600);
  });

  test('the disaster-recovery plan states the objectives and the RPO mechanism from the same settings', () => {
    const { docs, plan, redis } = fullStack();
    const data = find(docs, 'ConfigMap', 'disaster-recovery-plan').data;
    expect(data).toEqual(plan!.data);
    expect(data.rto).toBe(`${BackupConventions.RTO_HOURS}h`);
    expect(data.rpo).toBe(`${BackupConventions.RPO_HOURS}h`);
    expect(data['rpo-mechanism']).toMatch(/^Full logical dumps \(pg_dump\) every 30 minutes .*no WAL archiving/);
    expect(data['retention-days']).toBe(String(BackupConventions.RETENTION_DAYS));
    expect(data['database-backup-schedule']).toBe(BackupConventions.DATABASE_SCHEDULE);
    expect(data.prefixes).toBe('database/daily/ database/frequent/ config/ user-data/');
    expect(data.procedures).toContain('postgres-backup-frequent');
    expect(data.procedures).toContain('redis-bootstrap');
    // The plan's failover step names the node timeout the cluster actually runs with.
    expect(data.procedures).toContain(`cluster-node-timeout (${redis!.nodeTimeoutMs} ms)`);
    expect(find(docs, 'ConfigMap', 'redis-config').data['redis.conf']).toContain(`cluster-node-timeout ${redis!.nodeTimeoutMs}\n`);
  });

  test.each([
    ['both a role and a Secret', { storage: { ...STORAGE, credentialsSecret: 's' } }, /Invalid storage.roleArn/],
    ['an interval that breaks the RPO', { frequentIntervalMinutes: 45 }, /Invalid frequentIntervalMinutes: "45"/],
    ['a prefix outside the lifecycle rules', { prefix: 'dumps/' }, /Invalid prefix/],
    ['a bad bucket', { storage: { bucketName: 'Bad_Bucket' } }, /Invalid storage.bucketName/],
    ['an endpoint with a path', { storage: { bucketName: 'bkp', endpoint: 'https://s3.example.com/bucket' } }, /Invalid storage.endpoint/],
    ['a bad schedule', { schedule: 'nightly' }, /Invalid schedule/],
  ])('refuses %s', (_, props, message) => {
    expect(() => synth(chart => {
      const postgres = new PostgresCluster(chart, 'Postgres', {});
      new DatabaseBackup(chart, 'Backup', { postgres, storage: STORAGE, ...props as any });
    })).toThrow(message);
  });

  test.each([
    ['a key that is not a dump', 'database/daily/x/rauli.sql', /Invalid backupKey/],
    ['a key outside the prefixes', 'other/x/rauli.dump', /Invalid backupKey/],
    ['a key climbing out', 'database/../x.dump', /Invalid backupKey/],
  ])('the restore Job refuses %s', (_, backupKey, message) => {
    expect(() => synth(chart => {
      const postgres = new PostgresCluster(chart, 'Postgres', {});
      new RestoreJob(chart, 'Restore', { postgres, storage: STORAGE, backupKey });
    })).toThrow(message);
  });

  test.each([
    [[], /Invalid sources/],
    [[{ name: 'config', claimName: 'a', configMapName: 'b' }], /exactly one of claimName and configMapName/],
    [[{ name: 'photos', claimName: 'a' }], /Invalid sources\[0\].name/],
    [[{ name: 'config', claimName: 'a' }, { name: 'config', claimName: 'b' }], /not used by another source/],
  ])('the application backup refuses sources %j', (sources, message) => {
    expect(() => synth(chart => new ApplicationBackup(chart, 'App', { storage: STORAGE, sources: sources as any }))).toThrow(message);
  });
});
