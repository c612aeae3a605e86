import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { github, Testing } from 'projen';
import * as YAML from 'yaml';
import { RuntimeSettings } from '../../src/conventions';
import { RauliServiceProject, RauliServiceProjectOptions } from '../../src/project-type';
import { ENV_VARIABLES } from '../../src/project-type/env-example';
import { ACTIONS } from '../../src/project-type/pipeline-workflow';
import { SAMPLE_ROUTE } from '../../src/project-type/service-settings';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-service-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

function project(options: Partial<RauliServiceProjectOptions> = {}): RauliServiceProject {
  return new RauliServiceProject({
    name: '@acme/orders',
    defaultReleaseBranch: 'main',
    outdir: tempDir(),
    ...options,
  });
}

function synth(options: Partial<RauliServiceProjectOptions> = {}): Record<string, any> {
  return Testing.synth(project(options));
}

const KEY_FILES = [
  'Dockerfile', '.dockerignore', 'docker-compose.dev.yml', '.env.example', 'cdk8s.yaml',
  'src/k8s/settings.generated.ts', 'src/k8s/validate.ts', 'scripts/smoke-test.sh', '.github/workflows/pipeline.yml',
];

describe('defaults', () => {
  const out = synth();

  test.each(KEY_FILES)('%s', (file) => {
    expect(out[file]).toMatchSnapshot();
  });

  test('depends on the Koa package at run time and on the platform toolchain for development', () => {
    const pkg = out['package.json'];
    const platform = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf-8'));
    expect(Object.keys(pkg.dependencies)).toEqual(['@rauli-vision/koa']);
    expect(pkg.devDependencies['@rauli-vision/platform']).toBe(`^${platform.version}`);
    for (const dep of ['cdk8s-plus-28', 'constructs', 'kubernetes-models', '@monokle/validation']) {
      // The platform's peer range wins over its exact dev pin: services may take patch releases.
      expect(pkg.devDependencies[dep]).toBe(platform.peerDependencies[dep] ?? platform.devDependencies[dep]);
    }
    expect(pkg.devDependencies).not.toHaveProperty('aws-cdk-lib');
  });

  test('writes the sample service, its test, the chart and its test once', () => {
    for (const file of ['src/index.ts', 'src/app.ts', 'src/routes.ts', 'test/routes.test.ts', 'src/k8s/service-chart.ts', 'src/k8s/main.ts', 'test/k8s.test.ts', 'README.md']) {
      expect(out[file]).toBeDefined();
    }
    expect(out['src/routes.ts']).toContain(`HELLO_ROUTE = '${SAMPLE_ROUTE}'`);
    expect(out['src/k8s/service-chart.ts']).toContain("from '@rauli-vision/platform'");
  });

  test('the samples are the real files of src/project-type/samples, copied as they are', () => {
    const samples = path.join(__dirname, '..', '..', 'src', 'project-type', 'samples');
    const copies: { [target: string]: string } = {
      'src/index.ts': 'src/index.ts',
      'src/app.ts': 'src/app.ts',
      'src/routes.ts': 'src/routes.ts',
      'src/k8s/service-chart.ts': 'src/k8s/service-chart.ts',
      'src/k8s/main.ts': 'src/k8s/main.ts',
      'test/routes.test.ts': 'test/routes-test.ts',
      'test/k8s.test.ts': 'test/k8s-test.ts',
    };
    for (const [target, source] of Object.entries(copies)) {
      expect(out[target]).toBe(fs.readFileSync(path.join(samples, source), 'utf-8'));
    }
    // The stand-in the samples type-check against has the keys K8sApp generates.
    const keys = (text: string) => [...text.slice(text.indexOf('SERVICE = {'), text.indexOf('} as const')).matchAll(/^ {2}"?(\w+)"?:/gm)].map(m => m[1]);
    const standIn = fs.readFileSync(path.join(samples, 'src', 'k8s', 'settings.generated.ts'), 'utf-8');
    expect(keys(standIn)).toEqual(keys(out['src/k8s/settings.generated.ts']));
    expect(keys(standIn).length).toBeGreaterThan(5);
  });

  test('adds dev, start, synth:k8s and validate:k8s tasks', () => {
    const tasks = out['.projen/tasks.json'].tasks;
    expect(tasks.dev.steps[0].exec).toBe('ts-node --transpile-only src/index.ts');
    expect(tasks.dev.env).toEqual({ NODE_ENV: 'development' });
    expect(tasks['synth:k8s'].steps[0].exec).toBe('cdk8s synth --check-upgrade false');
    expect(tasks['validate:k8s'].steps[0].exec).toBe('ts-node --transpile-only src/k8s/validate.ts');
  });

  test('.env.example lists every variable once, with no secret value', () => {
    const env = out['.env.example'] as string;
    const names = [...env.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1]);
    expect(names).toEqual(Object.values(ENV_VARIABLES).flat().map(v => v.name));
    expect(env).toMatch(/^JWT_SECRET=$/m);
  });

  test('the runtime image is non-root, pinned, production-only and health-checked', () => {
    const dockerfile = out.Dockerfile as string;
    expect(dockerfile.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toContain('http://127.0.0.1:8080/healthz');
  });
});

