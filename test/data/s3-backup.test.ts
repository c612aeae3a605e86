/**
 * The logical backup over the S3 protocol: the daily CronJob's exact steps
 * (command, args and plain env from the synthesized pod spec, scripts from its
 * ConfigMap) against the local PostgreSQL, uploading with the real AWS CLI to
 * an S3-protocol server (npm s3rver) this test starts; the restore Job's steps
 * bring the dump back into a fresh database. Ports 19001-19009.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { container, dropDatabase, psql, PG, removeTempDirs, run, RunResult, scriptsFromConfigMaps, synth, tempDir, uniqueName } from './support';
import { DatabaseBackup, PostgresCluster } from '../../src/data';

/**
 * s3rver in its own process: the steps run through spawnSync, which blocks
 * this process's event loop, so an in-process server could never answer them.
 */
async function startS3rver(dir: string): Promise<ChildProcess> {
  const bin = path.join(path.dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const child = spawn(process.execPath, [bin, '-d', dir, '-a', '127.0.0.1', '-p', String(PORT), '--silent', '--configure-bucket', BUCKET], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>(resolve => {
      const sock = net.connect(PORT, '127.0.0.1', () => { sock.destroy(); resolve(true); });
      sock.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise(r => setTimeout(r, 100));
  }
  child.kill();
  throw new Error(`s3rver did not listen on ${PORT}`);
}

const PORT = 19001;
const BUCKET = 'rauli-vision-backups';
const ENDPOINT = `http://127.0.0.1:${PORT}`;
// s3rver's fixed credentials, given to the jobs as the Secret would.
const SECRETS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', PGPASSWORD: '' };

const docs = synth(chart => {
  const postgres = new PostgresCluster(chart, 'Postgres', {});
  const backup = new DatabaseBackup(chart, 'Backup', {
    postgres,
    storage: { bucketName: BUCKET, endpoint: ENDPOINT, region: 'eu-west-1', credentialsSecret: 'backup-s3' },
  });
  backup.restore('Restore', { backupKey: 'database/daily/20260101T020000Z/rauli.dump' });
});
const backupScripts = scriptsFromConfigMaps(docs, 'postgres-backup-scripts');
const restoreScripts = scriptsFromConfigMaps(docs, 'postgres-restore-scripts');
const daily = docs.find(d => d.kind === 'CronJob' && d.metadata.name === 'postgres-backup-daily').spec.jobTemplate.spec.template.spec;
const restoreJob = docs.find(d => d.kind === 'Job' && d.metadata.name === 'postgres-restore').spec.template.spec;

/** The AWS CLI's environment: no profile, no instance metadata lookups. */
function awsEnv(): { [k: string]: string } {
  return { HOME: tempDir('home'), AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
}

/**
 * Runs one step as the pod does: its command, args and plain env values, the
 * secrets above, /scripts and /work mapped to local directories, and `local`
 * for what differs on this machine (the database's address).
 */
function runStep(podSpec: any, name: string, scripts: string, work: string, local: { [k: string]: string }): RunResult {
  const c = container(podSpec, name);
  const plain = Object.fromEntries((c.env ?? []).filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  const argv = [...c.command, ...c.args].map((a: string) => a.replace(/^\/scripts\//, `${scripts}/`).replace(/^\/work$/, work));
  return run(argv[0], argv.slice(1), { ...plain, ...SECRETS, ...awsEnv(), ...local });
}

function aws(...args: string[]): RunResult {
  return run('aws', ['--endpoint-url', ENDPOINT, '--region', 'eu-west-1', 's3', ...args], { ...SECRETS, ...awsEnv() });
}

/** Every key in the bucket, sorted. */
function keys(): string[] {
  const r = aws('ls', '--recursive', `s3://${BUCKET}/`);
  if (r.status !== 0) throw new Error(`aws s3 ls failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map(l => l.trim().split(/\s+/).slice(3).join(' ')).sort();
}

function putObject(key: string): void {
  const file = path.join(tempDir('obj'), 'x');
  fs.writeFileSync(file, 'old backup');
  const r = aws('cp', file, `s3://${BUCKET}/${key}`);
  if (r.status !== 0) throw new Error(`aws s3 cp failed: ${r.stderr}`);
}

function tableChecksums(database: string): { [table: string]: string } {
  const tables = psql(database, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1").split('\n');
  return Object.fromEntries(tables.map(t => [t, psql(database, `SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x`)]));
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

describe('the daily logical backup over the S3 protocol (s3rver + AWS CLI)', () => {
  const source = uniqueName('rv_s3_src');
  const target = uniqueName('rv_s3_dst');
  let server: ChildProcess | undefined;
  const local = { PGHOST: PG.PGHOST, PGPORT: PG.PGPORT, DATABASES: source };

  beforeAll(async () => {
    server = await startS3rver(tempDir('s3rver'));
    psql('postgres', `CREATE DATABASE ${source}`);
    psql(source, `
      CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, profile jsonb);
      CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers(id), total numeric(12,2));
      INSERT INTO customers SELECT g, 'cliente ' || g || ' ñandú', jsonb_build_object('n', g) FROM generate_series(1, 3000) g;
      INSERT INTO orders (customer, total) SELECT 1 + g % 3000, (g * 37 % 100000) / 100.0 FROM generate_series(1, 30000) g;
    `);
  });

  afterAll(async () => {
    server?.kill();
    for (const db of [source, target]) dropDatabase(db);
    removeTempDirs();
  });

  test('a pg_dump that fails uploads nothing and deletes nothing', () => {
    putObject('database/daily/20200101T020000Z/rauli.dump');
    const before = keys();
    const work = tempDir('work');
    const dump = runStep(daily, 'dump', backupScripts, work, { ...local, PGPORT: '19009', PGCONNECT_TIMEOUT: '3' });
    expect(dump.status).not.toBe(0);
    expect(dump.stderr).toMatch(/pg_dump: error: connection to server .* failed/);
    const upload = runStep(daily, 'upload', backupScripts, work, local);
    expect(upload.status).not.toBe(0);
    expect(keys()).toEqual(before);
  });

  test('dump, upload, retention and restore: the fresh database has identical tables', () => {
    const now = new Date();
    const old = stamp(new Date(now.getTime() - 31 * 86_400_000));
    const recent = stamp(new Date(now.getTime() - 29 * 86_400_000));
    putObject(`database/daily/${old}/rauli.dump`);
    putObject(`database/daily/${recent}/rauli.dump`);
    putObject('database/daily/README');
    putObject(`database/frequent/${old}/rauli.dump`);

    const work = tempDir('work');
    const dump = runStep(daily, 'dump', backupScripts, work, local);
    expect(dump.status).toBe(0);
    const upload = runStep(daily, 'upload', backupScripts, work, local);
    expect(upload.stderr).toContain('uploaded 2 object(s)');
    expect(upload.status).toBe(0);
    // 30 days from BackupConventions.RETENTION_DAYS: older daily dumps are gone, anything else stays.
    expect(upload.stderr).toMatch(/retention: deleted 2 backup\(s\) under database\/daily\//);

    const all = keys();
    const fresh = all.filter(k => k.startsWith('database/daily/') && !k.includes(old) && !k.includes(recent) && k !== 'database/daily/README');
    expect(fresh.map(k => path.basename(k)).sort()).toEqual(['SHA256SUMS', `${source}.dump`, 'globals.sql.gz'].sort());
    expect(all).toEqual(expect.arrayContaining([`database/daily/${recent}/rauli.dump`, 'database/daily/README', `database/frequent/${old}/rauli.dump`]));
    expect(all.filter(k => k.includes(`daily/${old}`) || k.includes('daily/20200101T020000Z'))).toEqual([]);

    const key = fresh.find(k => k.endsWith('.dump'))!;
    const restoreWork = tempDir('restore');
    const restoreEnv = { PGHOST: PG.PGHOST, PGPORT: PG.PGPORT, RESTORE_KEY: key, RESTORE_DATABASE: target };
    // The two restore steps are timed: docs/disaster-recovery.md quotes them as the measured part of the RTO.
    const started = performance.now();
    expect(runStep(restoreJob, 'download', restoreScripts, restoreWork, restoreEnv).status).toBe(0);
    const downloaded = performance.now();
    const restore = runStep(restoreJob, 'restore', restoreScripts, restoreWork, restoreEnv);
    expect(restore.status).toBe(0);
    console.log(`restore steps (33,000 rows): download and verify ${Math.round(downloaded - started)} ms, pg_restore ${Math.round(performance.now() - downloaded)} ms`);
    const sums = tableChecksums(source);
    expect(sums['public.orders']).toMatch(/^30000:/);
    expect(tableChecksums(target)).toEqual(sums);
  });
});
