/**
 * The main job: one manifest file per environment in dist/
 * (`npx projen synth`, which runs `cdk8s synth`).
 *
 * - Image tags come from IMAGE_TAG so CI deploys the commit it built.
 * - EDGE_KIND selects the edge: `gateway-api` (Envoy Gateway, the default) or
 *   `ingress-nginx`, for which `<env>.ingress-nginx.values.yaml` beside the
 *   manifests configures the controller the Ingresses depend on
 *   (`helm upgrade --install ingress-nginx ingress-nginx/ingress-nginx -f dist/<env>.ingress-nginx.values.yaml`).
 * - Backup storage comes from the AWS package's stack outputs when
 *   AWS_OUTPUTS_FILE points at `cdk deploy --outputs-file` JSON; otherwise the
 *   guide's bucket with credentials from the `backup-s3` Secret.
 * - Beside each manifest, `<env>.kube-prometheus-stack.values.yaml`: the
 *   cluster's Prometheus and Alertmanager settings the manifests rely on
 *   (`helm upgrade kube-prometheus-stack ... -f dist/<env>.kube-prometheus-stack.values.yaml`).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Yaml, YamlOutputType } from 'cdk8s';
// The modules it uses, not '../src': the package's entry point also loads the
// rauli-service project type and with it projen (600 files, a third of synth).
import { ClusterAddonsChart } from '../src/addons';
import { BackupConventions } from '../src/conventions';
import { validateOneOf } from '../src/core/validate';
import { BackupStorage } from '../src/data/backup/backup-storage';
import { EdgeKind } from '../src/edge';
import { EdgeEnvironments } from '../src/edge/edge-environments';
import { Environments } from '../src/platform/environments';
import { RauliVisionChart } from '../src/platform/rauli-vision-chart';
import { ServiceCatalog } from '../src/platform/service-catalog';

const registry = process.env.IMAGE_REGISTRY ?? 'ghcr.io/rauli-vision';
const tag = process.env.IMAGE_TAG ?? '1.0.0';
const awsOutputs = process.env.AWS_OUTPUTS_FILE ? JSON.parse(fs.readFileSync(process.env.AWS_OUTPUTS_FILE, 'utf-8')) : {};

function backupStorage(environment: string): BackupStorage {
  const outputs = awsOutputs[`RauliVisionFoundation-${environment}`];
  if (outputs) {
    return {
      bucketName: outputs[BackupConventions.OUTPUT_BUCKET_NAME],
      region: outputs[BackupConventions.OUTPUT_REGION],
      roleArn: outputs[BackupConventions.OUTPUT_ROLE_ARN],
    };
  }
  return { bucketName: process.env.BACKUP_BUCKET ?? 'rauli-vision-backups', region: process.env.AWS_REGION ?? 'us-east-1', credentialsSecret: 'backup-s3' };
}

function edgeKindFromEnv(): EdgeKind {
  try {
    return validateOneOf('EDGE_KIND', process.env.EDGE_KIND || EdgeKind.GATEWAY_API, Object.values(EdgeKind)) as EdgeKind;
  } catch (e) {
    // A setting typo, not a bug: the message without a stack trace.
    console.error((e as Error).message);
    process.exit(1);
  }
}
const edgeKind = edgeKindFromEnv();

const app = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART });
const charts: RauliVisionChart[] = [];
for (const environment of Environments.NAMES) {
  charts.push(new RauliVisionChart(app, environment, {
    environment,
    images: ServiceCatalog.images(registry, tag),
    edge: { ...EdgeEnvironments.routing(environment), tlsSecretName: `rauli-vision-${environment}-tls`, kind: edgeKind },
    backup: { storage: backupStorage(environment) },
  }));
}
// The environments share one cluster, hence one kube-prometheus-stack: its values must agree.
const stackValues = charts[0].prometheusStackValues;
for (const chart of charts) {
  if (JSON.stringify(chart.prometheusStackValues) !== JSON.stringify(stackValues)) {
    throw new Error(`${chart.preset.name}: monitoring.release/releaseLabel differ from ${charts[0].preset.name}'s; one cluster runs one kube-prometheus-stack`);
  }
}
// The controllers and operators the charts above need, installed by Flux (dist/cluster-addons.k8s.yaml);
// its kube-prometheus-stack release gets the values the platform model computes.
new ClusterAddonsChart(app, 'cluster-addons', { kubePrometheusStackValues: stackValues });
app.synth();
for (const chart of charts) {
  fs.writeFileSync(path.join(app.outdir, `${chart.preset.name}.kube-prometheus-stack.values.yaml`), Yaml.stringify(chart.prometheusStackValues));
  const ingress = chart.edge?.ingress;
  if (ingress) Yaml.save(path.join(app.outdir, `${chart.preset.name}.ingress-nginx.values.yaml`), [ingress.controllerValues()]);
}