describe('pipeline workflow', () => {
  const wf = YAML.parse(synth()['.github/workflows/pipeline.yml']);

  test('has the guide\'s jobs, deploying staging from develop and production from main', () => {
    expect(Object.keys(wf.jobs)).toEqual(['security-scan', 'build-and-test', 'compose-integration', 'k8s-manifests', 'image', 'deploy-staging', 'deploy-production']);
    expect(wf.jobs['deploy-staging'].if).toContain("refs/heads/develop'");
    expect(wf.jobs['deploy-production'].if).toContain("refs/heads/main'");
    expect(wf.jobs['deploy-production'].environment).toBe('production');
    for (const env of ['staging', 'production']) {
      const steps = wf.jobs[`deploy-${env}`].steps.map((s: any) => s.name);
      expect(steps.indexOf('Smoke tests')).toBeGreaterThan(steps.indexOf('Wait for the rollout'));
    }
  });

  test('runs the compose integration tests (the dev compose file plus the service, then the smoke tests) before pushing an image', () => {
    const job = wf.jobs['compose-integration'];
    expect(wf.jobs.image.needs).toContain('compose-integration');
    const runs: string[] = job.steps.map((s: any) => s.run ?? '');
    const up = runs.findIndex(r => r.startsWith('docker compose -f docker-compose.dev.yml up --build') && r.includes('--wait'));
    const smoke = runs.findIndex(r => r.startsWith('./scripts/smoke-test.sh http://127.0.0.1:8080 http://127.0.0.1:9090'));
    const down = runs.findIndex(r => r.includes('docker compose -f docker-compose.dev.yml down'));
    expect(up).toBeGreaterThan(-1);
    expect(smoke).toBeGreaterThan(up);
    expect(down).toBeGreaterThan(smoke);
    expect(job.steps[down].if).toBe('always()');
  });

  test('runs Node.js 24 (the active LTS line), as the Dockerfile does', () => {
    const versions = Object.values<any>(wf.jobs).flatMap(j => j.steps).filter((s: any) => s.with?.['node-version']).map((s: any) => s.with['node-version']);
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set(['24']));
  });

  test('tags images with docker/metadata-action and never latest', () => {
    const meta = wf.jobs.image.steps.find((s: any) => s.id === 'meta');
    expect(meta.uses).toMatch(/^docker\/metadata-action@[0-9a-f]{40}$/);
    expect(meta.with.images).toBe('ghcr.io/rauli-vision/orders');
    expect(meta.with.flavor).toBe('latest=false');
  });

  test('pins every action to a commit SHA, or to an immutable release projen has reviewed', () => {
    const uses: string[] = Object.values<any>(wf.jobs).flatMap(j => j.steps).map((s: any) => s.uses).filter(Boolean);
    expect(uses.length).toBeGreaterThan(10);
    const immutable = new Set<string>(Object.values(github.ActionRefs).filter(r => /@v\d+\.\d+\.\d+$/.test(r)));
    for (const u of uses) {
      if (!immutable.has(u)) expect(u).toMatch(/@[0-9a-f]{40}$/);
    }
    expect(new Set(uses)).toEqual(new Set(Object.values(ACTIONS).filter(a => uses.includes(a))));
  });

  test('only emits deploy jobs for the chosen environments', () => {
    const jobs = YAML.parse(synth({ environments: ['dev', 'staging'] })['.github/workflows/pipeline.yml']).jobs;
    expect(Object.keys(jobs)).toContain('deploy-staging');
    expect(Object.keys(jobs)).not.toContain('deploy-production');
  });
});

