/**
 * The cluster add-ons chart: Flux HelmReleases and HelmRepositories that are
 * structurally valid (Flux's published schemas plus reference checks), pinned
 * to the operator versions whose released CRD files the platform targets, and
 * covering every CRD kind the synthesized manifests of app/main.ts use.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HelmRelease } from '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2beta2';
import { HelmRepository } from '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1beta2';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { ADDON_VERSIONS, ClusterAddon, ClusterAddonsChart, HelmChartRepository, Monitoring, PrometheusStackValues, RauliVisionChart } from '../../src';
import { crdFile } from '../support/crds';

const ROOT = path.resolve(__dirname, '..', '..');
const chart = new ClusterAddonsChart(Testing.app(), 'cluster-addons');
const docs = Testing.synth(chart);
const releases = docs.filter(d => d.kind === 'HelmRelease');
const repositories = docs.filter(d => d.kind === 'HelmRepository');

/** API groups built into Kubernetes 1.28: everything else is a CRD some add-on must install. */
const BUILT_IN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'scheduling.k8s.io',
  'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'apiregistration.k8s.io',
  'certificates.k8s.io', 'events.k8s.io', 'flowcontrol.apiserver.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io', 'resource.k8s.io',
  'internal.apiserver.k8s.io',
]);
/** Flux's own CRDs: `flux install` puts them in the cluster before anything here is applied (README, bootstrap step 1). */
const FLUX_GROUPS = new Set(['helm.toolkit.fluxcd.io', 'source.toolkit.fluxcd.io']);
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

function crdKindsIn(file: string): string[] {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf-8')).map(d => d.toJSON())
    .filter(d => d?.kind === 'CustomResourceDefinition').map(d => `${d.spec.group}/${d.spec.names.kind}`);
}

