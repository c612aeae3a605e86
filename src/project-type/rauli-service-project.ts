import { javascript, typescript } from 'projen';
import { CatalogEntryFile } from './catalog-entry';
import { DevCompose } from './dev-compose';
import { ServiceDockerfile } from './dockerfile';
import { EnvExample } from './env-example';
import { K8sApp } from './k8s-app';
import { PipelineWorkflow } from './pipeline-workflow';
import { RauliServiceProjectOptions } from './rauli-service-options';
import { ServiceSampleCode } from './sample-code';
import { serviceReadme } from './service-readme';
import { resolveServiceSettings, samePackageAsPlatform, ServiceSettings } from './service-settings';


/** Packages the platform's validation harness loads at run time. */
const HARNESS_PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/prometheus-operator',
  '@kubernetes-models/cert-manager',
  '@kubernetes-models/gateway-api',
  '@monokle/validation',
  'yaml',
];

/**
 * A production-ready RAULI-VISION service repository: a Koa service on
 * `@rauli-vision/koa` with a sample route and tests, its own cdk8s app built
 * from the platform constructs and validated by the platform harness, a
 * multi-stage Dockerfile, docker-compose.dev.yml with Redis and PostgreSQL,
 * the guide's GitHub Actions pipeline, `.env.example` and a README.
 *
 * ```sh
 * npx projen new --from @rauli-vision/platform rauli-service --service-name orders
 * ```
 *
 * @pjid rauli-service
 */
export class RauliServiceProject extends typescript.TypeScriptAppProject {
  /** DNS-1123 name of the service. */
  public readonly serviceName: string;
  /** Port the service listens on. */
  public readonly servicePort: number;
  /** Image reference without tag (`registry/repository`). */
  public readonly image: string;
  /** Environments manifests are emitted for. */
  public readonly environments: string[];

  constructor(options: RauliServiceProjectOptions) {
    const settings: ServiceSettings = resolveServiceSettings(options);
    super({
      projenrcTs: true,
      packageManager: javascript.NodePackageManager.NPM,
      // The pipeline workflow builds and tests; projen's own build workflow would duplicate it.
      buildWorkflow: false,
      // The projen the platform is built with: its project type API is what this class targets.
      projenVersion: settings.versions.packages.projen,
      ...options,
      sampleCode: false,
      readme: options.readme ?? { contents: serviceReadme(settings) },
      jestOptions: {
        ...options.jestOptions,
        jestConfig: {
          testTimeout: 60_000,
          // jose (JWT in @rauli-vision/koa) ships ES modules only: Node 20 loads them natively, Jest's runtime needs them transpiled.
          transformIgnorePatterns: ['/node_modules/(?!jose/)'],
          transform: {
            '^.+/node_modules/jose/.+\\.js$': new javascript.Transform('ts-jest', { tsconfig: { allowJs: true }, isolatedModules: true }),
          },
          ...options.jestOptions?.jestConfig,
        },
      },
    });
    this.serviceName = settings.serviceName;
    this.servicePort = settings.servicePort;
    this.image = settings.image;
    this.environments = settings.environments;

    this.addDeps(settings.koaPackageSpec);
    this.addDevDeps(
      settings.platformPackageSpec,
      // Types that @rauli-vision/koa's declarations reference (koa, pg, pg-pool ship none).
      '@types/koa@^3.0.0',
      '@types/pg@^8.11.10',
      '@types/pg-pool@^2.0.6',
      // TypeScript and Node types as in the platform: the newest majors are not supported by ts-jest and ts-node yet.
      ...['typescript', '@types/node', 'cdk8s', 'cdk8s-plus-28', 'constructs', 'cdk8s-cli', ...HARNESS_PACKAGES].map(p => samePackageAsPlatform(settings, p)),
    );
    this.gitignore.exclude('.env');

    this.addTask('dev', {
      description: 'Run the service from source (in-memory fallbacks unless REDIS_URL / DATABASE_URL are set)',
      env: { NODE_ENV: 'development' },
      exec: 'ts-node --transpile-only src/index.ts',
    });
    this.addTask('start', {
      description: 'Run the compiled service (lib/index.js), as the container does',
      exec: 'node lib/index.js',
    });

    new ServiceSampleCode(this);
    new K8sApp(this, settings);
    new CatalogEntryFile(this, settings);
    new ServiceDockerfile(this, settings);
    new DevCompose(this, settings);
    new EnvExample(this, settings);
    new PipelineWorkflow(this, settings);
  }
}
