/**
 * The main job: one manifest file per environment in dist/
 * (`npx cdk8s synth` or `npx projen synth`).
 * Image tags come from the environment so CI can pin the commit it built;
 * the defaults are the released versions.
 */
import { App, YamlOutputType } from 'cdk8s';
import { Environments, RauliVisionChart } from '../src';

const registry = process.env.IMAGE_REGISTRY ?? 'ghcr.io/rauli-vision';
const tag = process.env.IMAGE_TAG ?? '1.0.0';

const app = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART });
for (const environment of Environments.NAMES) {
  new RauliVisionChart(app, environment, {
    environment,
    images: {
      frontend: `${registry}/frontend:${tag}`,
      backendGo: `${registry}/backend:${tag}`,
      backendPython: `${registry}/cliente-local:${tag}`,
    },
  });
}
app.synth();
