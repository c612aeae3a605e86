import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadManifests, validateManifests } from '../../src/validation';
import { allCrdFiles } from '../support/crds';

const root = path.join(__dirname, '..', '..');

const synth = (edgeKind?: string) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-synth-'));
  execFileSync('npx', ['cdk8s', 'synth', '--check-upgrade', 'false', '--output', out],
    { cwd: root, stdio: 'pipe', env: { ...process.env, EDGE_KIND: edgeKind ?? '' } });
  return out;
};
const manifests = ['dev.k8s.yaml', 'production.k8s.yaml', 'staging.k8s.yaml'];
const stackValues = ['dev', 'production', 'staging'].map(e => `${e}.kube-prometheus-stack.values.yaml`);

test('`cdk8s synth` writes one valid manifest file per environment, on Gateway API by default', () => {
  const out = synth();
  // cluster-addons.k8s.yaml: test/addons.
  expect(fs.readdirSync(out).sort()).toEqual(['cluster-addons.k8s.yaml', ...manifests, ...stackValues].sort());
  for (const file of stackValues) {
    // The values are what the platform's objects need from the cluster's Prometheus.
    expect(loadManifests(path.join(out, file))[0].prometheus.prometheusSpec).toMatchObject({ scrapeInterval: '15s', evaluationInterval: '15s' });
  }
  for (const file of manifests) {
    const docs = loadManifests(path.join(out, file));
    expect(docs.length).toBeGreaterThan(10);
    expect({ file, errors: validateManifests(docs, { crdFiles: allCrdFiles() }).errors }).toEqual({ file, errors: [] });
    // The whole architecture, not only the application services.
    const kinds = new Set(docs.map(d => d.kind));
    for (const kind of ['Namespace', 'Deployment', 'StatefulSet', 'Gateway', 'HTTPRoute', 'ClientTrafficPolicy', 'BackendTrafficPolicy', 'ClusterIssuer', 'CronJob', 'ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'LimitRange', 'ResourceQuota']) {
      expect({ file, kind, present: kinds.has(kind) }).toEqual({ file, kind, present: true });
    }
    const cronJobs = docs.filter(d => d.kind === 'CronJob').map(d => d.metadata.name).sort();
    // Staging and production archive WAL: their only logical dump is the nightly one.
    expect(cronJobs).toEqual(file.includes('dev') ? ['application-backup', 'postgres-backup-daily', 'postgres-backup-frequent'] : ['application-backup', 'postgres-backup-daily']);
  }
});

test('with EDGE_KIND=ingress-nginx each environment ships the controller values its Ingresses depend on', () => {
  const out = synth('ingress-nginx');
  const ingressValues = ['dev', 'production', 'staging'].map(e => `${e}.ingress-nginx.values.yaml`);
  expect(fs.readdirSync(out).sort()).toEqual(['cluster-addons.k8s.yaml', ...manifests, ...stackValues, ...ingressValues].sort());
  for (const env of ['dev', 'staging', 'production']) {
    const docs = loadManifests(path.join(out, `${env}.k8s.yaml`));
    expect(docs.filter(d => d.kind === 'Ingress').length).toBe(4);
    expect(docs.some(d => d.kind === 'Gateway')).toBe(false);
    const [values] = loadManifests(path.join(out, `${env}.ingress-nginx.values.yaml`));
    const config = values.controller.config;
    expect(config['limit-req-status-code']).toBe('429');
    const configured = validateManifests(docs, { crdFiles: allCrdFiles(), ingressControllerConfig: config }).errors;
    expect({ env, errors: configured }).toEqual({ env, errors: [] });
    // Without the values file the same Ingresses fail: the site would answer 503.
    const unconfigured = validateManifests(docs, { crdFiles: allCrdFiles(), podSecurity: false }).errors;
    expect(unconfigured.some(e => e.includes('global-allowed-response-headers'))).toBe(true);
  }
});

test('an unknown EDGE_KIND stops the synth naming the variable', () => {
  expect(() => synth('traefik')).toThrow(/Invalid EDGE_KIND: "traefik". Expected one of 'ingress-nginx', 'gateway-api'/);
});

test('another cdk8s app imports every construct from the package entry point', () => {
  const entry = path.join(root, 'lib', 'index.js');
  if (!fs.existsSync(entry)) throw new Error('lib/index.js is missing: compile first (npx projen compile)');
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-consumer-'));
  // A consumer's app, written as a user would, resolving the package by its entry point.
  fs.writeFileSync(path.join(app, 'main.js'), `
    const { App, Chart } = require('cdk8s');
    const platform = require(${JSON.stringify(root)});
    const app = new App({ outdir: ${JSON.stringify(path.join(app, 'dist'))} });
    new platform.RauliVisionChart(app, 'consumer', {
      environment: 'staging',
      namespace: 'consumer',
      images: { frontend: 'r/f:1.0.0', backendGo: 'r/b:1.0.0', backendPython: 'r/p:1.0.0' },
    });
    const extra = new Chart(app, 'extra', { namespace: 'extra' });
    new platform.PlatformNamespace(extra, 'ns', { name: 'extra', quota: platform.Environments.preset('dev').quota });
    new platform.HttpService(extra, 'svc', { name: 'reports', component: 'reports', image: 'r/reports:2.0.0', replicas: 2 });
    new platform.PlatformNetworkPolicies(extra, 'np');
    new platform.AppConfig(extra, 'cfg', { name: 'reports-config' });
    app.synth();
    const exported = Object.keys(platform).filter(k => typeof platform[k] === 'function');
    console.log(JSON.stringify(exported));
  `);
  const exported: string[] = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: app, env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') } }).toString());
  for (const name of ['RauliVisionChart', 'HttpService', 'PlatformNamespace', 'PlatformNetworkPolicies', 'AppConfig', 'Environments', 'CloudNativePgCluster', 'PostgresEngine', 'RedisServer']) {
    expect(exported).toContain(name);
  }
  for (const file of ['consumer.k8s.yaml', 'extra.k8s.yaml']) {
    expect({ file, errors: validateManifests(loadManifests(path.join(app, 'dist', file)), { crdFiles: allCrdFiles() }).errors }).toEqual({ file, errors: [] });
  }
});
