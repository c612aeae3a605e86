/**
 * The database backup and restore scripts, run for real against the local
 * PostgreSQL with the exact files and commands the CronJob and the restore Job
 * run (taken from the synthesized ConfigMaps and pod specs), with the
 * `file://` transport (a mounted volume as the destination). The S3 protocol
 * is tested with the real AWS CLI against s3rver in s3-backup.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { container, dropDatabase, listFiles, psql, PG, removeTempDirs, run, RunResult, scriptsFromConfigMaps, synth, tempDir, uniqueName } from './support';
import { DatabaseBackup, PostgresCluster } from '../../src/data';

const docs = synth(chart => {
  const postgres = new PostgresCluster(chart, 'Postgres', {});
  const backup = new DatabaseBackup(chart, 'Backup', { postgres, storage: { bucketName: 'rauli-vision-backups' } });
  backup.restore('Restore', { backupKey: 'database/daily/20260101T020000Z/rauli.dump' });
});
const backupScripts = scriptsFromConfigMaps(docs, 'postgres-backup-scripts');
const restoreScripts = scriptsFromConfigMaps(docs, 'postgres-restore-scripts');
const frequent = docs.find(d => d.kind === 'CronJob' && d.metadata.name === 'postgres-backup-frequent').spec.jobTemplate.spec.template.spec;
const restoreJob = docs.find(d => d.kind === 'Job' && d.metadata.name === 'postgres-restore').spec.template.spec;

/** Runs a step of a pod as the pod does: its command and args, with /scripts and /work mapped to local directories. */
function runStep(podSpec: any, name: string, scripts: string, work: string, env: { [k: string]: string }): RunResult {
  const c = container(podSpec, name);
  const argv = [...c.command, ...c.args].map((a: string) => a.replace(/^\/scripts\//, `${scripts}/`).replace(/^\/work$/, work));
  return run(argv[0], argv.slice(1), env);
}

function tableChecksums(database: string): { [table: string]: string } {
  const tables = psql(database, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1").split('\n');
  const sums: { [table: string]: string } = {};
  for (const t of tables) {
    sums[t] = psql(database, `SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x`);
  }
  sums.sequence = psql(database, 'SELECT last_value FROM app.orders_id_seq');
  sums.view = psql(database, 'SELECT count(*) FROM app.big_orders');
  return sums;
}

describe('backup-database.sh and restore-database.sh against the local PostgreSQL', () => {
  const source = uniqueName('rv_data_src');
  const target = uniqueName('rv_data_dst');
  const created: string[] = [source, target];

  beforeAll(() => {
    psql('postgres', `CREATE DATABASE ${source}`);
    psql(source, `
      CREATE SCHEMA app;
      CREATE TABLE app.customers (id int PRIMARY KEY, name text NOT NULL, profile jsonb, avatar bytea, created timestamptz);
      CREATE TABLE app.orders (id bigserial PRIMARY KEY, customer int REFERENCES app.customers(id), total numeric(12,2), note text);
      CREATE VIEW app.big_orders AS SELECT * FROM app.orders WHERE total > 500;
      CREATE TABLE public.settings (key text PRIMARY KEY, value text);
      INSERT INTO app.customers
        SELECT g, 'cliente ' || g || ' ñandú 🚀', jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g % 7)),
               decode(md5(g::text), 'hex'), '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 minute'
        FROM generate_series(1, 2000) g;
      INSERT INTO app.orders (customer, total, note)
        SELECT 1 + g % 2000, (g * 37 % 100000) / 100.0, CASE WHEN g % 5 = 0 THEN NULL ELSE 'pedido ' || g END
        FROM generate_series(1, 20000) g;
      INSERT INTO public.settings VALUES ('theme', 'dark'), ('quote', E'it''s "quoted"\\nnewline');
    `);
  });

  afterAll(() => {
    for (const db of created) dropDatabase(db);
    removeTempDirs();
  });

  test('a dump uploaded to the stand-in bucket restores into a fresh database with identical tables', () => {
    const bucket = tempDir('bucket');
    const work = tempDir('work');
    const env = { ...PG, DATABASES: source, BACKUP_PREFIX: 'database/frequent/', BACKUP_DESTINATION: `file://${bucket}` };
    // The CronJob's two steps, as two processes sharing the work directory.
    const dump = runStep(frequent, 'dump', backupScripts, work, env);
    expect(dump.stderr).toContain(`dumping database ${source}`);
    expect(dump.status).toBe(0);
    expect(listFiles(bucket)).toEqual([]);
    const upload = runStep(frequent, 'upload', backupScripts, work, env);
    expect(upload.status).toBe(0);

    const objects = listFiles(bucket);
    expect(objects).toHaveLength(3);
    const folder = path.dirname(objects[0]);
    expect(folder).toMatch(/^database\/frequent\/[0-9]{8}T[0-9]{6}Z$/);
    expect(objects.map(o => path.basename(o)).sort()).toEqual(['SHA256SUMS', `${source}.dump`, 'globals.sql.gz'].sort());
    expect(run('sha256sum', ['--check', '--strict', 'SHA256SUMS'], {}, path.join(bucket, folder)).status).toBe(0);
    expect(run('bash', ['-c', `gzip -dc ${bucket}/${folder}/globals.sql.gz | grep -c 'CREATE ROLE'`]).stdout.trim()).not.toBe('0');

    // The restore Job's two steps.
    const restoreWork = tempDir('restore');
    const restoreEnv = { ...PG, BACKUP_DESTINATION: `file://${bucket}`, RESTORE_KEY: `${folder}/${source}.dump`, RESTORE_DATABASE: target };
    const download = runStep(restoreJob, 'download', restoreScripts, restoreWork, restoreEnv);
    expect(download.status).toBe(0);
    const restore = runStep(restoreJob, 'restore', restoreScripts, restoreWork, restoreEnv);
    expect(restore.stderr).toContain(`creating database ${target}`);
    expect(restore.status).toBe(0);

    const before = tableChecksums(source);
    expect(Object.keys(before)).toEqual(['app.customers', 'app.orders', 'public.settings', 'sequence', 'view']);
    expect(before['app.orders']).toMatch(/^20000:/);
    expect(tableChecksums(target)).toEqual(before);

    // A second restore into the now populated database is refused without RESTORE_CLEAN...
    const again = run('bash', [`${restoreScripts}/restore-database.sh`, 'all', tempDir('again')], restoreEnv);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('RESTORE_CLEAN=true');
    // ...and replaces the tables with it, still identical.
    psql(target, "INSERT INTO public.settings VALUES ('stray', 'row')");
    const clean = run('bash', [`${restoreScripts}/restore-database.sh`, 'all', tempDir('clean')], { ...restoreEnv, RESTORE_CLEAN: 'true' });
    expect(clean.status).toBe(0);
    expect(tableChecksums(target)).toEqual(before);
  });

  test('pg_dump failing (no server at the host) exits non-zero and uploads nothing', () => {
    const bucket = tempDir('bucket');
    const env = { ...PG, PGPORT: '7399', PGCONNECT_TIMEOUT: '3', DATABASES: source, BACKUP_PREFIX: 'database/daily/', BACKUP_DESTINATION: `file://${bucket}` };
    const r = run('bash', [`${backupScripts}/backup-database.sh`, 'all', tempDir('work')], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/pg_dump: error: connection to server .* failed/);
    expect(listFiles(bucket)).toEqual([]);

    // The pod's upload step after a failed dump step finds nothing to upload.
    const work = tempDir('work');
    expect(runStep(frequent, 'dump', backupScripts, work, env).status).not.toBe(0);
    const upload = runStep(frequent, 'upload', backupScripts, work, env);
    expect(upload.status).not.toBe(0);
    expect(upload.stderr).toContain('the backup step failed or did not run');
    expect(listFiles(bucket)).toEqual([]);
  });

  test('a wrong database name or a wrong password fails the same way', () => {
    const bucket = tempDir('bucket');
    const base = { ...PG, BACKUP_PREFIX: 'database/daily/', BACKUP_DESTINATION: `file://${bucket}` };
    // The second database does not exist: the first dump is not uploaded alone.
    const missing = run('bash', [`${backupScripts}/backup-database.sh`, 'all', tempDir('work')], { ...base, DATABASES: `${source} no_such_db_rv` });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('no_such_db_rv');
    // The shared server trusts local connections, so a wrong password is
    // simulated the way libpq reports it: a role that may not log in.
    const role = run('bash', [`${backupScripts}/backup-database.sh`, 'all', tempDir('work')], { ...base, PGUSER: 'no_such_role_rv', PGPASSWORD: 'wrong', DATABASES: source });
    expect(role.status).not.toBe(0);
    expect(role.stderr).toContain('no_such_role_rv');
    expect(listFiles(bucket)).toEqual([]);
  });

  test('a dump changed after it was written is not uploaded, and a corrupted object is not restored', () => {
    const bucket = tempDir('bucket');
    const work = tempDir('work');
    const env = { ...PG, DATABASES: source, BACKUP_PREFIX: 'database/daily/', BACKUP_DESTINATION: `file://${bucket}` };
    expect(run('bash', [`${backupScripts}/backup-database.sh`, 'dump', work], env).status).toBe(0);
    const dumpFile = listFiles(work).find(f => f.endsWith('.dump'))!;
    fs.appendFileSync(path.join(work, dumpFile), 'garbage');
    const upload = run('bash', [`${backupScripts}/backup-database.sh`, 'upload', work], env);
    expect(upload.status).not.toBe(0);
    expect(upload.stderr).toContain('checksum mismatch');
    expect(listFiles(bucket)).toEqual([]);

    // Upload a good dump, then corrupt it in the bucket: the download step refuses it.
    const good = tempDir('work');
    expect(run('bash', [`${backupScripts}/backup-database.sh`, 'all', good], env).status).toBe(0);
    const key = listFiles(bucket).find(f => f.endsWith('.dump'))!;
    const buf = fs.readFileSync(path.join(bucket, key));
    buf[buf.length - 10] = 255 - buf[buf.length - 10];
    fs.writeFileSync(path.join(bucket, key), buf);
    const target2 = uniqueName('rv_data_dst');
    created.push(target2);
    const restore = run('bash', [`${restoreScripts}/restore-database.sh`, 'all', tempDir('restore')],
      { ...PG, BACKUP_DESTINATION: `file://${bucket}`, RESTORE_KEY: key, RESTORE_DATABASE: target2 });
    expect(restore.status).not.toBe(0);
    expect(restore.stderr).toContain('checksum mismatch');
    expect(psql('postgres', `SELECT count(*) FROM pg_database WHERE datname = '${target2}'`)).toBe('0');
  });

  test('the frequent dumps are kept one day on a file destination too: older ones are deleted after an upload', () => {
    const bucket = tempDir('bucket');
    const stale = path.join(bucket, 'database/frequent/20200101T000000Z');
    fs.mkdirSync(stale, { recursive: true });
    fs.writeFileSync(path.join(stale, 'rauli.dump'), 'old');
    const yesterday = new Date(Date.now() - 23 * 3600_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    fs.mkdirSync(path.join(bucket, 'database/frequent', yesterday), { recursive: true });
    fs.writeFileSync(path.join(bucket, 'database/frequent', yesterday, 'rauli.dump'), 'recent');
    const work = tempDir('work');
    const env = { ...PG, DATABASES: source, BACKUP_DESTINATION: `file://${bucket}` };
    expect(runStep(frequent, 'dump', backupScripts, work, { ...env, BACKUP_PREFIX: 'database/frequent/' }).status).toBe(0);
    const upload = runStep(frequent, 'upload', backupScripts, work, { ...env, BACKUP_PREFIX: 'database/frequent/', RETENTION_SECONDS: envOf(frequent, 'upload', 'RETENTION_SECONDS') });
    expect(upload.status).toBe(0);
    expect(upload.stderr).toContain('retention: deleted 1 backup(s) under database/frequent/');
    expect(fs.existsSync(stale)).toBe(false);
    expect(listFiles(bucket).filter(f => f.includes(yesterday))).toEqual([`database/frequent/${yesterday}/rauli.dump`]);
  });
});

function envOf(podSpec: any, name: string, key: string): string {
  return container(podSpec, name).env.find((e: any) => e.name === key).value;
}
