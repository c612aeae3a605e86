import { Component, TextFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';
import { ServiceConventions } from '../conventions';
import { ServiceSettings } from './service-settings';

/** The generated catalog entry, type-checked against the platform by the service's build. */
export const CATALOG_ENTRY_FILE = 'src/k8s/catalog-entry.generated.ts';

/**
 * This service's entry in the platform's service catalog (`ServiceEntry`),
 * as TypeScript the platform's chart can take as it is.
 */
export function catalogEntrySnippet(s: ServiceSettings): string {
  const stores = [s.usePostgres && 'DataStore.POSTGRES', s.useRedis && 'DataStore.REDIS'].filter(Boolean);
  return [
    '{',
    `  name: '${s.serviceName}',`,
    `  component: '${s.serviceName}',`,
    '  // The tag the pipeline pushed (sha-<commit>).',
    `  image: '${s.image}:1.0.0',`,
    ...(s.servicePort !== ServiceConventions.HTTP_PORT ? [`  port: ${s.servicePort},`] : []),
    ...(stores.length ? [`  reaches: { stores: [${stores.join(', ')}] },`] : []),
    '  // To route it from the edge: route: ServiceRoute.path(\'/<a prefix it serves>/\'),',
    '  sizing: { production: { autoscaling: { minReplicas: 3, maxReplicas: 10 } } },',
    '}',
  ].join('\n');
}

/** Writes {@link CATALOG_ENTRY_FILE}, regenerated from the project's options. */
export class CatalogEntryFile extends Component {
  constructor(project: TypeScriptProject, settings: ServiceSettings) {
    super(project);
    const file = new TextFile(project, CATALOG_ENTRY_FILE, { marker: true });
    [
      `// ${file.marker}`,
      '/* eslint-disable */',
      '// This service\'s entry in the platform\'s service catalog. Add it to the platform chart:',
      '//   new RauliVisionChart(app, env, { environment: env, services: [...ServiceCatalog.defaults(images), CATALOG_ENTRY] })',
      '// and the platform derives its Deployment, autoscaler, NetworkPolicies, data-store access,',
      '// connection budget, ServiceMonitor, alert scope, edge route and Helm values from it.',
      `import { ${settings.usePostgres || settings.useRedis ? 'DataStore, ' : ''}ServiceEntry } from '@rauli-vision/platform';`,
      '',
      `export const CATALOG_ENTRY: ServiceEntry = ${catalogEntrySnippet(settings)};`,
      '',
    ].forEach(l => file.addLine(l));
  }
}
