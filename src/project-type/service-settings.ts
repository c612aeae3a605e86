import * as fs from 'fs';
import * as path from 'path';
import { ServiceConventions } from '../conventions';
import type { RauliServiceProjectOptions } from './rauli-service-options';
import { PropValidationError, validateDnsLabel, validateInteger, validateOneOf } from '../core/validate';

/** Environments a service can be deployed to, in promotion order. */
export const SERVICE_ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export type ServiceEnvironment = typeof SERVICE_ENVIRONMENTS[number];

/** The sample route every scaffolded service starts with; the smoke tests call it. */
export const SAMPLE_ROUTE = '/api/v1/hello';

/** Deploy jobs run for these environments, from these branches. */
export const DEPLOY_BRANCHES: Partial<Record<ServiceEnvironment, string>> = { staging: 'develop', production: 'main' };

const PLATFORM_PACKAGE = '@rauli-vision/platform';
const KOA_PACKAGE = '@rauli-vision/koa';

/** The options a scaffolded service is generated from, validated and with defaults applied. */
export interface ServiceSettings {
  readonly serviceName: string;
  readonly servicePort: number;
  readonly metricsPort: number;
  readonly imageRegistry: string;
  readonly imageRepository: string;
  /** `registry/repository`, without a tag. */
  readonly image: string;
  readonly usePostgres: boolean;
  readonly useRedis: boolean;
  readonly environments: ServiceEnvironment[];
  readonly platformPackageSpec: string;
  readonly koaPackageSpec: string;
  readonly smokeTestPaths: string[];
  /** Versions of the toolchain the platform itself builds with, so services never drift from it. */
  readonly versions: PlatformVersions;
}

export interface PlatformVersions {
  readonly platform: string;
  /** npm version ranges keyed by package name (cdk8s, cdk8s-plus-28, constructs, cdk8s-cli, validators...). */
  readonly packages: Record<string, string>;
}

/** The options the settings are resolved from: a subset of the project type's. */
export type RawServiceOptions = Pick<RauliServiceProjectOptions, 'name' | 'serviceName' | 'servicePort' | 'imageRegistry' | 'imageRepository'
| 'usePostgres' | 'useRedis' | 'environments' | 'platformPackageSpec' | 'koaPackageSpec' | 'smokeTestPaths' | 'devDeps'>;

/**
 * Reads the platform's own package.json: the scaffold pins cdk8s, constructs and
 * the validators to the versions the platform is built and tested with.
 */
export function readPlatformVersions(packageJsonPath = path.join(__dirname, '..', '..', 'package.json')): PlatformVersions {
  const pkg = JSON.parse(fs.readFileSync(packageJsonPath, 'utf-8'));
  return {
    platform: pkg.version,
    packages: { ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.dependencies },
  };
}

const IMAGE_REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?$/;
const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

function validatePattern(prop: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) throw new PropValidationError(prop, value, expected);
  return value;
}

function validatePackageSpec(prop: string, value: string, packageName: string): string {
  if (!value.startsWith(`${packageName}@`) || value.length === packageName.length + 1) {
    throw new PropValidationError(prop, value, `an npm install spec for ${packageName}, such as '${packageName}@^1.2.0' or '${packageName}@file:/abs/path/package.tgz'`);
  }
  return value;
}

/** Strips an npm scope and turns the rest into a DNS-1123 label candidate. */
function defaultServiceName(npmName: string): string {
  return npmName.replace(/^@[^/]+\//, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}

export function resolveServiceSettings(options: RawServiceOptions, versions: PlatformVersions = readPlatformVersions()): ServiceSettings {
  const serviceName = validateDnsLabel('serviceName', options.serviceName ?? defaultServiceName(options.name), 40);
  const servicePort = validateInteger('servicePort', options.servicePort ?? ServiceConventions.HTTP_PORT, 1024, 65535);
  const metricsPort = ServiceConventions.METRICS_PORT;
  if (servicePort === metricsPort) {
    throw new PropValidationError('servicePort', servicePort, `a port other than the metrics port ${metricsPort}`);
  }
  const imageRegistry = validatePattern('imageRegistry', options.imageRegistry ?? 'ghcr.io', IMAGE_REGISTRY,
    "a registry host name with an optional port, such as 'ghcr.io' or 'registry.example.com:5000'");
  const imageRepository = validatePattern('imageRepository', options.imageRepository ?? `rauli-vision/${serviceName}`, IMAGE_REPOSITORY,
    "a lower-case repository path without tag, such as 'rauli-vision/orders'");

  // `--environments dev,production` on the projen CLI arrives as one comma-separated value.
  const environments = [...new Set((options.environments ?? SERVICE_ENVIRONMENTS).flatMap(e => e.split(',')).map(e => e.trim()))]
    .map(e => validateOneOf('environments', e, SERVICE_ENVIRONMENTS));
  if (environments.length === 0) {
    throw new PropValidationError('environments', options.environments, `at least one of ${SERVICE_ENVIRONMENTS.map(e => `'${e}'`).join(', ')}`);
  }
  environments.sort((a, b) => SERVICE_ENVIRONMENTS.indexOf(a) - SERVICE_ENVIRONMENTS.indexOf(b));

  // `projen new --from <spec>` records the spec in devDeps: reuse it so a scaffold
  // made from a local tarball keeps synthesizing from that same tarball.
  const fromSpec = options.devDeps?.find(d => d.startsWith(`${PLATFORM_PACKAGE}@`));
  const platformPackageSpec = validatePackageSpec('platformPackageSpec',
    options.platformPackageSpec ?? fromSpec ?? `${PLATFORM_PACKAGE}@^${versions.platform}`, PLATFORM_PACKAGE);
  // The platform and the Koa package are released together with one version number.
  const koaPackageSpec = validatePackageSpec('koaPackageSpec', options.koaPackageSpec ?? `${KOA_PACKAGE}@^${versions.platform}`, KOA_PACKAGE);

  const smokeTestPaths = options.smokeTestPaths ?? [SAMPLE_ROUTE];
  for (const p of smokeTestPaths) {
    validatePattern('smokeTestPaths', p, /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, "absolute URL paths such as '/api/v1/hello'");
  }

  return {
    serviceName,
    servicePort,
    metricsPort,
    imageRegistry,
    imageRepository,
    image: `${imageRegistry}/${imageRepository}`,
    usePostgres: options.usePostgres ?? true,
    useRedis: options.useRedis ?? true,
    environments,
    platformPackageSpec,
    koaPackageSpec,
    smokeTestPaths,
    versions,
  };
}

/** `name@range` for a package the platform itself depends on, so a service uses the same version. */
export function samePackageAsPlatform(settings: ServiceSettings, name: string): string {
  const range = settings.versions.packages[name];
  if (!range) throw new Error(`The platform package.json does not pin ${name}; add it to the platform's devDependencies`);
  return `${name}@${range}`;
}
