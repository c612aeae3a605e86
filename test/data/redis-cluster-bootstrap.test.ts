/**
 * A real Redis Cluster: six `redis-server --cluster-enabled yes` processes on
 * this helper's ports (7300-7305, cluster bus 7310-7315), formed by the exact
 * script and command the bootstrap Job runs (taken from the synthesized Job and
 * ConfigMap), run twice to prove it is idempotent, then used through ioredis'
 * Cluster client.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Cluster } from 'ioredis';
import { container, envValue, removeTempDirs, run, RunResult, scriptsFromConfigMaps, synth, tempDir } from './support';
import { RedisCluster, RedisServer } from '../../src/data';

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

const servers = new Map<number, ChildProcess>();
let dataRoot: string;

function startNode(port: number, wipe = false): Promise<void> {
  const dir = path.join(dataRoot, String(port));
  if (wipe) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const proc = spawn(server.serverBinary, [
    '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(busPort(port)),
    '--cluster-config-file', path.join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000',
    '--dir', dir, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--requirepass', PASSWORD, '--masterauth', PASSWORD,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.set(port, proc);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    proc.on('exit', code => reject(new Error(`redis-server ${port} exited with ${code}: ${out}`)));
  });
}

async function stopNode(port: number): Promise<void> {
  const proc = servers.get(port);
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise(resolve => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  await exited;
  servers.delete(port);
}

/** The Job's container command with its env, REDIS_NODES pointed at the local nodes. */
function runBootstrap(): RunResult {
  const argv = [...bootstrap.command, ...bootstrap.args ?? []].map((a: string) => a.replace(/^\/scripts\//, `${scripts}/`));
  return run(argv[0], argv.slice(1), {
    REDIS_NODES: PORTS.map(p => `127.0.0.1:${p}`).join(','),
    REDIS_REPLICAS_PER_MASTER: envValue(bootstrap, 'REDIS_REPLICAS_PER_MASTER'),
    BOOTSTRAP_TIMEOUT_SECONDS: '60',
    REDISCLI_AUTH: PASSWORD,
  });
}

function clusterInfo(port: number): { [k: string]: string } {
  const out = run('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'], { REDISCLI_AUTH: PASSWORD }).stdout;
  return Object.fromEntries(out.split(/\r?\n/).filter(l => l.includes(':')).map(l => l.split(':') as [string, string]));
}

function roles(): string[] {
  return PORTS.map(p => run('redis-cli', ['-p', String(p), 'ROLE'], { REDISCLI_AUTH: PASSWORD }).stdout.split('\n')[0].trim()).sort();
}

beforeAll(async () => {
  dataRoot = tempDir('redis');
  await Promise.all(PORTS.map(p => startNode(p)));
});

afterAll(async () => {
  await Promise.all([...servers.keys()].map(stopNode));
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
  const nodesBefore = run('redis-cli', ['-p', '7300', 'CLUSTER', 'MYID'], { REDISCLI_AUTH: PASSWORD }).stdout;

  const second = runBootstrap();
  expect(second.stderr).toContain('cluster already formed');
  expect(second.stderr).not.toContain('creating');
  expect(second.status).toBe(0);
  expect(run('redis-cli', ['-p', '7300', 'CLUSTER', 'MYID'], { REDISCLI_AUTH: PASSWORD }).stdout).toBe(nodesBefore);
  expect(clusterInfo(7300).cluster_current_epoch).toBe(clusterInfo(7301).cluster_current_epoch);
});

test('ioredis writes and reads keys across all slots through the cluster client', async () => {
  const cluster = new Cluster(PORTS.slice(0, 3).map(port => ({ host: '127.0.0.1', port })), {
    redisOptions: { password: PASSWORD },
    enableOfflineQueue: true,
  });
  try {
    const keys = Array.from({ length: 300 }, (_, i) => `rv-data-test:${i}`);
    await Promise.all(keys.map((k, i) => cluster.set(k, `value-${i}`, 'EX', 60)));
    const values = await Promise.all(keys.map(k => cluster.get(k)));
    expect(values).toEqual(keys.map((_, i) => `value-${i}`));
    // The keys landed on all three masters.
    const masters = cluster.nodes('master');
    expect(masters).toHaveLength(3);
    const sizes = await Promise.all(masters.map(m => m.dbsize()));
    expect(sizes.every(s => s > 0)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);
  } finally {
    cluster.disconnect();
  }
});

test('a node that comes back with an empty volume is added back as a replica', async () => {
  const replicaPort = PORTS.find(p => run('redis-cli', ['-p', String(p), 'ROLE'], { REDISCLI_AUTH: PASSWORD }).stdout.startsWith('slave'))!;
  await stopNode(replicaPort);
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
  await Promise.all(ports.map(p => startNode(p)));
  try {
    // Two nodes that know each other, no slots assigned: a half-done manual setup.
    run('redis-cli', ['-p', '7320', 'CLUSTER', 'MEET', '127.0.0.1', '7321', String(busPort(7321))], { REDISCLI_AUTH: PASSWORD });
    for (let i = 0; i < 50 && clusterInfo(7321).cluster_known_nodes !== '2'; i++) await new Promise(r => setTimeout(r, 100));
    const r = run('bash', [`${scripts}/redis-cluster-bootstrap.sh`], {
      REDIS_NODES: ports.map(p => `127.0.0.1:${p}`).join(' '), REDIS_REPLICAS_PER_MASTER: '0', REDISCLI_AUTH: PASSWORD,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('partial state, see the disaster-recovery runbook');
    expect(ports.map(p => clusterInfo(p).cluster_slots_assigned)).toEqual(['0', '0', '0']);
  } finally {
    await Promise.all(ports.map(stopNode));
  }
});

test('the shipped redis.conf and the StatefulSet\'s arguments start a real redis-server', async () => {
  const conf: string = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === 'redis-config').data['redis.conf'];
  const sts = docs.find(d => d.kind === 'StatefulSet' && d.metadata.name === 'redis').spec.template.spec;
  const redis = container(sts, 'redis');
  const dir = tempDir('redis-conf');
  fs.writeFileSync(path.join(dir, 'redis.conf'), conf.replace('dir /data', `dir ${dir}`).replace('/data/nodes.conf', `${dir}/nodes.conf`));
  // The kubelet's $(VAR) expansion, then this test's port.
  const args = (redis.args as string[]).map(a => a.replace('/etc/redis/redis.conf', path.join(dir, 'redis.conf'))
    .replace('$(REDIS_PASSWORD)', PASSWORD).replace('$(POD_NAME)', 'redis-0'));
  const proc = spawn(redis.command[0], [...args, '--port', '7340', '--cluster-port', '7341', '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('Ready to accept connections')) resolve(); });
      proc.on('exit', code => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
    const get = (key: string) => run('redis-cli', ['-p', '7340', '--raw', 'CONFIG', 'GET', key], { REDISCLI_AUTH: PASSWORD }).stdout.split('\n')[1];
    expect(get('cluster-enabled')).toBe('yes');
    expect(get('maxmemory')).toBe(String(384 * 2 ** 20));
    expect(get('maxmemory-policy')).toBe('allkeys-lru');
    expect(get('appendonly')).toBe('yes');
    expect(get('cluster-announce-hostname')).toBe('redis-0.redis-headless.rauli-vision-test.svc.cluster.local');
    expect(get('cluster-preferred-endpoint-type')).toBe('hostname');
    // Unauthenticated clients are refused.
    expect(run('redis-cli', ['-p', '7340', 'PING']).stdout).toContain('NOAUTH');
  } finally {
    const exited = new Promise(resolve => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
});
