/**
 * The generated GitHub workflows: every file passes action-validator (the
 * workflow JSON schema, offline), every action is pinned, and the release,
 * upgrade and deploy workflows have the triggers, environments and step order
 * the delivery depends on. The edge smoke-test script runs against real local
 * HTTP servers.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { github, Testing } from 'projen';
import * as YAML from 'yaml';
import { CHART_DIR, EDGE_SMOKE_TEST } from '../../projenrc/deploy-workflow';
import { PACKAGES_DIST } from '../../projenrc/release-packages';
import { Environments } from '../../src/platform/environments';
import { RauliServiceProject } from '../../src/project-type';
import { NODE_MAJOR } from '../../src/project-type/dockerfile';
import { helmBinary } from '../support/helm';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const VALIDATOR = path.join(ROOT, 'node_modules', '.bin', 'action-validator');
const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf-8')).tasks;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-workflows-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The scaffold's pipeline, written by the project type into a temporary folder. */
const scaffoldPipeline = (() => {
  const out = Testing.synth(new RauliServiceProject({ name: 'orders', defaultReleaseBranch: 'main', outdir: path.join(tmp, 'orders') }));
  const file = path.join(tmp, 'pipeline.yml');
  fs.writeFileSync(file, out['.github/workflows/pipeline.yml']);
  return file;
})();

const rootWorkflows = fs.readdirSync(WORKFLOWS).filter(f => f.endsWith('.yml')).map(f => path.join(WORKFLOWS, f));
const allWorkflows = [...rootWorkflows, scaffoldPipeline];
const load = (name: string) => YAML.parse(fs.readFileSync(path.join(WORKFLOWS, name), 'utf-8'));
const stepNames = (job: any): string[] => job.steps.map((s: any) => s.name ?? s.uses);

describe('every generated workflow', () => {
  test('the platform has the deploy workflow next to projen\'s', () => {
    expect(rootWorkflows.map(f => path.basename(f)).sort()).toEqual(['build.yml', 'deploy.yml', 'manifests.yml', 'pull-request-lint.yml', 'release.yml', 'upgrade-main.yml']);
  });

  test.each(allWorkflows.map(f => [path.relative(ROOT, f).startsWith('..') ? 'scaffold pipeline.yml' : path.relative(ROOT, f), f]))(
    'passes action-validator: %s', (_name, file) => {
      const r = spawnSync(VALIDATOR, [file], { encoding: 'utf-8' });
      expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
    });

  test('action-validator rejects a workflow with a misspelt key (it checks, it does not just parse)', () => {
    const bad = path.join(tmp, 'bad.yml');
    const wf = load('deploy.yml');
    wf.jobs['deploy-staging'].concurrency = { group: 'x', cancelInProgress: false };
    fs.writeFileSync(bad, YAML.stringify(wf));
    expect(spawnSync(VALIDATOR, [bad], { encoding: 'utf-8' }).status).not.toBe(0);
  });

  test.each(allWorkflows.map(f => [path.basename(f), f]))('%s pins every action to a commit SHA or an immutable release', (_name, file) => {
    const immutable = new Set<string>(Object.values(github.ActionRefs).filter(r => /@v\d+\.\d+\.\d+$/.test(r)));
    const uses: string[] = Object.values<any>(YAML.parse(fs.readFileSync(file, 'utf-8')).jobs).flatMap(j => j.steps ?? []).map((s: any) => s.uses).filter(Boolean);
    for (const u of uses) {
      if (!immutable.has(u)) expect(u).toMatch(/@[0-9a-f]{40}$/);
    }
  });

  test.each(rootWorkflows.map(f => [path.basename(f), f]))('%s sets up Node.js 24 wherever it sets up Node.js', (_name, file) => {
    const steps = Object.values<any>(YAML.parse(fs.readFileSync(file, 'utf-8')).jobs).flatMap(j => j.steps ?? []);
    for (const s of steps.filter((x: any) => String(x.uses).startsWith('actions/setup-node@'))) {
      expect(String(s.with['node-version'])).toBe(`${NODE_MAJOR}.x`);
    }
  });
});

