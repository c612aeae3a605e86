import { CrdSchemas, validateManifests } from '../../src/validation';
import { allCrdFiles, crdFile } from '../support/crds';

const objectStore = (spec: any) => ({
  apiVersion: 'barmancloud.cnpg.io/v1',
  kind: 'ObjectStore',
  metadata: { name: 'backups', namespace: 'db' },
  spec,
});
const valid = {
  configuration: {
    destinationPath: 's3://bucket/pg',
    s3Credentials: { inheritFromIAMRole: true },
    wal: { compression: 'gzip' },
  },
  retentionPolicy: '30d',
};

describe('CRD schemas (the operators\' released CRD files)', () => {
  const schemas = CrdSchemas.fromFiles(allCrdFiles());

  test('knows the kinds of every targeted operator', () => {
    expect(schemas.kindNames()).toEqual(expect.arrayContaining([
      'postgresql.cnpg.io/Cluster', 'postgresql.cnpg.io/Pooler', 'postgresql.cnpg.io/ScheduledBackup',
      'barmancloud.cnpg.io/ObjectStore', 'elasticsearch.k8s.elastic.co/Elasticsearch', 'kibana.k8s.elastic.co/Kibana',
      'gateway.networking.k8s.io/HTTPRoute', 'gateway.envoyproxy.io/BackendTrafficPolicy', 'gateway.envoyproxy.io/ClientTrafficPolicy',
    ]));
  });

  test('a valid object passes', () => {
    expect(schemas.errors(objectStore(valid))).toEqual([]);
  });

  test.each<[string, any, RegExp]>([
    ['an unknown field', { ...valid, retention: '30d' }, /unknown field \/spec\/retention/],
    ['a nested unknown field', { ...valid, configuration: { ...valid.configuration, wal: { compresion: 'gzip' } } }, /unknown field \/spec\/configuration\/wal\/compresion/],
    ['a value outside the enum', { ...valid, configuration: { ...valid.configuration, wal: { compression: 'zip' } } }, /\/spec\/configuration\/wal\/compression must be equal to one of the allowed values \(.*gzip/],
    ['a wrong type', { ...valid, retentionPolicy: 30 }, /\/spec\/retentionPolicy must be string/],
    ['a missing required field', { retentionPolicy: '30d' }, /\/spec must have required property 'configuration'/],
  ])('rejects %s', (_name, spec, expected) => {
    expect(schemas.errors(objectStore(spec)).join('\n')).toMatch(expected);
  });

  test('rejects a version the CRD does not serve, and a namespaced kind without a namespace', () => {
    expect(schemas.errors({ ...objectStore(valid), apiVersion: 'barmancloud.cnpg.io/v2' })).toEqual([
      'barmancloud.cnpg.io/v2 is not served by the installed CRD (served: v1)',
    ]);
    expect(schemas.errors({ ...objectStore(valid), metadata: { name: 'x' } })).toEqual(['namespaced ObjectStore has no metadata.namespace']);
  });

  test('int-or-string fields take both', () => {
    const route = (port: any) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'ns' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port }] }] },
    });
    expect(schemas.errors(route(80))).toEqual([]);
    expect(schemas.errors(route('80')).join()).toMatch(/port must be integer/);
  });

  test('validateManifests uses the CRD files for their kinds', () => {
    const files = [crdFile('barman-cloud-v0.14.0-objectstores.yaml')];
    expect(validateManifests([objectStore(valid)], { crdFiles: files, podSecurity: false }).errors).toEqual([]);
    expect(validateManifests([objectStore({ ...valid, retention: 1 })], { crdFiles: files, podSecurity: false }).errors)
      .toEqual(['ObjectStore/db/backups: crd schema: unknown field /spec/retention']);
    // Without the CRD the harness has no schema for the kind and says so.
    expect(validateManifests([objectStore(valid)], { podSecurity: false }).errors.join()).toMatch(/no schema for apiVersion barmancloud.cnpg.io\/v1/);
  });

  test('a file without CRDs is refused, naming the option', () => {
    expect(() => CrdSchemas.fromFiles([__filename])).toThrow(/crdFiles: no CustomResourceDefinition/);
  });
});
