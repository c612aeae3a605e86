/**
 * End to end, the golden path from a registry: a real npm registry
 * (verdaccio on 127.0.0.1:22873, everything but our scope proxied from the
 * normal registry) receives the three packages built and packed exactly as
 * the release does it (one version written by the bump task's steps, the
 * subpackages' tarballs collected by package:collect); then the README's
 * `projen new --from @rauli-vision/platform rauli-service`, unchanged, runs
 * against it, and in the new repository the test builds, tests, synthesizes
 * and validates, starts the service against the real Redis and PostgreSQL of
 * this machine and runs its own smoke tests.
 *
 * Run with `npx projen test:e2e` (part of `npx projen test:all`; not in the
 * root jest run: it rebuilds the packages and takes minutes). Set
 * RAULI_E2E_KEEP=1 to keep the scaffold and the registry storage.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { Registry, startVerdaccio } from './support/verdaccio';
import { ServiceConventions } from '../../src/conventions';

const ROOT = path.resolve(__dirname, '..', '..');
const REGISTRY_PORT = 22873;
const SCOPE = '@rauli-vision';
const PROJEN_VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf-8')).devDependencies.projen;
const SERVICE = 'orders';
const REDIS_URL = process.env.RAULI_E2E_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.RAULI_E2E_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * The child processes must not think they run inside this jest, nor in CI:
 * with CI set, `projen new` installs with `npm ci`, which needs the lockfile a
 * new repository does not have yet.
 */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JEST_') && k !== 'NODE_ENV' && k !== 'CI'));
/**
 * What every child process gets: the base environment, and once the registry
 * runs, npm pointed at it. prefer-online: packuments of an earlier run's
 * registry (same URL, other storage) must not come from npm's cache. yes: npx
 * installs projen without asking (a user answers the prompt). A git identity
 * for the scaffold's first commit on machines without one.
 */
let childEnv: NodeJS.ProcessEnv = baseEnv;
function useRegistry(registry: Registry) {
  childEnv = {
    ...baseEnv,
    ...registry.npmEnv,
    npm_config_prefer_online: 'true',
    npm_config_yes: 'true',
    GIT_AUTHOR_NAME: 'e2e',
    GIT_AUTHOR_EMAIL: 'e2e@example.com',
    GIT_COMMITTER_NAME: 'e2e',
    GIT_COMMITTER_EMAIL: 'e2e@example.com',
  };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, env: { ...childEnv, ...env }, encoding: 'utf-8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    const tail = (s: string) => s.split('\n').slice(-60).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  }
  return r.stdout;
}

function timed<T>(label: string, timings: Record<string, number>, fn: () => T): T {
  const start = Date.now();
  try {
    return fn();
  } finally {
    timings[label] = (Date.now() - start) / 1000;
  }
}

const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf-8')).tasks;
/** The steps of a root task that run in a package folder (the version sync of bump and unbump). */
function packageSteps(task: string): { exec: string; cwd: string }[] {
  return tasks[task].steps.filter((s: any) => s.exec && s.cwd);
}

/**
 * Builds and packs the three packages at `version` as the release does: the
 * root's version is set (the bump's own write), the bump task's package steps
 * copy it into the subpackages, then compile, the post-compile copies into
 * lib/, and package (which collects the subpackages' tarballs). Versions are
 * put back afterwards with the unbump task's steps.
 */
function buildRelease(version: string): string[] {
  const manifest = path.join(ROOT, 'package.json');
  const saved = fs.readFileSync(manifest, 'utf-8');
  try {
    fs.writeFileSync(manifest, JSON.stringify({ ...JSON.parse(saved), version }, undefined, 2) + '\n');
    for (const s of packageSteps('bump')) run('bash', ['-c', s.exec], path.join(ROOT, s.cwd));
    run('npx', ['projen', 'compile'], ROOT);
    for (const s of tasks['post-compile'].steps.filter((x: any) => x.exec)) run('bash', ['-c', s.exec], ROOT);
    fs.rmSync(path.join(ROOT, 'dist', 'js'), { recursive: true, force: true });
    for (const p of ['koa', 'aws']) fs.rmSync(path.join(ROOT, 'packages', p, 'dist', 'js'), { recursive: true, force: true });
    run('npx', ['projen', 'package'], ROOT);
  } finally {
    for (const s of packageSteps('unbump')) run('bash', ['-c', s.exec], path.join(ROOT, s.cwd));
    fs.writeFileSync(manifest, saved);
  }
  const dir = (d: string) => fs.readdirSync(path.join(ROOT, d)).filter(f => f.endsWith('.tgz')).map(f => path.join(ROOT, d, f));
  return [...dir('dist/js'), ...dir('dist/packages')];
}