describe('release: one version, three packages', () => {
  const wf = load('release.yml');

  test('bump writes the root version into both subpackages, and unbump resets them', () => {
    const bump = tasks.bump.steps.filter((s: any) => s.cwd);
    expect(bump.map((s: any) => s.cwd)).toEqual(['packages/koa', 'packages/aws']);
    for (const s of bump) expect(s.exec).toContain('npm version --no-git-tag-version');
    expect(tasks.unbump.steps.filter((s: any) => s.cwd).map((s: any) => s.exec)).toEqual([expect.stringContaining(' 0.0.0'), expect.stringContaining(' 0.0.0')]);
  });

  test('package collects the subpackages\' tarballs after they are packed', () => {
    const steps = tasks.package.steps.map((s: any) => s.spawn ?? `${s.cwd}:${s.exec}`);
    expect(steps.indexOf('package:collect')).toBeGreaterThan(steps.indexOf('packages/aws:npx projen package'));
    expect(tasks['package:collect'].steps.map((s: any) => s.exec).join('\n')).toContain(`packages/koa/dist/js/*.tgz ${PACKAGES_DIST}/`);
  });

  test('publishes the root and the subpackages with trusted publishing and provenance', () => {
    for (const job of ['release_npm', 'release_npm_packages']) {
      expect(wf.jobs[job].needs).toEqual('release');
      expect(wf.jobs[job].permissions['id-token']).toBe('write');
      const publish = wf.jobs[job].steps.find((s: any) => String(s.run).includes('publib-npm'));
      expect(publish.env).toMatchObject({ NPM_TRUSTED_PUBLISHER: 'true', NPM_CONFIG_PROVENANCE: 'true' });
      expect(publish.env).not.toHaveProperty('NPM_TOKEN');
    }
    expect(wf.jobs.release_npm_packages.steps.at(-1).run).toBe(`npx -p publib@latest publib-npm ${PACKAGES_DIST}`);
  });

  test('the release builds with the test services and the packages installed', () => {
    const names = stepNames(wf.jobs.release);
    expect(names.indexOf('Test services and tools')).toBeLessThan(names.indexOf('release'));
    expect(names.indexOf('Install the packages')).toBeLessThan(names.indexOf('release'));
  });
});

describe('upgrades cover every package', () => {
  test('the root upgrade runs each package\'s upgrade, and the workflow runs the root upgrade', () => {
    expect(tasks['post-upgrade'].steps).toEqual([
      { exec: 'npx projen upgrade', cwd: 'packages/koa' },
      { exec: 'npx projen upgrade', cwd: 'packages/aws' },
    ]);
    expect(load('upgrade-main.yml').jobs.upgrade.steps.map((s: any) => s.run)).toContain('npx projen upgrade');
    for (const p of ['koa', 'aws']) {
      const sub = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages', p, '.projen', 'tasks.json'), 'utf-8')).tasks;
      expect(sub.upgrade.steps[0].execArgs).toContain('npm-check-updates@20');
    }
  });

  test('TypeScript is on one version line and engines state one supported range in all three', () => {
    const pkgs = ['.', 'packages/koa', 'packages/aws'].map(d => JSON.parse(fs.readFileSync(path.join(ROOT, d, 'package.json'), 'utf-8')));
    expect(new Set(pkgs.map(p => p.devDependencies.typescript))).toEqual(new Set(['~5.9.3']));
    expect(new Set(pkgs.map(p => p.devDependencies['@types/node']))).toEqual(new Set([`^${NODE_MAJOR}`]));
    expect(new Set(pkgs.map(p => p.engines.node)).size).toBe(1);
    expect(pkgs.map(p => p.version)).toEqual(['0.0.0', '0.0.0', '0.0.0']);
  });
});

describe('test:all', () => {
  test('installs the test tools and servers first (the README command works on a fresh machine)', () => {
    expect(tasks['test:all'].steps[0]).toEqual({ exec: 'bash .ci/setup' });
  });
});

