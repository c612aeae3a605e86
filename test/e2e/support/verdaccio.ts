/**
 * A real npm registry for the end-to-end test: verdaccio, installed into a
 * folder the test owns (.e2e/verdaccio, git-ignored) on first use, with its
 * own package.json so the `node-fetch` override applies there and nowhere
 * else. Our scope is served only from local storage; every other package is
 * proxied from the registry npm is configured with.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const VERDACCIO_DIR = path.join(ROOT, '.e2e', 'verdaccio');
/** verdaccio 6.8.0 installs on Node 20 only with node-fetch 2.7.0 (its 3.x is ES modules only). */
const VERDACCIO_PACKAGE = { name: 'rauli-e2e-verdaccio', private: true, dependencies: { verdaccio: '6.8.0' }, overrides: { 'node-fetch': '2.7.0' } };

/** Installs verdaccio into VERDACCIO_DIR unless that exact setup is there already. */
export function installVerdaccio(): void {
  const manifest = path.join(VERDACCIO_DIR, 'package.json');
  const wanted = JSON.stringify(VERDACCIO_PACKAGE, undefined, 2) + '\n';
  const installed = path.join(VERDACCIO_DIR, 'node_modules', 'verdaccio', 'package.json');
  if (fs.existsSync(installed) && fs.existsSync(manifest) && fs.readFileSync(manifest, 'utf-8') === wanted
    && JSON.parse(fs.readFileSync(installed, 'utf-8')).version === VERDACCIO_PACKAGE.dependencies.verdaccio) {
    return;
  }
  fs.mkdirSync(VERDACCIO_DIR, { recursive: true });
  fs.writeFileSync(manifest, wanted);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: VERDACCIO_DIR, encoding: 'utf-8' });
  if (r.status !== 0) throw new Error(`installing verdaccio failed:\n${r.stdout}\n${r.stderr}`);
}

export interface Registry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** A token of a user created in this registry, for `npm publish`. */
  readonly token: string;
  /** npm configuration (environment variables) that points npm at this registry. */
  readonly npmEnv: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts verdaccio on `port` with storage in `workDir`, and creates a publishing user. */
export async function startVerdaccio(workDir: string, port: number, scope: string): Promise<Registry> {
  installVerdaccio();
  const uplink = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf-8' }).stdout.trim() || 'https://registry.npmjs.org/';
  const config = path.join(workDir, 'verdaccio.yaml');
  fs.writeFileSync(config, [
    `storage: ${path.join(workDir, 'storage')}`,
    'auth:',
    '  htpasswd:',
    `    file: ${path.join(workDir, 'htpasswd')}`,
    'uplinks:',
    '  upstream:',
    `    url: ${uplink}`,
    '    timeout: 60s',
    'packages:',
    `  '${scope}/*':`,
    '    access: $all',
    '    publish: $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: upstream',
    'max_body_size: 200mb',
    'log: { type: stdout, format: pretty, level: warn }',
    '',
  ].join('\n'));
  const url = `http://127.0.0.1:${port}/`;
  const bin = path.join(VERDACCIO_DIR, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', d => output += d);
  child.stderr!.on('data', d => output += d);
  try {
    await waitForPing(url, child, () => output);
    const token = await addUser(url);
    const host = url.replace(/^https?:/, '');
    return {
      url,
      token,
      npmEnv: { npm_config_registry: url, [`npm_config_${host}:_authToken`]: token },
      stop: () => stop(child),
    };
  } catch (e) {
    await stop(child);
    throw e;
  }
}

async function waitForPing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(`verdaccio did not answer ${url}-/ping within 30 s:\n${output()}`);
}

/** The registry's user API, as `npm adduser` calls it. */
async function addUser(url: string): Promise<string> {
  const name = 'e2e';
  const res = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password: 'e2e-password-only-for-this-registry' }),
  });
  const body: any = await res.json();
  if (!res.ok || !body.token) throw new Error(`creating the registry user failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