/** The README's scaffolding command, exactly as written there. */
function readmeScaffoldCommand(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8');
  const commands = readme.split('\n').filter(l => /^npx projen@\S+ new --from @rauli-vision\/platform rauli-service\b/.test(l));
  if (commands.length !== 1) throw new Error(`expected one registry scaffolding command in README.md, found ${commands.length}`);
  return commands[0];
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise(resolve => server.close(resolve));
  return port;
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', code => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/**
 * The Koa configuration a pod of the scaffolded service gets in each
 * environment, computed in the scaffold against its installed packages: the
 * platform chart as a platform team would synthesize it, the service's own
 * manifests in dist/k8s, and the Koa package's loadConfig (which throws on
 * any problem). Secrets are stubbed.
 */
function podConfigs(dir: string): Record<string, any> {
  const script = `
    const { Testing, Yaml } = require('cdk8s');
    const { RauliVisionChart } = require('@rauli-vision/platform');
    const { loadConfig } = require('@rauli-vision/koa');
    const images = { frontend: 'ghcr.io/rauli-vision/frontend:1.0.0', backendGo: 'ghcr.io/rauli-vision/backend:1.0.0', backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0' };
    // What the Secrets would hold.
    const secrets = { JWT_SECRET: 'x'.repeat(48), DATABASE_URL: 'postgresql://app:pw@postgres:5432/rauli', REDIS_PASSWORD: 'redis-pw' };
    const out = {};
    for (const environment of ['dev', 'staging', 'production']) {
      const platform = Testing.synth(new RauliVisionChart(Testing.app(), environment, { environment, images }));
      const configMap = platform.find(d => d.kind === 'ConfigMap' && d.metadata.name === RauliVisionChart.CONFIG_MAP_NAME);
      const deployment = Yaml.load('dist/k8s/${SERVICE}-' + environment + '.k8s.yaml').find(d => d.kind === 'Deployment');
      const container = deployment.spec.template.spec.containers[0];
      // As the kubelet builds it: the ConfigMaps of envFrom, then env on top.
      const env = {};
      for (const ref of container.envFrom ?? []) {
        const source = platform.find(d => d.kind === 'ConfigMap' && d.metadata.name === ref.configMapRef.name);
        if (!source) throw new Error('envFrom names a ConfigMap the platform chart does not have: ' + ref.configMapRef.name);
        Object.assign(env, source.data);
      }
      for (const e of container.env) env[e.name] = e.value ?? secrets[e.name];
      const c = loadConfig(env);
      out[environment] = { redis: c.redis, poolSize: c.database.poolSize, rateLimit: c.performance.rateLimitRequests, platformRateLimit: Number(configMap.data.RATE_LIMIT_REQUESTS) };
    }
    console.log(JSON.stringify(out));
  `;
  return JSON.parse(run('node', ['-e', script], dir));
}