describe('deploy workflow', () => {
  const wf = load('deploy.yml');
  const deploys = { staging: 'develop', production: 'main' } as const;

  test('runs on pushes to develop and main, and by hand with an image tag', () => {
    expect(wf.on.push.branches.sort()).toEqual(['develop', 'main']);
    expect(wf.on.workflow_dispatch.inputs.image_tag.type).toBe('string');
    expect(wf.on).not.toHaveProperty('pull_request');
  });

  test.each(Object.entries(deploys))('%s deploys from %s through its GitHub environment, after the scans and chart checks', (env, branch) => {
    const job = wf.jobs[`deploy-${env}`];
    expect(job.if).toBe(`github.ref == 'refs/heads/${branch}'`);
    expect(job.environment.name).toBe(env);
    expect(job.environment.url).toMatch(/^https:\/\//);
    expect(job.needs).toEqual(['security-scan', 'sonarcloud', 'chart']);
    expect(job.concurrency).toEqual({ 'group': `deploy-${env}`, 'cancel-in-progress': false });
  });

  test.each(Object.keys(deploys))('%s: credentials, helm upgrade --install with the guide\'s keys, rollout, smoke tests, rollback on failure', (env) => {
    const job = wf.jobs[`deploy-${env}`];
    const names = stepNames(job);
    const order = ['Cluster credentials', 'Record the revision to roll back to', 'helm upgrade --install', 'Wait for the rollout', 'Smoke tests through the edge', 'Roll back on failure'];
    expect(order.map(n => names.indexOf(n))).toEqual([...order.map(n => names.indexOf(n))].sort((a, b) => a - b));
    expect(order.every(n => names.includes(n))).toBe(true);

    const deploy = job.steps.find((s: any) => s.id === 'deploy').run as string;
    expect(deploy).toMatch(new RegExp(`^helm upgrade --install "\\$RELEASE" ${CHART_DIR} `));
    expect(deploy).toContain('--set image.tag="$IMAGE_TAG"');
    expect(deploy).toContain(`--set environment=${env}`);
    expect(deploy).toContain(`--set services.backend-go.replicaCount=${Environments.preset(env).backendGo.replicas}`);
    expect(deploy).toContain('--wait');
    expect(job.env.IMAGE_TAG).toBe('${{ inputs.image_tag || github.sha }}');
    expect(job.env.NAMESPACE).toBe(`rauli-vision-${env}`);
    if (env !== 'production') expect(deploy).toContain(`-f ${CHART_DIR}/values-${env}.yaml`);
    // Every values key the deploy sets exists in the chart.
    const values = YAML.parse(fs.readFileSync(path.join(ROOT, CHART_DIR, 'values.yaml'), 'utf-8'));
    expect(values.image).toHaveProperty('tag');
    expect(values).toHaveProperty('environment');
    expect(values.services['backend-go']).toHaveProperty('replicaCount');

    const rollout = job.steps.find((s: any) => s.name === 'Wait for the rollout').run as string;
    for (const d of ['frontend', 'backend-go', 'backend-python']) expect(rollout).toContain(`rollout status deployment/${d}`);
    expect(job.steps.find((s: any) => s.name === 'Smoke tests through the edge').run).toBe(`${EDGE_SMOKE_TEST} ${job.environment.url}`);
    const rollback = job.steps.find((s: any) => s.name === 'Roll back on failure');
    expect(rollback.if).toBe("failure() && steps.deploy.outcome != 'skipped'");
    expect(rollback.run).toContain('helm rollback "$RELEASE" "$PREVIOUS"');
  });

  test.each(Object.keys(deploys))('%s: the deploy step\'s own helm command renders the chart with the commit\'s images (real helm, template mode)', (env) => {
    const job = wf.jobs[`deploy-${env}`];
    // No cluster here: a `helm` on PATH turns the step's `upgrade --install` into `template`
    // (same chart, values file and --set flags) and drops the upgrade-only --history-max.
    const bin = path.join(tmp, `bin-${env}`);
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'helm'), [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      '[ "$1 $2" = "upgrade --install" ] || { echo "unexpected helm $*" >&2; exit 2; }',
      'shift 2; args=()',
      'while [ $# -gt 0 ]; do if [ "$1" = --history-max ]; then shift 2; else args+=("$1"); shift; fi; done',
      `exec ${helmBinary()} template "\${args[@]}"`,
    ].join('\n'), { mode: 0o755 });
    const home = path.join(tmp, `home-${env}`);
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', job.steps.find((s: any) => s.id === 'deploy').run], {
      cwd: ROOT,
      encoding: 'utf-8',
      maxBuffer: 64 * 1024 * 1024,
      // stdin not a socket: bash would take that for sshd and read /etc/bash.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, HELM_CACHE_HOME: `${home}/c`, HELM_CONFIG_HOME: `${home}/g`, HELM_DATA_HOME: `${home}/d`, ...job.env, IMAGE_TAG: 'sha-0123456789ab' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const docs = YAML.parseAllDocuments(r.stdout).map(d => d.toJSON()).filter(Boolean);
    const deployments = docs.filter(d => d.kind === 'Deployment');
    expect(deployments.map(d => d.metadata.name).sort()).toEqual(['backend-go', 'backend-python', 'frontend']);
    for (const d of deployments) {
      expect(d.metadata.namespace).toBe(`rauli-vision-${env}`);
      for (const c of d.spec.template.spec.containers) if (c.image.startsWith('ghcr.io/rauli-vision/')) expect(c.image).toMatch(/:sha-0123456789ab$/);
    }
    expect(JSON.stringify(docs)).toContain(`rauli-vision-${env}`);
  });

  test.each([
    ['an earlier release', '[{"revision":7,"status":"deployed"}]', 0, 'revision=7\n'],
    ['a first install (helm history fails: no release)', 'Error: release: not found', 1, 'revision=\n'],
  ])('the revision to roll back to, after %s', (_what, helmOut, helmStatus, expected) => {
    const step = wf.jobs['deploy-staging'].steps.find((s: any) => s.id === 'previous');
    // No cluster here: a `helm` on PATH answers as `helm history` would; jq is the real one.
    const bin = fs.mkdtempSync(path.join(tmp, 'history-'));
    fs.writeFileSync(path.join(bin, 'helm'), `#!/usr/bin/env bash\necho '${helmOut}'\nexit ${helmStatus}\n`, { mode: 0o755 });
    const out = path.join(bin, 'output');
    const r = spawnSync('bash', ['-e', '-c', step.run], {
      encoding: 'utf-8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: out, RELEASE: 'rauli-vision-staging', NAMESPACE: 'rauli-vision-staging' },
    });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(out, 'utf-8')).toBe(expected);
  });

  test('production is the apex domain, staging its own host', () => {
    expect(wf.jobs['deploy-production'].environment.url).toBe('https://rauli-vision.com');
    expect(wf.jobs['deploy-staging'].environment.url).toBe('https://staging.rauli-vision.com');
  });

  test('SonarCloud runs when SONAR_TOKEN is set and says so when it is not', () => {
    const job = wf.jobs.sonarcloud;
    expect(job.env.SONAR_TOKEN).toBe('${{ secrets.SONAR_TOKEN }}');
    const [check, ...rest] = job.steps;
    expect(check.id).toBe('token');
    for (const s of rest) expect(s.if).toBe("steps.token.outputs.enabled == 'true'");
    // The check itself, run as the runner would with and without the secret.
    for (const [token, enabled] of [['', 'false'], ['s3cr3t', 'true']]) {
      const out = path.join(tmp, `out-${enabled}`);
      const summary = path.join(tmp, `summary-${enabled}`);
      const r = spawnSync('bash', ['-eo', 'pipefail', '-c', check.run], { env: { PATH: process.env.PATH, SONAR_TOKEN: token, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary }, encoding: 'utf-8' });
      expect(r.status).toBe(0);
      expect(fs.readFileSync(out, 'utf-8')).toBe(`enabled=${enabled}\n`);
      if (enabled === 'false') {
        expect(r.stdout).toContain('::notice::SonarCloud analysis skipped: the SONAR_TOKEN secret is not set');
        expect(fs.readFileSync(summary, 'utf-8')).toContain('SONAR_TOKEN');
      }
    }
  });

  test('Trivy scans the repository and fails on fixable critical and high findings', () => {
    const steps = wf.jobs['security-scan'].steps;
    expect(steps.filter((s: any) => String(s.uses).startsWith('aquasecurity/trivy-action@')).map((s: any) => s.with['exit-code'])).toEqual([undefined, '1']);
  });
});

