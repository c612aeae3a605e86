import * as fs from 'fs';
import * as path from 'path';

/**
 * The CRD schemas of the operators the platform targets live outside the
 * repository (`../shared/crds/` beside the checkout, see its README), so that
 * tests validate against the operators' released files and never a copy.
 * `RAULI_VISION_CRDS` points elsewhere, e.g. at CRDs exported from a cluster.
 */
const CANDIDATES = [
  process.env.RAULI_VISION_CRDS,
  path.resolve(__dirname, '../../../shared/crds'),
  '/work/shared/crds',
].filter((d): d is string => !!d);

export function crdDir(): string {
  const dir = CANDIDATES.find(d => fs.existsSync(d));
  if (!dir) throw new Error(`CRD schemas not found: looked in ${CANDIDATES.join(', ')} (set RAULI_VISION_CRDS)`);
  return dir;
}

/** Absolute path of one file under the CRD folder, e.g. `crdFile('cnpg-1.30.0.yaml')`. */
export function crdFile(name: string): string {
  const file = path.join(crdDir(), name);
  if (!fs.existsSync(file)) throw new Error(`CRD file ${name} not found in ${crdDir()}`);
  return file;
}

/** Every CRD file the platform targets. */
export function allCrdFiles(): string[] {
  return [
    'cnpg-1.30.0.yaml',
    'barman-cloud-v0.14.0-objectstores.yaml',
    'eck-3.5.0-crds.yaml',
    'envoy-gateway-v1.9.0/gatewayapi-crds.yaml',
    'envoy-gateway-v1.9.0/gateway.envoyproxy.io_backendtrafficpolicies.yaml',
    'envoy-gateway-v1.9.0/gateway.envoyproxy.io_clienttrafficpolicies.yaml',
    'envoy-gateway-v1.9.0/gateway.envoyproxy.io_securitypolicies.yaml',
  ].map(crdFile);
}

/**
 * CRD files of the custom resources RauliVisionChart emits beyond the bundled
 * models (the ECK resources of the logging stack): whole-chart validations pass them.
 */
export function platformCrdFiles(): string[] {
  return [crdFile('eck-3.5.0-crds.yaml')];
}
