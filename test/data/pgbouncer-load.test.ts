/**
 * The connection budget under load: PgBouncer (Debian's) with the synthesized
 * `pgbouncer.ini` of the operator-free engine in the production
 * configuration, in front of a PostgreSQL of its own started with the
 * synthesized `max_connections`. Every backend replica at the autoscalers'
 * maximum opens its full pool through the two PgBouncer instances; PostgreSQL
 * must never see more than `max_connections` and every query must complete.
 * Only the addresses differ from the pods: hosts, ports and the userlist path.
 * Ports 19010-19019.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { Client, Pool } from 'pg';
import { PostgresEngine } from '../../src/data';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';

const PG_PORT = 19010;
const BOUNCER_PORTS = [19011, 19012];
const PG_BIN = '/usr/lib/postgresql/15/bin';
const PASSWORD = 'load-test-password';

const chart = new RauliVisionChart(Testing.app(), 'load', {
  environment: 'production',
  images: { frontend: 'x/f:1.0.0', backendGo: 'x/b:1.0.0', backendPython: 'x/p:1.0.0' },
  database: { engine: PostgresEngine.statefulSet() },
});
const docs = Testing.synth(chart);
const ini: string = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === 'postgres-pooler-rw-config').data['pgbouncer.ini'];
const poolerReplicas: number = docs.find(d => d.kind === 'Deployment' && d.metadata.name === 'postgres-pooler-rw').spec.replicas;
const poolSize = Number(docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === RauliVisionChart.CONFIG_MAP_NAME).data.DATABASE_POOL_SIZE);
const primaryArgs: string[] = docs.find(d => d.kind === 'StatefulSet' && d.metadata.name === 'postgres-primary').spec.template.spec.containers[0].args;
const maxConnections = Number(primaryArgs.find(a => a.startsWith('max_connections='))!.split('=')[1]);
// The replicas the chart counted: every backend at its autoscaler's maximum.
const hpa = docs.find(d => d.kind === 'HorizontalPodAutoscaler' && d.metadata.name === 'backend-go').spec.maxReplicas;
const replicas = hpa + docs.find(d => d.kind === 'Deployment' && d.metadata.name === 'backend-python').spec.replicas;

const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', stdio: 'pipe' });

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

describe('PgBouncer with the synthesized settings, every replica at the autoscalers\' maximum', () => {
  let dir: string;
  const bouncers: ChildProcess[] = [];

  beforeAll(async () => {
    // initdb and PgBouncer refuse to run as root: the directory belongs to postgres.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-pgbouncer-'));
    fs.chmodSync(dir, 0o777);
    const data = path.join(dir, 'data');
    asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256']);
    asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-w', '-l', path.join(dir, 'pg.log'), '-o',
      `-p ${PG_PORT} -c listen_addresses=127.0.0.1 -k ${dir} -c max_connections=${maxConnections} -c superuser_reserved_connections=3`, 'start']);
    for (const sql of [`CREATE ROLE rauli LOGIN PASSWORD '${PASSWORD}'`, 'CREATE DATABASE rauli OWNER rauli']) {
      asPostgres(`${PG_BIN}/psql`, ['-h', dir, '-p', String(PG_PORT), '-d', 'postgres', '-qc', sql]);
    }
    // The pod's start command writes the userlist from the Secret the same way.
    fs.writeFileSync(path.join(dir, 'userlist.txt'), `"rauli" "${PASSWORD}"\n`, { mode: 0o644 });
    for (const port of BOUNCER_PORTS.slice(0, poolerReplicas)) {
      const local = ini
        .replace(/^\* = host=\S+ port=\d+$/m, `* = host=127.0.0.1 port=${PG_PORT}`)
        .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
        .replace(/^listen_port = .*$/m, `listen_port = ${port}`)
        .replace(/^auth_file = .*$/m, `auth_file = ${dir}/userlist.txt`);
      const file = path.join(dir, `pgbouncer-${port}.ini`);
      fs.writeFileSync(file, local, { mode: 0o644 });
      const p = spawn('runuser', ['-u', 'postgres', '--', 'sh', '-c', `ulimit -n 4096; exec /usr/sbin/pgbouncer ${file}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      p.stderr!.on('data', d => { log += d; });
      p.on('exit', code => { if (code) process.stderr.write(`pgbouncer ${port} exited ${code}: ${log}\n`); });
      bouncers.push(p);
      await waitForPort(port);
    }
  });

  afterAll(() => {
    for (const b of bouncers) b.kill();
    try {
      asPostgres(`${PG_BIN}/pg_ctl`, ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']);
    } catch { /* already stopped */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the production budget: 52 replicas with pools of 20 through 2 PgBouncers', () => {
    expect(replicas).toBe(52);
    expect(poolSize).toBe(20);
    expect(poolerReplicas).toBe(2);
    expect(ini).toMatch(/^pool_mode = transaction$/m);
  });

  test('every client connects and every query completes; PostgreSQL stays within max_connections', async () => {
    // Over the Unix socket, as postgres: trusted locally, and outside the pool being measured.
    const monitor = new Client({ host: dir, port: PG_PORT, user: 'postgres', database: 'postgres' });
    await monitor.connect();
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = await monitor.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'");
        peak = Math.max(peak, r.rows[0].n);
        await new Promise(res => setTimeout(res, 20));
      }
    })();

    // One pool per replica, as the Koa service creates it, spread over the PgBouncers as the Service would.
    const pools = Array.from({ length: replicas }, (_, i) => new Pool({
      host: '127.0.0.1',
      port: BOUNCER_PORTS[i % poolerReplicas],
      user: 'rauli',
      password: PASSWORD,
      database: 'rauli',
      max: poolSize,
      connectionTimeoutMillis: 60_000,
    }));
    const queriesPerClient = 3;
    const started = Date.now();
    const results = await Promise.allSettled(pools.flatMap((pool, r) => Array.from({ length: poolSize }, async (_, c) => {
      // Hold the client: every replica has its whole pool open at once.
      const client = await pool.connect();
      try {
        for (let q = 0; q < queriesPerClient; q++) {
          const res = await client.query('SELECT pg_sleep(0.02), $1::int AS n', [r * 1000 + c]);
          if (res.rows[0].n !== r * 1000 + c) throw new Error('wrong row');
        }
      } finally {
        client.release();
      }
    })));
    const elapsed = Date.now() - started;
    sampling = false;
    await sampler;
    await Promise.all(pools.map(p => p.end()));
    await monitor.end();

    const failures = results.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason));
    expect(failures.slice(0, 3)).toEqual([]);
    expect(results).toHaveLength(replicas * poolSize);
    // The server side: at most max_db_connections per PgBouncer, plus this test's monitor.
    const serverPool = Number(ini.match(/^max_db_connections = (\d+)$/m)![1]);
    expect(peak).toBeLessThanOrEqual(poolerReplicas * serverPool + 1);
    expect(peak).toBeLessThanOrEqual(maxConnections);
    process.stdout.write(`pgbouncer load: ${replicas * poolSize} clients, ${replicas * poolSize * queriesPerClient} queries in ${elapsed} ms, `
      + `peak ${peak} PostgreSQL client backends of max_connections ${maxConnections}\n`);
  });
});
