import { Component, SampleFile, TextFile, YamlFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';
import { K8S_OUTDIR, manifestFile, namespaceFor } from './pipeline-workflow';
import { ServiceSettings } from './service-settings';

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

    new SampleFile(project, K8S_CHART_FILE, { contents: chartSample() });
    new SampleFile(project, K8S_MAIN_FILE, { contents: mainSample() });
    new SampleFile(project, K8S_TEST_FILE, { contents: testSample() });

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

function chartSample(): string {
  return `import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  AppConfig, Components, DataConventions, HttpService, HttpServiceSettings, Monitoring, RauliVisionChart, ServiceConventions, ServiceMonitor,
} from '@rauli-vision/platform';
import { Environment, SERVICE } from './settings.generated';

/** Namespace of the ingress controller that routes to this service. */
const INGRESS_NAMESPACE = 'ingress-nginx';
/** Namespace of Prometheus, which scrapes the metrics port. */
const MONITORING_NAMESPACE = 'monitoring';

export interface ServiceChartProps extends ChartProps {
  readonly environment: Environment;
  /** Image tag to deploy; the pipeline passes the commit's tag. */
  readonly imageTag: string;
}

/** Per-environment sizing: edit freely. Production follows the seed (HPA 3..50, 250m/256Mi requests). */
const SIZING: Record<Environment, HttpServiceSettings> = {
  dev: { replicas: 1 },
  staging: { replicas: 2 },
  production: {
    autoscaling: { minReplicas: 3, maxReplicas: 50 },
    resources: { cpuRequest: '250m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' },
  },
};

/** Secret holding this service's credentials; created out of band (never in git or in a manifest). */
const SECRET = \`\${SERVICE.name}-secrets\`;

/** Everything one environment of the service needs, validated by test/k8s.test.ts. */
export class ServiceChart extends Chart {
  constructor(scope: Construct, id: string, props: ServiceChartProps) {
    const namespace = SERVICE.namespaces[props.environment];
    super(scope, id, { namespace, ...props });

    const service = new HttpService(this, 'Service', {
      name: SERVICE.name,
      component: SERVICE.name,
      image: \`\${SERVICE.image}:\${props.imageTag}\`,
      port: SERVICE.port,
      strictImages: props.environment !== 'dev',
      // The platform's settings (rate limit, timeouts, log format) and its Redis
      // Cluster's REDIS_CLUSTER_NODES: one source for every service of the namespace.
      configMapName: RauliVisionChart.CONFIG_MAP_NAME,
      env: {
        NODE_ENV: 'production',
        SERVICE_NAME: SERVICE.name,
        PORT: String(SERVICE.port),
        LOG_LEVEL: props.environment === 'production' ? 'info' : 'debug',
        // Entries here win over the ConfigMap's: this service does not use the platform's Redis.
        ...(SERVICE.useRedis ? {} : { REDIS_CLUSTER_NODES: '' }),
      },
      secretEnv: [
        { name: 'JWT_SECRET', secretName: SECRET, key: 'jwt-secret' },
        ...(SERVICE.usePostgres ? [{ name: 'DATABASE_URL', secretName: SECRET, key: 'database-url' }] : []),
        // The platform's Redis Cluster requires AUTH; its password is in the platform's Secret.
        ...(SERVICE.useRedis ? [{ name: 'REDIS_PASSWORD', secretName: AppConfig.DEFAULT_SECRET_NAME, key: 'REDIS_PASSWORD' }] : []),
      ],
      ...SIZING[props.environment],
    });

    // The platform denies all traffic by default and allows DNS: open exactly
    // this service's flows, Prometheus' scrapes of the metrics port included.
    const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
    const component = (name: string) => ({ podSelector: { matchLabels: { [Components.LABEL]: name } } });
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: SERVICE.name },
      spec: {
        podSelector: { matchLabels: service.selector },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_NAMESPACE } } }], ports: [tcp(SERVICE.port)] },
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': MONITORING_NAMESPACE } } }], ports: [tcp(ServiceConventions.METRICS_PORT)] },
        ],
        egress: [
          ...(SERVICE.usePostgres ? [{ to: [component(Components.POSTGRES)], ports: [tcp(DataConventions.POSTGRES_PORT)] }] : []),
          ...(SERVICE.useRedis ? [{ to: [component(Components.REDIS)], ports: [tcp(DataConventions.REDIS_PORT)] }] : []),
        ],
      },
    });

    // Labelled like the platform's monitors, so the same kube-prometheus-stack
    // selects it (change both if your Prometheus release has another name).
    // No AlertRules here: the platform's PrometheusRule in this namespace alerts
    // on the HTTP metrics of the services in its catalog (add ./catalog-entry.generated.ts
    // there), grouped by the \`service\` label this ServiceMonitor adds. A second
    // copy would fire each alert twice and record each SLO series twice.
    new ServiceMonitor(this, 'Metrics', {
      selector: service.selector,
      labels: { [Monitoring.DEFAULT_RELEASE_LABEL]: Monitoring.DEFAULT_RELEASE },
      metadata: { name: SERVICE.name },
    });
  }
}
`;
}

function mainSample(): string {
  return `import { App } from 'cdk8s';
import { ServiceChart } from './service-chart';
import { SERVICE } from './settings.generated';

// The pipeline sets IMAGE_TAG to the commit's image tag; local synths use a placeholder tag.
const imageTag = process.env.IMAGE_TAG ?? 'local';

const app = new App();
for (const environment of SERVICE.environments) {
  new ServiceChart(app, \`\${SERVICE.name}-\${environment}\`, { environment, imageTag });
}
app.synth();
`;
}

function testSample(): string {
  return `import { App } from 'cdk8s';
import { synthChart, validateManifests } from '${HARNESS}';
import { ServiceChart } from '../src/k8s/service-chart';
import { SERVICE } from '../src/k8s/settings.generated';

describe.each(SERVICE.environments)('%s manifests', (environment) => {
  const docs = synthChart(new ServiceChart(new App(), \`\${SERVICE.name}-\${environment}\`, { environment, imageTag: 'sha-0123456789ab' }));

  test('pass the platform validation harness', () => {
    expect(validateManifests(docs).errors).toEqual([]);
  });

  test('open only the ingress and data-store flows of this service', () => {
    const policy = docs.find((d: any) => d.kind === 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: SERVICE.port }]);
  });

  test('deploy this service into its environment namespace', () => {
    const deployment = docs.find((d: any) => d.kind === 'Deployment');
    expect(deployment.metadata.namespace).toBe(SERVICE.namespaces[environment]);
    expect(deployment.spec.template.spec.containers[0].image).toBe(\`\${SERVICE.image}:sha-0123456789ab\`);
  });
});
`;
}
