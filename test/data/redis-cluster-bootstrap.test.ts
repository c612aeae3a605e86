/**
 * A real Redis Cluster: six nodes started from the synthesized StatefulSet
 * (its redis.conf and arguments) on this helper's ports (7300-7305, cluster
 * bus 7310-7315), formed by the exact script and command the bootstrap Job
 * runs (taken from the synthesized Job and ConfigMap), run twice to prove it
 * is idempotent, then used through ioredis' Cluster client.
 */
import { Cluster } from 'ioredis';
import { container, envValue, removeTempDirs, run, scriptsFromConfigMaps, synth, tempDir } from './support';
import { RedisCluster, RedisServer } from '../../src/data';
import { LocalRedisCluster, parseInfo, redisManifests } from '../support/redis-cluster';

const PORTS = [7300, 7301, 7302, 7303, 7304, 7305];
const busPort = (port: number) => port + 10;
const PASSWORD = 'test-cluster-password';

// Valkey where it is installed, else Redis 7: the manifests differ only in the binaries' names.
const hasValkey = run('sh', ['-c', 'command -v valkey-server']).status === 0;
const server = hasValkey ? RedisServer.valkey8() : RedisServer.redis7();
const docs = synth(chart => new RedisCluster(chart, 'Redis', { masters: 3, replicasPerMaster: 1, server }));
const job = docs.find(d => d.kind === 'Job' && d.metadata.name === 'redis-bootstrap').spec.template.spec;
const scripts = scriptsFromConfigMaps(docs, 'redis-config');
const bootstrap = container(job, 'bootstrap');

let cluster: LocalRedisCluster;

function startNode(port: number, wipe = false): Promise<void> {
  return cluster.startNode(PORTS.indexOf(port), { wipe });
}

/** The Job's container command with its env, REDIS_NODES pointed at the local nodes. */
function runBootstrap() {
  return cluster.bootstrap({ BOOTSTRAP_TIMEOUT_SECONDS: '60' });
}

function clusterInfo(port: number): { [k: string]: string } {
  return parseInfo(cluster.cliSync(port, 'CLUSTER', 'INFO'));
}

function roles(): string[] {
  return PORTS.map(p => cluster.cliSync(p, 'ROLE').split('\n')[0].trim()).sort();
}

beforeAll(async () => {
  cluster = new LocalRedisCluster(redisManifests(docs), { ports: PORTS, busPort, root: tempDir('redis'), password: PASSWORD });
  await cluster.start();
});

afterAll(async () => {
  await cluster?.stop();
  removeTempDirs();
});

test('the Job runs the shipped bootstrap script with the construct\'s settings', () => {
  expect(bootstrap.command).toEqual(['bash', '/scripts/redis-cluster-bootstrap.sh']);
  expect(envValue(bootstrap, 'REDIS_REPLICAS_PER_MASTER')).toBe('1');
  expect(envValue(bootstrap, 'REDIS_NODES')).toBe(
    [0, 1, 2, 3, 4, 5].map(i => `redis-${i}.redis-headless.rauli-vision-test.svc.cluster.local:6379`).join(','));
});

test('the bootstrap forms the cluster, and a second run changes nothing', () => {
  const first = runBootstrap();
  expect(first.stderr).toContain('creating a cluster of 3 masters with 1 replica(s) each');
  expect(first.status).toBe(0);
  for (const p of PORTS) {
    expect(clusterInfo(p)).toMatchObject({ cluster_state: 'ok', cluster_slots_assigned: '16384', cluster_known_nodes: '6', cluster_size: '3' });
  }
  expect(roles()).toEqual(['master', 'master', 'master', 'slave', 'slave', 'slave']);
  const nodesBefore = cluster.cliSync(7300, 'CLUSTER', 'MYID');

  const second = runBootstrap();
  expect(second.stderr).toContain('cluster already formed');
  expect(second.stderr).not.toContain('creating');
  expect(second.status).toBe(0);
  expect(cluster.cliSync(7300, 'CLUSTER', 'MYID')).toBe(nodesBefore);
  expect(clusterInfo(7300).cluster_current_epoch).toBe(clusterInfo(7301).cluster_current_epoch);
});

test('ioredis writes and reads keys across all slots through the cluster client', async () => {
  const client = new Cluster(PORTS.slice(0, 3).map(port => ({ host: '127.0.0.1', port })), {
    redisOptions: { password: PASSWORD },
    enableOfflineQueue: true,
  });
  try {
    const keys = Array.from({ length: 300 }, (_, i) => `rv-data-test:${i}`);
    await Promise.all(keys.map((k, i) => client.set(k, `value-${i}`, 'EX', 60)));
    const values = await Promise.all(keys.map(k => client.get(k)));
    expect(values).toEqual(keys.map((_, i) => `value-${i}`));
    // The keys landed on all three masters.
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    const sizes = await Promise.all(masters.map(m => m.dbsize()));
    expect(sizes.every(s => s > 0)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);
  } finally {
    client.disconnect();
  }
});

