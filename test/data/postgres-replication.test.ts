/**
 * Streaming replication with the shipped scripts: a private primary (initdb,
 * then init-primary.sh as the official image runs it from
 * /docker-entrypoint-initdb.d) and a replica started by start-replica.sh
 * (pg_basebackup clone, then a hot standby), both with the exact postgres
 * arguments of the synthesized StatefulSets. Ports 7391/7392 (this helper's
 * range); the shared server on 5432 is not touched.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { container, removeTempDirs, run, RunResult, scriptsFromConfigMaps, synth, tempDir } from './support';
import { PostgresCluster } from '../../src/data';

const BIN = '/usr/lib/postgresql/15/bin';
const PRIMARY_PORT = 7391;
const REPLICA_PORT = 7392;
const docs = synth(chart => new PostgresCluster(chart, 'Postgres', { instances: 2 }));
const scripts = scriptsFromConfigMaps(docs, 'postgres-scripts');
const primaryArgs: string[] = container(docs.find(d => d.kind === 'StatefulSet' && d.metadata.name === 'postgres-primary').spec.template.spec, 'postgres').args;
const replicaArgs: string[] = container(docs.find(d => d.kind === 'StatefulSet' && d.metadata.name === 'postgres-replica').spec.template.spec, 'postgres').args;
const SECRETS = { APP_USER: 'rauli', APP_PASSWORD: 'app-secret', REPLICATION_USER: 'replicator', REPLICATION_PASSWORD: 'repl-secret' };

// PostgreSQL refuses to run as root: when the tests do, its processes run as the postgres user.
const asRoot = process.getuid?.() === 0;
const owner = asRoot ? { uid: Number(run('id', ['-u', 'postgres']).stdout), gid: Number(run('id', ['-g', 'postgres']).stdout) } : {};
const pgEnv = (env: { [k: string]: string }) => ({ PATH: `${BIN}:${process.env.PATH}`, HOME: '/tmp', ...env });
function runPg(env: { [k: string]: string }, command: string[]): RunResult {
  const r = spawnSync(command[0], command.slice(1), { env: pgEnv(env), encoding: 'utf8', timeout: 120_000, ...owner });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function startPg(env: { [k: string]: string }, command: string[], log: string): ChildProcess {
  const out = fs.openSync(log, 'a');
  return spawn(command[0], command.slice(1), { env: pgEnv(env), stdio: ['ignore', out, out], ...owner });
}
async function waitReady(port: number, socketDir: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (run(`${BIN}/pg_isready`, ['-q', '-h', socketDir, '-p', String(port)]).status === 0) return;
    await new Promise(r => setTimeout(r, 300));
  }
  throw new Error(`PostgreSQL on ${port} not ready`);
}
function sql(port: number, socketDir: string, database: string, query: string, user = 'postgres'): string {
  const r = run('psql', ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-p', String(port), '-U', user, '-d', database, '-c', query]);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}
async function stop(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise(resolve => proc.once('exit', resolve));
  // SIGINT: PostgreSQL's fast shutdown.
  proc.kill('SIGINT');
  await exited;
}

let base: string;
let socketDir: string;
let primary: ChildProcess | undefined;
let replica: ChildProcess | undefined;

beforeAll(async () => {
  base = tempDir('pg');
  socketDir = path.join(base, 'run');
  fs.mkdirSync(socketDir);
  if (asRoot) {
    run('chown', ['-R', 'postgres', base]);
    fs.chmodSync(scripts, 0o755);
  }
  const pgdata = path.join(base, 'primary');
  expect(runPg({}, ['initdb', '--username=postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pgdata=${pgdata}`]).status).toBe(0);
  // Like the official image: no replication rule of its own, password auth from anywhere.
  const hba = fs.readFileSync(path.join(pgdata, 'pg_hba.conf'), 'utf8').split('\n').filter(l => !/^\s*(local|host)\s+replication/.test(l));
  fs.writeFileSync(path.join(pgdata, 'pg_hba.conf'), [...hba, 'host all all all scram-sha-256', ''].join('\n'));
  const local = ['-c', `port=${PRIMARY_PORT}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`];
  primary = startPg({}, ['postgres', '-D', pgdata, ...primaryArgs, ...local], path.join(base, 'primary.log'));
  await waitReady(PRIMARY_PORT, socketDir);
  sql(PRIMARY_PORT, socketDir, 'postgres', 'CREATE DATABASE rauli');
  const init = runPg({ ...SECRETS, POSTGRES_USER: 'postgres', POSTGRES_DB: 'rauli', PGDATA: pgdata, PGHOST: socketDir, PGPORT: String(PRIMARY_PORT) },
    ['bash', path.join(scripts, 'init-primary.sh')]);
  expect(init.stderr).toBe('');
  expect(init.status).toBe(0);
  sql(PRIMARY_PORT, socketDir, 'postgres', 'SELECT pg_reload_conf()');
}, 120_000);

afterAll(async () => {
  await stop(replica);
  await stop(primary);
  removeTempDirs();
});

test('the construct configures the server from one connection setting and for replication', () => {
  expect(primaryArgs).toEqual(replicaArgs);
  expect(sql(PRIMARY_PORT, socketDir, 'postgres', 'SHOW max_connections')).toBe('100');
  expect(sql(PRIMARY_PORT, socketDir, 'postgres', 'SHOW wal_level')).toBe('replica');
  expect(sql(PRIMARY_PORT, socketDir, 'postgres', "SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'")).toBe('t');
  expect(sql(PRIMARY_PORT, socketDir, 'postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'rauli'")).toBe('rauli');
});

test('start-replica.sh clones the primary and streams from it as a read-only hot standby', async () => {
  const pgdata = path.join(base, 'replica');
  const local = ['-c', `port=${REPLICA_PORT}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`];
  replica = startPg({
    PGDATA: pgdata,
    PRIMARY_HOST: '127.0.0.1',
    PRIMARY_PORT: String(PRIMARY_PORT),
    REPLICATION_USER: SECRETS.REPLICATION_USER,
    REPLICATION_PASSWORD: SECRETS.REPLICATION_PASSWORD,
    CLONE_TIMEOUT_SECONDS: '30',
  }, ['bash', path.join(scripts, 'start-replica.sh'), ...replicaArgs, ...local], path.join(base, 'replica.log'));
  await waitReady(REPLICA_PORT, socketDir, 90_000);
  expect(fs.readFileSync(path.join(base, 'replica.log'), 'utf8')).toContain('clone complete');
  expect(sql(REPLICA_PORT, socketDir, 'postgres', 'SELECT pg_is_in_recovery()')).toBe('t');
  expect(fs.existsSync(path.join(pgdata, 'standby.signal'))).toBe(true);

  // The application role writes over TCP with its password; the row reaches the replica.
  const app = (query: string) => {
    const r = run('psql', ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(PRIMARY_PORT), '-U', 'rauli', '-d', 'rauli', '-c', query], { PGPASSWORD: SECRETS.APP_PASSWORD });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  app('CREATE TABLE events (id serial PRIMARY KEY, body text); INSERT INTO events (body) SELECT md5(g::text) FROM generate_series(1, 500) g');
  let seen = '';
  for (let i = 0; i < 50 && seen !== '500'; i++) {
    await new Promise(r => setTimeout(r, 200));
    try { seen = sql(REPLICA_PORT, socketDir, 'rauli', 'SELECT count(*) FROM events'); } catch { seen = ''; }
  }
  expect(seen).toBe('500');
  expect(sql(PRIMARY_PORT, socketDir, 'postgres', "SELECT state FROM pg_stat_replication WHERE usename = 'replicator'")).toBe('streaming');
  expect(() => sql(REPLICA_PORT, socketDir, 'rauli', "INSERT INTO events (body) VALUES ('x')")).toThrow(/read-only transaction/);
});

test('a replica whose clone fails leaves nothing half-started: a wrong replication password exits non-zero', () => {
  const r = runPg({
    PGDATA: path.join(base, 'bad-replica'),
    PRIMARY_HOST: '127.0.0.1',
    PRIMARY_PORT: String(PRIMARY_PORT),
    REPLICATION_USER: SECRETS.REPLICATION_USER,
    REPLICATION_PASSWORD: 'wrong',
    CLONE_TIMEOUT_SECONDS: '5',
  }, ['bash', path.join(scripts, 'start-replica.sh'), ...replicaArgs]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('password authentication failed');
  expect(fs.existsSync(path.join(base, 'bad-replica', 'PG_VERSION'))).toBe(false);
});