describe(`${EDGE_SMOKE_TEST}`, () => {
  // Real HTTP servers on this machine stand in for the public edge (no cluster or DNS here); plain
  // HTTP, because the script's TLS check is curl's own certificate verification.
  async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer(handler);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise(resolve => server.close(() => resolve())) };
  }
  const run = (url: string) => new Promise<{ status: number | null; out: string }>(resolve => {
    const child = spawn(path.join(ROOT, EDGE_SMOKE_TEST), [url], { env: { ...process.env, SMOKE_TEST_ATTEMPTS: '2' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => out += d);
    child.stderr.on('data', (d: Buffer) => out += d);
    child.on('exit', (status: number | null) => resolve({ status, out }));
  });

  test('passes when the frontend answers with its headers and the API route reaches a backend', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'X-Content-Type-Options': 'nosniff' }).end('ok');
      else res.writeHead(404).end();
    });
    try {
      const r = await run(s.url);
      expect(r).toEqual({ status: 0, out: expect.stringContaining('ok   ') });
    } finally {
      await s.close();
    }
  });

  test.each([
    ['the API route has no ready backend (503)', 503, true],
    ['the frontend lacks the security headers', 200, false],
  ])('fails when %s', async (_what, apiStatus, headers) => {
    const s = await serve((req, res) => {
      if (req.url === '/') res.writeHead(200, headers ? { 'X-Content-Type-Options': 'nosniff' } : {}).end('ok');
      else res.writeHead(apiStatus as number).end();
    });
    try {
      const r = await run(s.url);
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('FAIL');
    } finally {
      await s.close();
    }
  });

  test('passes shellcheck', () => {
    const r = spawnSync('shellcheck', [path.join(ROOT, EDGE_SMOKE_TEST)], { encoding: 'utf-8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