describe('rauli-service from a registry', () => {
  const timings: Record<string, number> = {};
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-e2e-'));
  const dir = path.join(work, SERVICE);
  // One version for the three packages; new on every run, as a release's would be.
  const version = `0.1.${Date.now()}`;
  const started = Date.now();
  let registry: Registry | undefined;

  beforeAll(async () => {
    const start = Date.now();
    registry = await startVerdaccio(work, REGISTRY_PORT, SCOPE);
    timings['start registry'] = (Date.now() - start) / 1000;
    useRegistry(registry);
    fs.mkdirSync(dir);
  });

  afterAll(async () => {
    await registry?.stop();
    timings.total = (Date.now() - started) / 1000;
    console.log(`rauli-service e2e timings (s): ${JSON.stringify(timings)}\n`
      + `scaffold + first green build: ${((timings.scaffold ?? 0) + (timings['first build'] ?? 0)).toFixed(1)} s (target < 90 s with a warm npm cache)`);
    if (!process.env.RAULI_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the release build packs the three packages at one version, and they publish together', () => {
    const tarballs = timed('build release', timings, () => buildRelease(version));
    expect(tarballs.map(t => path.basename(t)).sort()).toEqual([`aws@${version}.jsii.tgz`, `platform@${version}.jsii.tgz`, `rauli-vision-koa-${version}.tgz`]);
    timed('publish', timings, () => tarballs.forEach(t => run('npm', ['publish', t, '--access', 'public'], work)));
    for (const name of ['platform', 'koa', 'aws']) {
      expect(JSON.parse(run('npm', ['view', `${SCOPE}/${name}`, 'dist-tags', '--json'], work))).toEqual({ latest: version });
    }
    // The repository is back at 0.0.0 everywhere.
    for (const d of ['.', 'packages/koa', 'packages/aws']) {
      expect(JSON.parse(fs.readFileSync(path.join(ROOT, d, 'package.json'), 'utf-8')).version).toBe('0.0.0');
    }
  });

  test('the README\'s command scaffolds from the registry, on the released versions', () => {
    const command = readmeScaffoldCommand();
    expect(command).toBe(`npx projen@${PROJEN_VERSION} new --from @rauli-vision/platform rauli-service --projen-version ${PROJEN_VERSION}`);
    timed('scaffold', timings, () => run('bash', ['-c', command], dir));
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf-8'));
    // The platform's default spec for the Koa package is the version released with it.
    expect(pkg.dependencies['@rauli-vision/koa']).toBe(`^${version}`);
    expect(pkg.devDependencies['@rauli-vision/platform']).toMatch(new RegExp(`^\\^?${version.replace(/\./g, '\\.')}$`));
    for (const name of ['platform', 'koa']) {
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', SCOPE, name, 'package.json'), 'utf-8')).version).toBe(version);
    }
    expect(fs.existsSync(path.join(dir, 'node_modules', 'aws-cdk-lib'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, '.projenrc.ts'), 'utf-8')).toContain('new RauliServiceProject(');
  });

  test('builds and passes its own tests (unit and manifest validation) on the first try', () => {
    timed('first build', timings, () => run('npx', ['projen', 'build'], dir));
    expect(fs.existsSync(path.join(dir, 'lib', 'index.js'))).toBe(true);
  });

  test('regenerating changes nothing', () => {
    const before = fs.readFileSync(path.join(dir, '.github', 'workflows', 'pipeline.yml'), 'utf-8');
    timed('projen', timings, () => run('npx', ['projen'], dir));
    expect(fs.readFileSync(path.join(dir, '.github', 'workflows', 'pipeline.yml'), 'utf-8')).toBe(before);
  });

  test('cdk8s synth writes one manifest per environment and the harness accepts them', () => {
    timed('synth:k8s', timings, () => run('npx', ['projen', 'synth:k8s'], dir, { IMAGE_TAG: 'sha-0123456789ab' }));
    const out = timed('validate:k8s', timings, () => run('npx', ['projen', 'validate:k8s'], dir));
    for (const env of ['dev', 'staging', 'production']) {
      expect(out).toMatch(new RegExp(`dist/k8s/${SERVICE}-${env}\\.k8s\\.yaml: \\d+ objects, 0 errors`));
    }
    const production = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, 'dist/k8s', `${SERVICE}-production.k8s.yaml`), 'utf-8')).map(d => d.toJSON());
    const kinds = production.map(d => d.kind);
    for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor']) {
      expect(kinds).toContain(kind);
    }
    // The platform's PrometheusRule in the same namespace covers the service; a copy would double every alert.
    expect(kinds).not.toContain('PrometheusRule');
    // Selected by the same kube-prometheus-stack as the platform's monitors.
    expect(production.find(d => d.kind === 'ServiceMonitor').metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const deployment = production.find(d => d.kind === 'Deployment');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(`ghcr.io/rauli-vision/${SERVICE}:sha-0123456789ab`);
    // The platform's Redis Cluster: its nodes from the platform's ConfigMap, its password from the platform's Secret.
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'rauli-vision-config' } }]);
    expect(container.env).toContainEqual({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'rauli-vision-app', key: 'REDIS_PASSWORD' } } });
    expect(container.env.map((e: { name: string }) => e.name)).not.toContain('REDIS_URL');
  });

  test('in every environment, the platform\'s ConfigMap plus the Deployment\'s env is a configuration the Koa package accepts', () => {
    const configs = podConfigs(dir);
    for (const env of ['dev', 'staging', 'production']) {
      const c = configs[env];
      // Every node of the Redis Cluster, in the data tier's namespace beside the one the service deploys to (3 masters, plus replicas in production).
      expect(c.redis.clusterNodes.length).toBeGreaterThanOrEqual(3);
      for (const node of c.redis.clusterNodes) expect(node).toContain(`.rauli-vision-${env}-data.svc`);
      expect(c.redis.password).toBe('redis-pw');
      expect(c.redis.url).toBeUndefined();
      expect(c.rateLimit).toBe(c.platformRateLimit);
      expect(c.poolSize).toBeGreaterThanOrEqual(1);
    }
  });

  test('.env.example lists exactly the variables the Koa package reads', () => {
    const names = JSON.parse(run('node', ['-p', "JSON.stringify(require('@rauli-vision/koa').CONFIG_VARIABLES.map(v => v.name))"], dir));
    const listed = [...fs.readFileSync(path.join(dir, '.env.example'), 'utf-8').matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1]);
    expect([...listed].sort()).toEqual([...names].sort());
  });

  test('the built service answers its smoke tests against real Redis and PostgreSQL, then shuts down cleanly', async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawn('node', ['lib/index.js'], {
      cwd: dir,
      env: {
        ...childEnv,
        NODE_ENV: 'production',
        SERVICE_NAME: SERVICE,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        JWT_SECRET: randomBytes(48).toString('base64'),
        REDIS_URL,
        DATABASE_URL,
        SHUTDOWN_DRAIN_DELAY: '1s',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = exitOf(child, 60_000);
    try {
      const base = `http://127.0.0.1:${port}`;
      const out = timed('smoke tests', timings, () => run('./scripts/smoke-test.sh', [base, `http://127.0.0.1:${metricsPort}`], dir));
      expect(out).toContain(`ok   ${base}/api/v1/hello`);
      expect(out).toContain(`ok   ${base}${ServiceConventions.READINESS_PATH}`);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}${ServiceConventions.METRICS_PATH}`)).text();
      expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/api\/v1\/hello"[^}]*\} [1-9]/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  // Last: it changes the scaffold's options.
  test('with useRedis: false the pods get neither the platform\'s Redis nor its password', () => {
    const rc = path.join(dir, '.projenrc.ts');
    const source = fs.readFileSync(rc, 'utf-8');
    fs.writeFileSync(rc, /useRedis:\s*true/.test(source)
      ? source.replace(/useRedis:\s*true/, 'useRedis: false')
      : source.replace('new RauliServiceProject({', 'new RauliServiceProject({\n  useRedis: false,'));
    run('npx', ['projen'], dir);
    run('npx', ['projen', 'synth:k8s'], dir, { IMAGE_TAG: 'sha-0123456789ab' });
    expect(run('npx', ['projen', 'validate:k8s'], dir)).toMatch(/production\.k8s\.yaml: \d+ objects, 0 errors/);
    for (const [env, c] of Object.entries(podConfigs(dir))) {
      expect({ env, redis: c.redis }).toEqual({ env, redis: {} });
    }
  });
});
