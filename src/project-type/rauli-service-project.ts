import { javascript, typescript } from 'projen';
import { CatalogEntryFile } from './catalog-entry';
import { DevCompose } from './dev-compose';
import { ServiceDockerfile } from './dockerfile';
import { EnvExample } from './env-example';
import { K8sApp } from './k8s-app';
import { PipelineWorkflow } from './pipeline-workflow';
import { ServiceSampleCode } from './sample-code';
import { serviceReadme } from './service-readme';
import { resolveServiceSettings, samePackageAsPlatform, ServiceSettings } from './service-settings';

/** Options of {@link RauliServiceProject}; every one is also a `projen new` flag. */
export interface RauliServiceProjectOptions extends typescript.TypeScriptProjectOptions {
  /**
   * DNS-1123 name of the service (at most 40 characters): Kubernetes object
   * names, the component label, the image name and the log `service` field.
   * @default - `name` without its npm scope
   */
  readonly serviceName?: string;
  /**
   * Port the service listens on inside the container (the metrics server keeps
   * `ServiceConventions.METRICS_PORT`).
   * @default ServiceConventions.HTTP_PORT
   */
  readonly servicePort?: number;
  /**
   * Container registry host the pipeline pushes to.
   * @default "ghcr.io"
   */
  readonly imageRegistry?: string;
  /**
   * Repository path of the image inside the registry, without tag.
   * @default "rauli-vision/<serviceName>"
   */
  readonly imageRepository?: string;
  /**
   * The service uses PostgreSQL: DATABASE_URL in docker-compose.dev.yml,
   * .env.example and the manifests' Secret references.
   * @default true
   */
  readonly usePostgres?: boolean;
  /**
   * The service uses Redis (rate limits and cache shared across replicas).
   * @default true
   */
  readonly useRedis?: boolean;
  /**
   * Environments to emit manifests for: any of "dev", "staging", "production".
   * staging deploys from `develop`, production from `main`.
   * @default ["dev", "staging", "production"]
   */
  readonly environments?: string[];
  /**
   * npm spec of the platform package (devDependency: cdk8s app, validation).
   * @default - the `projen new --from` spec, else "@rauli-vision/platform@^<this version>"
   */
  readonly platformPackageSpec?: string;
  /**
   * npm spec of the Koa package (runtime dependency), for example
   * "@rauli-vision/koa@file:/abs/path/rauli-vision-koa-1.0.0.tgz" for a local build.
   * @default "@rauli-vision/koa@^<this version>"
   */
  readonly koaPackageSpec?: string;
  /**
   * Paths the post-deploy smoke tests call besides liveness, readiness and metrics.
   * @default ["/api/v1/hello"]
   */
  readonly smokeTestPaths?: string[];
}

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
 * the seed's GitHub Actions pipeline, `.env.example` and a README.
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

    new ServiceSampleCode(this, settings);
    new K8sApp(this, settings);
    new CatalogEntryFile(this, settings);
    new ServiceDockerfile(this, settings);
    new DevCompose(this, settings);
    new EnvExample(this, settings);
    new PipelineWorkflow(this, settings);
  }
}
