import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { LogLifecycle, LoggingStack } from '../../src/logging';
import { synthEnvironment } from '../platform/support';

/**
 * The lifecycle script against a stand-in for Elasticsearch and Kibana: no
 * Elasticsearch can run here, so a local HTTP server records the calls and
 * answers as the APIs do (2xx, or an error for a chosen path). The script
 * and its JSON bodies are the ones the ConfigMap ships.
 */
const BACKUP = { storage: { bucketName: 'rauli-vision-backups', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/backup' } };
const docs = synthEnvironment('production', { backup: BACKUP });
const configMap = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === 'logs-lifecycle');

interface Call { method: string; url: string; body: string; auth?: string }

async function runScript(failPath?: string): Promise<{ code: number; stderr: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', c => { body += c; });
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, body, auth: req.headers.authorization });
      const fail = failPath && req.url!.startsWith(failPath);
      res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
      res.end(fail ? '{"error":"repository_verification_exception"}' : '{"acknowledged":true}');
    });
  });
  await new Promise<void>(r => server.listen(21120, '127.0.0.1', r));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-lifecycle-'));
  const bodies = path.join(dir, 'config');
  fs.mkdirSync(bodies);
  for (const [file, content] of Object.entries(configMap.data as { [k: string]: string })) fs.writeFileSync(path.join(bodies, file), content);
  fs.writeFileSync(path.join(dir, 'elastic'), 's3cr3t-password');
  // Plain HTTP to the stand-in: curl does not read the CA file for http:// URLs.
  fs.writeFileSync(path.join(dir, 'ca.crt'), '');
  const env = {
    PATH: process.env.PATH!,
    ES_URL: 'http://127.0.0.1:21120/es',
    KIBANA_URL: 'http://127.0.0.1:21120/kb',
    BODIES: bodies,
    POLICY: LoggingStack.POLICY_NAME,
    ELASTIC_PASSWORD_FILE: path.join(dir, 'elastic'),
    ES_CA_FILE: path.join(dir, 'ca.crt'),
    KIBANA_CA_FILE: path.join(dir, 'ca.crt'),
    WAIT_SECONDS: '5',
  };
  try {
    return await new Promise(resolve => {
      execFile('sh', [path.join(bodies, 'lifecycle-setup.sh')], { env }, (err, _stdout, stderr) => {
        resolve({ code: err ? (err as any).code ?? 1 : 0, stderr, calls });
      });
    });
  } finally {
    server.close();
  }
}

describe('log lifecycle script', () => {
  test('shellcheck finds nothing, and the ConfigMap ships the repository\'s script', () => {
    execFileSync('shellcheck', ['-s', 'sh', LogLifecycle.scriptPath()]);
    expect(configMap.data['lifecycle-setup.sh']).toBe(fs.readFileSync(LogLifecycle.scriptPath(), 'utf8'));
  });

  test('puts the lifecycle policy, the repository, the snapshot policy and the data view, with the elastic user', async () => {
    const { code, calls, stderr } = await runScript();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const writes = calls.filter(c => c.method !== 'GET');
    expect(writes.map(c => `${c.method} ${c.url}`)).toEqual([
      'PUT /es/_ilm/policy/rauli-vision-logs',
      'PUT /es/_snapshot/rauli-vision-logs',
      'PUT /es/_slm/policy/rauli-vision-logs',
      'POST /kb/api/data_views/data_view',
    ]);
    expect(writes.map(c => c.body)).toEqual([
      configMap.data['ilm-policy.json'], configMap.data['repository.json'], configMap.data['slm-policy.json'], configMap.data['data-view.json'],
    ]);
    expect(calls.every(c => c.auth === `Basic ${Buffer.from('elastic:s3cr3t-password').toString('base64')}`)).toBe(true);
    // It waits for the cluster before writing.
    expect(calls[0].url).toMatch(/^\/es\/_cluster\/health/);
  });

  test('a failing call stops the script with the API\'s answer, before the later calls', async () => {
    const { code, calls, stderr } = await runScript('/es/_snapshot');
    expect(code).not.toBe(0);
    expect(stderr).toContain('PUT http://127.0.0.1:21120/es/_snapshot/rauli-vision-logs: HTTP 500: {"error":"repository_verification_exception"}');
    expect(calls.some(c => c.url.startsWith('/es/_slm'))).toBe(false);
    expect(stderr).not.toContain('s3cr3t-password');
  });
});