describe('options', () => {
  test('custom port, image and data stores flow into every file', () => {
    const out = synth({
      serviceName: 'billing',
      servicePort: 3000,
      imageRegistry: 'registry.example.com:5000',
      imageRepository: 'team/billing',
      usePostgres: false,
      useRedis: false,
      environments: ['production', 'dev'],
    });
    expect(out.Dockerfile).toContain('EXPOSE 3000 9090');
    const compose = YAML.parse(out['docker-compose.dev.yml']);
    expect(Object.keys(compose.services)).toEqual(['billing']);
    expect(compose.services.billing.ports).toEqual(['3000:3000', '9090:9090']);
    expect(out['.env.example']).toMatch(/^# DATABASE_URL=/m);
    expect(out['.env.example']).toMatch(/^# REDIS_URL=/m);
    expect(out['.env.example']).toMatch(/^PORT=3000$/m);
    const settings = out['src/k8s/settings.generated.ts'] as string;
    expect(settings).toContain('"image": "registry.example.com:5000/team/billing"');
    expect(settings).toContain('"environments": [\n    "dev",\n    "production"\n  ]');
    expect(YAML.parse(out['.github/workflows/pipeline.yml']).jobs.image.steps.find((s: any) => s.id === 'meta').with.images)
      .toBe('registry.example.com:5000/team/billing');
  });

  test('with PostgreSQL and Redis, compose waits for both to be healthy', () => {
    const compose = YAML.parse(synth()['docker-compose.dev.yml']);
    expect(Object.keys(compose.services)).toEqual(['orders', 'postgres', 'redis']);
    expect(compose.services.orders.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(compose.services.orders.environment.REDIS_URL).toBe('redis://redis:6379');
    expect(compose.services.postgres.image).toMatch(/^postgres:15\.\d+/);
  });

  test('package specs, e.g. local tarballs, are used as given', () => {
    const pkg = synth({
      koaPackageSpec: '@rauli-vision/koa@file:/tmp/koa.tgz',
      platformPackageSpec: '@rauli-vision/platform@file:/tmp/platform.tgz',
    })['package.json'];
    expect(pkg.dependencies['@rauli-vision/koa']).toBe('file:/tmp/koa.tgz');
    expect(pkg.devDependencies['@rauli-vision/platform']).toBe('file:/tmp/platform.tgz');
  });

  test('the `projen new --from` spec is kept as the platform spec', () => {
    const pkg = synth({ devDeps: ['@rauli-vision/platform@file:/tmp/from.tgz'] })['package.json'];
    expect(pkg.devDependencies['@rauli-vision/platform']).toBe('file:/tmp/from.tgz');
  });

  test('environments may be given comma-separated, as the projen CLI passes `--environments=dev,production`', () => {
    expect(project({ environments: ['production,dev'] }).environments).toEqual(['dev', 'production']);
  });

  test('the service name defaults to the npm name without scope', () => {
    expect(project({ name: '@acme/Order_Service' }).serviceName).toBe('order-service');
  });
});

describe('invalid options fail with the option name and what is allowed', () => {
  test.each<[Partial<RauliServiceProjectOptions>, RegExp]>([
    [{ serviceName: 'Orders_API' }, /Invalid serviceName: "Orders_API"\. Expected a DNS-1123 label/],
    [{ serviceName: 'x'.repeat(41) }, /Invalid serviceName: .*at most 40 characters/],
    [{ servicePort: 80 }, /Invalid servicePort: 80\. Expected an integer from 1024 to 65535/],
    [{ servicePort: 8080.5 }, /Invalid servicePort: 8080\.5/],
    [{ servicePort: 9090 }, /Invalid servicePort: 9090\. Expected a port other than the metrics port 9090/],
    [{ imageRegistry: 'https://ghcr.io' }, /Invalid imageRegistry: "https:\/\/ghcr\.io"\. Expected a registry host name/],
    [{ imageRepository: 'Team/Orders:1.0' }, /Invalid imageRepository: "Team\/Orders:1\.0"\. Expected a lower-case repository path without tag/],
    [{ environments: ['dev', 'prod'] }, /Invalid environments: "prod"\. Expected one of 'dev', 'staging', 'production'/],
    [{ environments: [] }, /Invalid environments: \[\]\. Expected at least one of 'dev', 'staging', 'production'/],
    [{ koaPackageSpec: 'koa@^3' }, /Invalid koaPackageSpec: "koa@\^3"\. Expected an npm install spec for @rauli-vision\/koa/],
    [{ platformPackageSpec: '/abs/platform.tgz' }, /Invalid platformPackageSpec: "\/abs\/platform\.tgz"\. Expected an npm install spec for @rauli-vision\/platform/],
    [{ smokeTestPaths: ['health'] }, /Invalid smokeTestPaths: "health"\. Expected absolute URL paths/],
  ])('%j', (options, message) => {
    expect(() => project(options)).toThrow(message);
  });
});

describe('generated files pass their linters', () => {
  const dir = tempDir();
  const p = project({ outdir: dir });
  // Write the files without the post-synth `npm install` (the e2e test installs for real).
  const post = process.env.PROJEN_DISABLE_POST;
  process.env.PROJEN_DISABLE_POST = 'true';
  try {
    p.synth();
  } finally {
    if (post === undefined) delete process.env.PROJEN_DISABLE_POST; else process.env.PROJEN_DISABLE_POST = post;
  }

  test('shellcheck: smoke-test script', () => {
    const script = path.join(dir, 'scripts/smoke-test.sh');
    fs.accessSync(script, fs.constants.X_OK);
    execFileSync('shellcheck', ['--severity=style', script]);
  });

  test('yamllint: workflow, compose and cdk8s.yaml', () => {
    const config = '{extends: relaxed, rules: {line-length: disable, truthy: disable}}';
    execFileSync('yamllint', ['--strict', '-d', config, '.github/workflows/pipeline.yml', 'docker-compose.dev.yml', 'cdk8s.yaml'], { cwd: dir });
  });

  test('the smoke-test script fails on a non-200 endpoint and passes when all answer', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url!.startsWith('/readyz') ? 503 : 200;
      res.end();
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = () => new Promise<number | null>(resolve => {
      spawn(path.join(dir, 'scripts/smoke-test.sh'), [base, base], { env: { ...process.env, SMOKE_TEST_ATTEMPTS: '1' } })
        .on('exit', code => resolve(code));
    });
    try {
      expect(await run()).toBe(1);
      // Readiness starts answering.
      server.removeAllListeners('request');
      server.on('request', (_req, res) => { res.statusCode = 200; res.end(); });
      expect(await run()).toBe(0);
    } finally {
      server.close();
    }
  });
});

test('.env.example covers exactly the variables the Koa package reads', () => {
  // Read as text: the root jest cannot load the Koa package (it is not part of this package's module graph).
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'packages', 'koa', 'src', 'config', 'config.ts'), 'utf-8');
  const read = [...new Set([...source.matchAll(/r\.(?:raw|string|oneOf|int|bool|duration|url)(?:<\w+>)?\('([A-Z0-9_]+)'/g)].map(m => m[1]))];
  expect(read.length).toBeGreaterThan(20);
  expect(Object.values(ENV_VARIABLES).flat().map(v => v.name).sort()).toEqual(read.sort());
  expect(Object.values(ENV_VARIABLES).flat().map(v => v.name)).toEqual(RuntimeSettings.ALL.map(s => s.name));
});

test('src/project-type has no import cycle', () => {
  const dir = path.join(__dirname, '..', '..', 'src', 'project-type');
  const files = fs.readdirSync(dir).filter(f => f.endsWith('.ts'));
  const imports = Object.fromEntries(files.map(f => [f.replace(/\.ts$/, ''),
    [...fs.readFileSync(path.join(dir, f), 'utf-8').matchAll(/^import .* from '\.\/([\w-]+)';$/gm)].map(m => m[1])]));
  const cycles: string[] = [];
  const visit = (file: string, stack: string[]) => {
    if (stack.includes(file)) {
      cycles.push([...stack.slice(stack.indexOf(file)), file].join(' -> '));
      return;
    }
    for (const next of imports[file] ?? []) visit(next, [...stack, file]);
  };
  Object.keys(imports).forEach(f => visit(f, []));
  expect(Object.keys(imports).length).toBeGreaterThan(8);
  expect(cycles).toEqual([]);
});
