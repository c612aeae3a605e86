/**
 * backup-application.sh run for real on local directories with the files and
 * commands of the synthesized CronJob; a local directory stands in for the S3
 * bucket (BACKUP_DESTINATION=file://...).
 */
import * as fs from 'fs';
import * as path from 'path';
import { container, listFiles, removeTempDirs, run, scriptsFromConfigMaps, synth, tempDir } from './support';
import { ApplicationBackup } from '../../src/data';

const docs = synth(chart => new ApplicationBackup(chart, 'AppBackup', {
  storage: { bucketName: 'rauli-vision-backups' },
  sources: [{ name: 'config', configMapName: 'rauli-vision-config' }, { name: 'user-data', claimName: 'user-data' }],
}));
const scripts = scriptsFromConfigMaps(docs, 'application-backup-scripts');
const pod = docs.find(d => d.kind === 'CronJob').spec.jobTemplate.spec.template.spec;
const archiveStep = container(pod, 'archive');
const sourcesEnv: string = archiveStep.env.find((e: any) => e.name === 'BACKUP_SOURCES').value;

afterAll(removeTempDirs);

function makeSources(): { [name: string]: string } {
  const root = tempDir('volumes');
  const config = path.join(root, 'config');
  const userData = path.join(root, 'user-data');
  fs.mkdirSync(path.join(config, 'nested'), { recursive: true });
  fs.writeFileSync(path.join(config, 'app.yaml'), 'logLevel: info\n');
  fs.writeFileSync(path.join(config, 'nested', '.hidden'), 'secret-ish');
  fs.mkdirSync(path.join(userData, 'uploads', '2026'), { recursive: true });
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(userData, 'uploads', '2026', `file ${i}.bin`), Buffer.alloc(1000 + i, i));
  return { config, 'user-data': userData };
}

test('each source is archived under its own prefix, uploaded with its checksums, and extracts to the same files', () => {
  const sources = makeSources();
  // The pod mounts the volumes at /backup/<name>; here they are local directories.
  const env = {
    BACKUP_SOURCES: sourcesEnv.replace(/\/backup\/([a-z-]+)/g, (_, name) => sources[name]),
    BACKUP_DESTINATION: `file://${tempDir('bucket')}`,
  };
  expect(sourcesEnv).toBe('config=/backup/config user-data=/backup/user-data');
  const work = tempDir('work');
  expect(run('bash', [`${scripts}/backup-application.sh`, 'archive', work], env).status).toBe(0);
  const upload = run('bash', [`${scripts}/backup-application.sh`, 'upload', work], env);
  expect(upload.status).toBe(0);
  const bucket = env.BACKUP_DESTINATION.slice('file://'.length);
  const objects = listFiles(bucket);
  expect(objects).toHaveLength(4);
  expect(objects.filter(o => o.startsWith('config/')).map(o => path.basename(o)).sort()).toEqual(['SHA256SUMS', 'config.tar.gz']);
  expect(objects.filter(o => o.startsWith('user-data/')).map(o => path.basename(o)).sort()).toEqual(['SHA256SUMS', 'user-data.tar.gz']);

  for (const name of ['config', 'user-data']) {
    const archive = objects.find(o => o.endsWith(`${name}.tar.gz`))!;
    expect(run('sha256sum', ['--check', '--strict', 'SHA256SUMS'], {}, path.join(bucket, path.dirname(archive))).status).toBe(0);
    const out = tempDir('extract');
    expect(run('tar', ['-xzf', path.join(bucket, archive), '-C', out]).status).toBe(0);
    expect(listFiles(out)).toEqual(listFiles(sources[name]));
    for (const f of listFiles(out)) expect(fs.readFileSync(path.join(out, f))).toEqual(fs.readFileSync(path.join(sources[name], f)));
  }
});

test('a source that is not mounted fails the run and nothing is uploaded', () => {
  const sources = makeSources();
  const bucket = tempDir('bucket');
  const r = run('bash', [`${scripts}/backup-application.sh`, 'all', tempDir('work')], {
    BACKUP_SOURCES: `config=${sources.config} user-data=/nonexistent/user-data`,
    BACKUP_DESTINATION: `file://${bucket}`,
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('volume not mounted?');
  expect(listFiles(bucket)).toEqual([]);
});

test('an unknown destination scheme is refused before any work', () => {
  const r = run('bash', [`${scripts}/backup-application.sh`, 'all', tempDir('work')], { BACKUP_SOURCES: 'config=/tmp', BACKUP_DESTINATION: 'gs://bucket' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('BACKUP_DESTINATION must start with s3:// or file:///');
});
