import { Testing } from 'cdk8s';
import { RauliVisionChart, RauliVisionChartProps, ServiceCatalog } from '../../src';

export const IMAGES = ServiceCatalog.images('ghcr.io/rauli-vision', '1.0.0');

export function synthEnvironment(environment: string, props: Partial<RauliVisionChartProps> = {}): any[] {
  const chart = new RauliVisionChart(Testing.app(), environment, { environment, images: IMAGES, ...props });
  return Testing.synth(chart);
}

export const get = (docs: any[], kind: string, name: string) => {
  const found = docs.find(d => d.kind === kind && d.metadata?.name === name);
  if (!found) throw new Error(`${kind}/${name} not synthesized`);
  return found;
};
