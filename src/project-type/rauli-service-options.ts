import { typescript } from 'projen';

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
