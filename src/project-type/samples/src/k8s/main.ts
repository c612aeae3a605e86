import { App } from 'cdk8s';
import { ServiceChart } from './service-chart';
import { SERVICE } from './settings.generated';

// The pipeline sets IMAGE_TAG to the commit's image tag; local synths use a placeholder tag.
const imageTag = process.env.IMAGE_TAG ?? 'local';

const app = new App();
for (const environment of SERVICE.environments) {
  new ServiceChart(app, `${SERVICE.name}-${environment}`, { environment, imageTag });
}
app.synth();