test('a node that comes back with an empty volume is added back as a replica', async () => {
  const replicaPort = PORTS.find(p => cluster.cliSync(p, 'ROLE').startsWith('slave'))!;
  await cluster.kill(replicaPort, 'SIGTERM');
  await startNode(replicaPort, true);
  expect(clusterInfo(replicaPort).cluster_known_nodes).toBe('1');

  const repair = runBootstrap();
  expect(repair.stderr).toContain(`adding empty node 127.0.0.1:${replicaPort}`);
  expect(repair.stderr).toContain('forgetting');
  expect(repair.status).toBe(0);
  // Replication settles asynchronously after CLUSTER REPLICATE.
  for (let i = 0; i < 50 && roles().join() !== 'master,master,master,slave,slave,slave'; i++) await new Promise(r => setTimeout(r, 200));
  expect(roles()).toEqual(['master', 'master', 'master', 'slave', 'slave', 'slave']);
  for (const p of PORTS) expect(clusterInfo(p)).toMatchObject({ cluster_state: 'ok', cluster_known_nodes: '6' });

  const again = runBootstrap();
  expect(again.stderr).toContain('cluster already formed');
  expect(again.status).toBe(0);
});

test('the bootstrap refuses too few nodes for three masters', () => {
  const r = run('bash', [`${scripts}/redis-cluster-bootstrap.sh`], {
    REDIS_NODES: '127.0.0.1:7300,127.0.0.1:7301,127.0.0.1:7302,127.0.0.1:7303', REDIS_REPLICAS_PER_MASTER: '1', REDISCLI_AUTH: PASSWORD,
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('cannot form a cluster of at least 3 masters');
});

test('a partial state (nodes clustered but no node serving every slot) fails loudly and changes nothing', async () => {
  const ports = [7320, 7321, 7322];
  // Three more nodes of the same StatefulSet (its first three pods) on their own ports.
  const other = new LocalRedisCluster(cluster.manifests, { ports, busPort, root: tempDir('redis-partial'), password: PASSWORD });
  await other.start();
  try {
    // Two nodes that know each other, no slots assigned: a half-done manual setup.
    other.cliSync(7320, 'CLUSTER', 'MEET', '127.0.0.1', '7321', String(busPort(7321)));
    for (let i = 0; i < 50 && parseInfo(other.cliSync(7321, 'CLUSTER', 'INFO')).cluster_known_nodes !== '2'; i++) await new Promise(r => setTimeout(r, 100));
    const r = run('bash', [`${scripts}/redis-cluster-bootstrap.sh`], {
      REDIS_NODES: ports.map(p => `127.0.0.1:${p}`).join(' '), REDIS_REPLICAS_PER_MASTER: '0', REDISCLI_AUTH: PASSWORD,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('partial state, see the disaster-recovery runbook');
    expect(ports.map(p => parseInfo(other.cliSync(p, 'CLUSTER', 'INFO')).cluster_slots_assigned)).toEqual(['0', '0', '0']);
  } finally {
    await other.stop();
  }
});

test('the shipped redis.conf and the StatefulSet\'s arguments start a real redis-server', async () => {
  // Pod redis-0 alone, announcing its synthesized DNS name (nobody connects to it through the name).
  const single = new LocalRedisCluster(cluster.manifests, { ports: [7340], busPort: () => 7341, root: tempDir('redis-conf'), password: PASSWORD, localHostnames: false });
  try {
    await single.startNode(0);
    const get = (key: string) => single.cliSync(7340, '--raw', 'CONFIG', 'GET', key).split('\n')[1];
    expect(get('cluster-enabled')).toBe('yes');
    expect(get('maxmemory')).toBe(String(384 * 2 ** 20));
    expect(get('maxmemory-policy')).toBe('allkeys-lru');
    expect(get('appendonly')).toBe('yes');
    expect(get('cluster-announce-hostname')).toBe('redis-0.redis-headless.rauli-vision-test.svc.cluster.local');
    expect(get('cluster-preferred-endpoint-type')).toBe('hostname');
    // Unauthenticated clients are refused.
    expect(run('redis-cli', ['-p', '7340', 'PING']).stdout).toContain('NOAUTH');
  } finally {
    await single.stop();
  }
});