describe('structure', () => {
  test('one HelmRelease per add-on, in Flux\'s namespace, with the repositories it uses', () => {
    expect(releases.map(r => r.metadata.name)).toEqual(['envoy-gateway', 'cert-manager', Monitoring.DEFAULT_RELEASE, 'cloudnative-pg', 'plugin-barman-cloud', 'eck-operator']);
    expect(repositories.map(r => r.metadata.name).sort()).toEqual(['cnpg', 'elastic', 'envoyproxy', 'jetstack', 'prometheus-community']);
    for (const d of docs) expect(d.metadata.namespace).toBe(HelmChartRepository.DEFAULT_NAMESPACE);
    expect(docs.length).toBe(releases.length + repositories.length);
  });

  test('every HelmRepository passes Flux\'s HelmRepository schema', () => {
    // As for HelmRelease below: the models stop at v1beta2, whose HelmRepository fields v1 kept unchanged.
    for (const r of repositories) {
      expect(r.apiVersion).toBe(HelmChartRepository.API_VERSION);
      expect(() => new HelmRepository({ ...r, apiVersion: 'source.toolkit.fluxcd.io/v1beta2' }).validate()).not.toThrow();
    }
    expect(repositories.find(r => r.metadata.name === 'envoyproxy').spec).toEqual({ interval: '24h', url: 'oci://docker.io/envoyproxy', type: 'oci' });
  });

  test('every HelmRelease passes Flux\'s HelmRelease schema', () => {
    // @kubernetes-models/flux-cd's last CommonJS release (2.3.4) publishes HelmRelease up to v2beta2; v2 (GA)
    // kept every field used here with the same schema, so the objects are checked against v2beta2.
    for (const r of releases) {
      expect(r.apiVersion).toBe(ClusterAddon.API_VERSION);
      expect(() => new HelmRelease({ ...r, apiVersion: 'helm.toolkit.fluxcd.io/v2beta2' }).validate()).not.toThrow();
    }
  });

  test('the schema check catches a broken HelmRelease (it validates, it does not just parse)', () => {
    const spec = { ...releases[0].spec, chart: { spec: { version: 'v1.9.0' } } };
    const broken = { ...releases[0], apiVersion: 'helm.toolkit.fluxcd.io/v2beta2', spec };
    expect(() => new HelmRelease(broken).validate()).toThrow(/chart/);
  });

  test('every chart reference resolves to a HelmRepository of the chart, and every dependsOn to a HelmRelease', () => {
    for (const r of releases) {
      const ref = r.spec.chart.spec.sourceRef;
      const source = repositories.find(repo => repo.kind === ref.kind && repo.metadata.name === ref.name);
      expect(source?.metadata.namespace).toBe(ref.namespace);
      for (const dep of r.spec.dependsOn ?? []) {
        expect(releases.some(x => x.metadata.name === dep.name && x.metadata.namespace === dep.namespace)).toBe(true);
      }
    }
  });

  test('dependsOn is a bootstrap order: every dependency comes earlier in the chart (no cycles)', () => {
    const names = releases.map(r => r.metadata.name);
    for (const [i, r] of releases.entries()) {
      for (const dep of r.spec.dependsOn ?? []) expect(names.indexOf(dep.name)).toBeLessThan(i);
    }
    const deps = Object.fromEntries(releases.map(r => [r.metadata.name, (r.spec.dependsOn ?? []).map((d: any) => d.name)]));
    expect(deps).toEqual({
      'envoy-gateway': [],
      'cert-manager': ['envoy-gateway'],
      'kube-prometheus-stack': [],
      'cloudnative-pg': ['kube-prometheus-stack'],
      'plugin-barman-cloud': ['cert-manager', 'cloudnative-pg'],
      'eck-operator': [],
    });
  });

  test('every chart version is exact, and CRDs are created and replaced with the chart', () => {
    for (const r of releases) {
      expect(r.spec.chart.spec.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      expect(r.spec.install).toMatchObject({ crds: 'CreateReplace', createNamespace: true });
      expect(r.spec.upgrade.crds).toBe('CreateReplace');
    }
  });
});

describe('versions and values', () => {
  const release = (name: string) => releases.find(r => r.metadata.name === name);

  test('the charts of the operator versions the platform targets', () => {
    expect(Object.fromEntries(releases.map(r => [r.spec.chart.spec.chart, r.spec.chart.spec.version]))).toEqual({
      'gateway-helm': 'v1.9.0',
      'cert-manager': ADDON_VERSIONS.certManager,
      'kube-prometheus-stack': ADDON_VERSIONS.kubePrometheusStack,
      'cloudnative-pg': '0.29.0',
      'plugin-barman-cloud': '0.7.1',
      'eck-operator': '3.5.0',
    });
  });

  test('cert-manager runs with Gateway API support', () => {
    expect(release('cert-manager').spec.values.config).toMatchObject({ kind: 'ControllerConfiguration', enableGatewayAPI: true });
  });

  test('kube-prometheus-stack scrapes and evaluates every 15 s with Alertmanager by default, and takes the model\'s values', () => {
    const values = release('kube-prometheus-stack').spec.values;
    expect(values).toEqual(PrometheusStackValues.of());
    expect(values).toMatchObject({
      prometheus: { prometheusSpec: { scrapeInterval: '15s', evaluationInterval: '15s' } },
      alertmanager: { enabled: true },
    });
    const custom = { alertmanager: { config: { route: { receiver: 'oncall' } } } };
    const other = Testing.synth(new ClusterAddonsChart(Testing.app(), 'x', { kubePrometheusStackValues: custom }));
    expect(other.find(d => d.metadata.name === 'kube-prometheus-stack').spec.values).toEqual(custom);
  });

  test('the kube-prometheus-stack release is named as the platform\'s ServiceMonitors and rules expect', () => {
    const platform = Testing.synth(new RauliVisionChart(Testing.app(), 'p', {
      environment: 'production',
      images: { frontend: 'ghcr.io/rauli-vision/frontend:1.0.0', backendGo: 'ghcr.io/rauli-vision/backend:1.0.0', backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0' },
    }));
    const selected = platform.filter(d => ['ServiceMonitor', 'PrometheusRule'].includes(d.kind));
    expect(selected.length).toBeGreaterThan(0);
    for (const d of selected) expect(d.metadata.labels[Monitoring.DEFAULT_RELEASE_LABEL]).toBe(release('kube-prometheus-stack').spec.releaseName);
  });

  test('the Barman Cloud plugin runs in the CloudNativePG operator\'s namespace', () => {
    expect(release('plugin-barman-cloud').spec.targetNamespace).toBe(release('cloudnative-pg').spec.targetNamespace);
  });
});

describe('declared CRD kinds match the operators\' released CRD files', () => {
  test.each([
    ['cloudnative-pg', ['cnpg-1.30.0.yaml']],
    ['plugin-barman-cloud', ['barman-cloud-v0.14.0-objectstores.yaml']],
    ['eck-operator', ['eck-3.5.0-crds.yaml']],
  ])('%s installs exactly the kinds of its CRD file', (name, files) => {
    const addon = chart.addons.find(a => a.name === name)!;
    expect([...addon.crdKinds].sort()).toEqual(files.flatMap(f => crdKindsIn(crdFile(f))).sort());
  });

  test('envoy-gateway installs the Gateway API v1.6 CRDs it bundles and its own policies', () => {
    const files = ['gatewayapi-crds.yaml', 'gateway.envoyproxy.io_backendtrafficpolicies.yaml', 'gateway.envoyproxy.io_clienttrafficpolicies.yaml', 'gateway.envoyproxy.io_securitypolicies.yaml'];
    const kinds = files.flatMap(f => crdKindsIn(crdFile(`envoy-gateway-v1.9.0/${f}`)));
    expect(kinds.length).toBeGreaterThan(10);
    expect(chart.envoyGateway.crdKinds).toEqual(expect.arrayContaining(kinds));
  });

  test.each([
    ['cert-manager', '@kubernetes-models/cert-manager'],
    ['kube-prometheus-stack', '@kubernetes-models/prometheus-operator'],
  ])('%s declares only kinds its CRD models know (no CRD file of it is shared)', (name, models) => {
    const addon = chart.addons.find(a => a.name === name)!;
    const root = path.dirname(require.resolve(`${models}/package.json`));
    for (const kind of addon.crdKinds) {
      const [group, k] = kind.split('/');
      const versions = fs.readdirSync(path.join(root, group));
      expect({ kind, found: versions.some(v => fs.existsSync(path.join(root, group, v, `${k}.js`))) }).toEqual({ kind, found: true });
    }
  });
});

describe('every CRD kind the main job synthesizes is installed by an add-on', () => {
  // The main job itself (app/main.ts, which `cdk8s synth` runs), written to a temporary dist/.
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-dist-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  let files: string[] = [];

  beforeAll(() => {
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--prefer-ts-exts', 'app/main.ts'], {
      cwd: ROOT, encoding: 'utf-8', env: { ...process.env, CDK8S_OUTDIR: out }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status !== 0) throw new Error(`app/main.ts failed:\n${r.stderr}`);
    files = fs.readdirSync(out).filter(f => f.endsWith('.k8s.yaml'));
  }, 180_000);

  test('app/main.ts writes dist/cluster-addons.k8s.yaml next to the environments', () => {
    expect(files).toEqual(expect.arrayContaining(['cluster-addons.k8s.yaml', 'dev.k8s.yaml', 'staging.k8s.yaml', 'production.k8s.yaml']));
    const addons = YAML.parseAllDocuments(fs.readFileSync(path.join(out, 'cluster-addons.k8s.yaml'), 'utf-8')).map(d => d.toJSON());
    expect(addons).toEqual(docs);
    // The add-on's values are the ones the main job writes beside each environment's manifest.
    const stack = addons.find(d => d.kind === 'HelmRelease' && d.metadata.name === Monitoring.DEFAULT_RELEASE);
    for (const env of ['dev', 'staging', 'production']) {
      expect(stack.spec.values).toEqual(YAML.parse(fs.readFileSync(path.join(out, `${env}.kube-prometheus-stack.values.yaml`), 'utf-8')));
    }
  });

  test('no custom resource kind is left without its operator', () => {
    const used = new Set<string>();
    for (const f of files) {
      for (const d of YAML.parseAllDocuments(fs.readFileSync(path.join(out, f), 'utf-8')).map(x => x.toJSON()).filter(Boolean)) {
        const group = groupOf(d.apiVersion);
        if (!BUILT_IN_GROUPS.has(group) && !FLUX_GROUPS.has(group)) used.add(`${group}/${d.kind}`);
      }
    }
    // Kinds the platform uses today (more arrive with the data tier, the edge and logging).
    expect([...used]).toEqual(expect.arrayContaining(['monitoring.coreos.com/ServiceMonitor', 'monitoring.coreos.com/PrometheusRule']));
    expect(chart.addonFor('example.com/Unknown')).toBeUndefined();
    const missing = [...used].filter(k => !chart.addonFor(k));
    expect(missing).toEqual([]);
  });
});

describe('bad input', () => {
  const repo = () => new HelmChartRepository(Testing.chart(), 'r', { url: 'https://charts.example.com' });
  const base = { chart: 'x', targetNamespace: 'x', crdKinds: ['example.com/Thing'] };

  test('a version range is refused, naming the prop', () => {
    expect(() => new ClusterAddon(Testing.chart(), 'a', { ...base, repository: repo(), version: '^1.2.0' })).toThrow(/Invalid version: "\^1\.2\.0"\. Expected an exact chart version/);
  });

  test('a CRD kind without an API group is refused', () => {
    expect(() => new ClusterAddon(Testing.chart(), 'a', { ...base, repository: repo(), version: '1.2.0', crdKinds: ['Cluster'] })).toThrow(/Invalid crdKinds\[0\]: "Cluster"/);
  });

  test('a repository URL that is neither https:// nor oci:// is refused', () => {
    expect(() => new HelmChartRepository(Testing.chart(), 'r', { url: 'http://charts.example.com' })).toThrow(/Invalid url: "http:\/\/charts.example.com"\. Expected an https:\/\/ Helm repository or an oci:\/\/ registry path/);
  });
});
