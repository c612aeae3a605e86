import * as path from 'path';
import { Component, SampleFile, TextFile, YamlFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';
import { ServiceEnvironment, ServiceSettings } from './service-settings';

/** Where cdk8s writes the manifests: one file per environment. */
export const K8S_OUTDIR = 'dist/k8s';

/** Manifest file cdk8s writes for one environment's chart. */
export function manifestFile(settings: ServiceSettings, env: ServiceEnvironment): string {
  return `${K8S_OUTDIR}/${settings.serviceName}-${env}.k8s.yaml`;
}

/** Namespace of one environment; the platform chart creates it with its policies and quotas. */
export function namespaceFor(env: ServiceEnvironment): string {
  return `rauli-vision-${env}`;
}

/**
 * The sample programs, real source files type-checked and linted in this
 * repository (src/project-type/samples, laid out as in a scaffolded service),
 * copied once into a new service. Shipped beside the compiled code in lib/.
 */
export const SAMPLES_DIR = path.join(__dirname, 'samples');

/** Settings the cdk8s app reads; projen regenerates it from .projenrc.ts options. */
// Under src/ so the build type-checks and lints the cdk8s app with the service
// (it compiles into lib/k8s/, which the service never loads).
export const K8S_DIR = 'src/k8s';
export const K8S_SETTINGS_FILE = `${K8S_DIR}/settings.generated.ts`;
export const K8S_CHART_FILE = `${K8S_DIR}/service-chart.ts`;
export const K8S_MAIN_FILE = `${K8S_DIR}/main.ts`;
export const K8S_VALIDATE_FILE = `${K8S_DIR}/validate.ts`;
export const K8S_TEST_FILE = 'test/k8s.test.ts';

/** Harness import path inside the platform package (not part of its jsii API). */
const HARNESS = '@rauli-vision/platform/lib/validation';

/**
 * The service's own cdk8s app: `cdk8s.yaml`, a chart per environment built
 * from the platform's constructs (HttpService, ServiceMonitor), a
 * test that validates every environment with the platform's harness, and the
 * `synth:k8s` and `validate:k8s` tasks the pipeline runs.
 *
 * The chart and its test are samples (written once, owned by the team); the
 * settings they read and the validation script stay generated.
 */
export class K8sApp extends Component {
  constructor(project: TypeScriptProject, settings: ServiceSettings) {
    super(project);

    // The cdk8s app runs at build and deploy time only: it may import devDependencies.
    project.eslint?.allowDevDeps(`${K8S_DIR}/**`);

    new YamlFile(project, 'cdk8s.yaml', {
      obj: { language: 'typescript', app: `npx ts-node --prefer-ts-exts ${K8S_MAIN_FILE}`, output: K8S_OUTDIR, imports: [] },
    });

    const generated = new TextFile(project, K8S_SETTINGS_FILE, { marker: true });
    [
      `// ${generated.marker}`,
      '/* eslint-disable */',
      'export const SERVICE = ' + JSON.stringify({
        name: settings.serviceName,
        image: settings.image,
        port: settings.servicePort,
        usePostgres: settings.usePostgres,
        useRedis: settings.useRedis,
        environments: settings.environments,
        namespaces: Object.fromEntries(settings.environments.map(e => [e, namespaceFor(e)])),
        manifests: Object.fromEntries(settings.environments.map(e => [e, manifestFile(settings, e)])),
      }, undefined, 2) + ' as const;',
      '',
      'export type Environment = typeof SERVICE.environments[number];',
    ].forEach(l => generated.addLine(l));

    new SampleFile(project, K8S_CHART_FILE, { sourcePath: path.join(SAMPLES_DIR, K8S_CHART_FILE) });
    new SampleFile(project, K8S_MAIN_FILE, { sourcePath: path.join(SAMPLES_DIR, K8S_MAIN_FILE) });
    new SampleFile(project, K8S_TEST_FILE, { sourcePath: path.join(SAMPLES_DIR, 'test', 'k8s-test.ts') });

    const validate = new TextFile(project, K8S_VALIDATE_FILE, { marker: true });
    [
      `// ${validate.marker}`,
      '/* eslint-disable */',
      '// Validates the synthesized manifests with the platform harness: Kubernetes 1.28',
      '// schemas, Pod Security Standards "restricted" and the platform checks.',
      "import * as fs from 'fs';",
      "import * as YAML from 'yaml';",
      `import { validateManifests } from '${HARNESS}';`,
      "import { SERVICE } from './settings.generated';",
      '',
      'let failed = 0;',
      'for (const file of Object.values(SERVICE.manifests)) {',
      '  const docs = YAML.parseAllDocuments(fs.readFileSync(file, \'utf-8\')).map(d => d.toJSON()).filter(Boolean);',
      '  const { errors } = validateManifests(docs);',
      '  console.log(`${file}: ${docs.length} objects, ${errors.length} errors`);',
      '  errors.forEach(e => console.log(`  ${e}`));',
      '  failed += errors.length;',
      '}',
      'process.exit(failed ? 1 : 0);',
    ].forEach(l => validate.addLine(l));

    project.addTask('synth:k8s', {
      description: `Synthesize one manifest per environment into ${K8S_OUTDIR}/ (image tag from $IMAGE_TAG)`,
      exec: 'cdk8s synth --check-upgrade false',
    });
    project.addTask('validate:k8s', {
      description: 'Validate the synthesized manifests with the platform harness',
      exec: `ts-node --transpile-only ${K8S_VALIDATE_FILE}`,
    });
  }
}
