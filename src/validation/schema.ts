/**
 * Schema checks: kubernetes-models (ajv-compiled OpenAPI schemas) for types,
 * enums, quantities and required fields, and a walk over the Kubernetes 1.28
 * schema shipped in cdk8s-plus-28's jsii manifest for what ajv lets through:
 * unknown fields and API versions that 1.28 does not serve.
 */
import * as fs from 'fs';
import * as path from 'path';

type Json = any;

/** Where the models of each API group live. */
const MODEL_PACKAGES: Array<[RegExp, string]> = [
  [/^monitoring\.coreos\.com\//, '@kubernetes-models/prometheus-operator'],
  [/^(cert-manager|acme\.cert-manager)\.io\//, '@kubernetes-models/cert-manager'],
  [/^gateway\.networking\.k8s\.io\//, '@kubernetes-models/gateway-api'],
  [/.*/, 'kubernetes-models'],
];

export function modelFor(apiVersion: string, kind: string): { validate(): void } | undefined {
  const pkg = MODEL_PACKAGES.find(([re]) => re.test(apiVersion))![1];
  let mod: Json;
  try {
    // The module depends on the object's apiVersion: only known at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(`${pkg}/${apiVersion}`);
  } catch {
    return undefined;
  }
  return mod[kind];
}

export function schemaErrors(doc: Json): string[] {
  const Model: Json = modelFor(doc.apiVersion, doc.kind);
  if (!Model) return [`no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`];
  try {
    new Model(doc).validate();
    return [];
  } catch (e: any) {
    const details = Array.isArray(e.errors)
      ? e.errors.map((x: Json) => `${x.instancePath || '/'} ${x.message}${x.params?.allowedValues ? ` (${x.params.allowedValues.join(', ')})` : ''}`)
      : [String(e.message)];
    return details.map((d: string) => `schema: ${d}`);
  }
}

interface JsiiProperty { name: string; type: Json; docs?: { custom?: { schema?: string } } }
interface K8sSchema {
  types: Record<string, { properties?: JsiiProperty[]; kind: string }>;
  roots: Map<string, string>; // "apiVersion/Kind" -> props fqn
}

let cached: K8sSchema | undefined;

/** The Kubernetes 1.28 API, as cdk8s-plus-28 imported it. */
function k8sSchema(): K8sSchema {
  if (cached) return cached;
  const pkgDir = path.dirname(require.resolve('cdk8s-plus-28/package.json'));
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, '.jsii'), 'utf-8'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { k8s } = require('cdk8s-plus-28');
  const roots = new Map<string, string>();
  for (const [name, cls] of Object.entries<Json>(k8s)) {
    if (cls?.GVK) roots.set(`${cls.GVK.apiVersion}/${cls.GVK.kind}`, `cdk8s-plus-28.k8s.${name}Props`);
  }
  cached = { types: manifest.types, roots };
  return cached;
}

/** True when Kubernetes 1.28 serves this core API version and kind. */
export function isCoreKind(apiVersion: string, kind: string): boolean {
  return k8sSchema().roots.has(`${apiVersion}/${kind}`);
}

export function isCoreGroup(apiVersion: string): boolean {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return group === '' || group.endsWith('.k8s.io') && !group.startsWith('gateway.') || !group.includes('.');
}

/** Lists fields the 1.28 schema does not know, as JSON paths. */
export function unknownFields(doc: Json): string[] {
  const schema = k8sSchema();
  const fqn = schema.roots.get(`${doc.apiVersion}/${doc.kind}`);
  if (!fqn) return [];
  const out: string[] = [];
  const { apiVersion, kind, ...rest } = doc;
  walk(schema, rest, { fqn }, '', out);
  return out;
}

function walk(schema: K8sSchema, value: Json, type: Json, at: string, out: string[]): void {
  if (value === null || value === undefined || !type) return;
  if (type.collection) {
    const element = type.collection.elementtype;
    if (type.collection.kind === 'array' && Array.isArray(value)) {
      value.forEach((v, i) => walk(schema, v, element, `${at}[${i}]`, out));
    } else if (type.collection.kind === 'map' && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(schema, v, element, `${at}.${k}`, out);
    }
    return;
  }
  if (!type.fqn) return;
  const fqn = type.fqn === 'cdk8s.ApiObjectMetadata' ? 'cdk8s-plus-28.k8s.ObjectMeta' : type.fqn;
  const t = schema.types[fqn];
  // Classes (Quantity, IntOrString) and enums are leaves.
  if (!t || t.kind !== 'interface' || typeof value !== 'object' || Array.isArray(value)) return;
  const byJsonName = new Map<string, JsiiProperty>();
  for (const p of t.properties ?? []) {
    const jsonName = p.docs?.custom?.schema?.split('#')[1] ?? p.name;
    byJsonName.set(jsonName, p);
  }
  for (const [k, v] of Object.entries(value)) {
    const prop = byJsonName.get(k);
    if (!prop) {
      out.push(`${at ? at.replace(/^\./, '') + '.' : ''}${k}`);
      continue;
    }
    walk(schema, v, prop.type, `${at}.${k}`, out);
  }
}
