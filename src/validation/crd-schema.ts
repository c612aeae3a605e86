/**
 * Validation of custom resources against the CustomResourceDefinitions a
 * cluster serves: give the harness the CRD files of the operators you run
 * (their release manifests, or `kubectl get crd -o yaml > crds.yaml` from your
 * own cluster) and every object of those kinds is checked against the
 * structural schema the API server would apply.
 *
 * What the API server does and this does too: types, enums, required fields,
 * patterns, bounds, int-or-string, nullable, and unknown fields (the server
 * prunes or, with strict field validation, rejects them: here they are errors,
 * because a pruned field is a setting that silently never applies), served
 * versions and scope. What it does not: CEL rules (`x-kubernetes-validations`)
 * and defaulting.
 */
// The harness's users install ajv with the other validators (see the module doc of ./index).
// eslint-disable-next-line import/no-extraneous-dependencies
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { Yaml } from 'cdk8s';

type Json = any;

interface CrdVersion {
  readonly validate?: ValidateFunction;
  readonly served: boolean;
}

interface CrdKind {
  readonly group: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly versions: Map<string, CrdVersion>;
}

/** The kinds some CRD files define, with a compiled schema per version. */
export class CrdSchemas {
  /** Reads every CustomResourceDefinition in the files (other documents are skipped). */
  public static fromFiles(files: string[]): CrdSchemas {
    const crds: Json[] = [];
    for (const file of files) {
      for (const doc of Yaml.load(file)) {
        // `kubectl get crd -o yaml` wraps them in a List.
        const items = doc?.kind === 'List' ? doc.items ?? [] : [doc];
        crds.push(...items.filter((d: Json) => d?.kind === 'CustomResourceDefinition'));
      }
    }
    if (crds.length === 0) throw new Error(`crdFiles: no CustomResourceDefinition in ${files.join(', ')}`);
    return new CrdSchemas(crds);
  }

  private readonly kinds = new Map<string, CrdKind>();

  private constructor(crds: Json[]) {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    for (const crd of crds) {
      const { group, names, scope, versions } = crd.spec;
      const compiled = new Map<string, CrdVersion>();
      for (const v of versions ?? []) {
        const schema = v.schema?.openAPIV3Schema;
        compiled.set(v.name, { served: v.served !== false, validate: schema ? ajv.compile(toJsonSchema(schema, true)) : undefined });
      }
      this.kinds.set(`${group}/${names.kind}`, { group, kind: names.kind, namespaced: scope !== 'Cluster', versions: compiled });
    }
  }

  /** True when one of the files defines this kind (in any version). */
  public covers(apiVersion: string, kind: string): boolean {
    return this.kinds.has(`${groupOf(apiVersion)}/${kind}`);
  }

  /** Every `group/Kind` the files define. */
  public kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  /** Problems of one object, as JSON-pointer paths with messages; [] when it is valid. */
  public errors(doc: Json): string[] {
    const crd = this.kinds.get(`${groupOf(doc.apiVersion)}/${doc.kind}`);
    if (!crd) return [];
    const version = String(doc.apiVersion).split('/')[1];
    const v = crd.versions.get(version);
    const served = [...crd.versions].filter(([, x]) => x.served).map(([n]) => n);
    if (!v || !v.served) return [`${doc.apiVersion} is not served by the installed CRD (served: ${served.join(', ')})`];
    const out: string[] = [];
    if (crd.namespaced && !doc.metadata?.namespace) out.push(`namespaced ${doc.kind} has no metadata.namespace`);
    if (!crd.namespaced && doc.metadata?.namespace) out.push(`cluster-scoped ${doc.kind} must not set metadata.namespace`);
    if (v.validate && !v.validate(doc)) out.push(...(v.validate.errors ?? []).map(describe));
    return out;
  }
}

function groupOf(apiVersion: string): string {
  return String(apiVersion).includes('/') ? String(apiVersion).split('/')[0] : '';
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `crd schema: unknown field ${at === '/' ? '' : at + '/'}${(e.params as Json).additionalProperty}`;
  const allowed = (e.params as Json).allowedValues;
  return `crd schema: ${at} ${e.message}${allowed ? ` (${allowed.join(', ')})` : ''}`;
}

/**
 * An OpenAPI v3 structural schema as the API server reads it, in JSON Schema
 * terms: objects take only the fields they declare unless they preserve
 * unknown fields or declare additionalProperties.
 */
function toJsonSchema(node: Json, root = false): Json {
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries<Json>(node)) {
    if (k.startsWith('x-kubernetes-') || k === 'description' || k === 'nullable') continue;
    if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries<Json>(v).map(([p, s]) => [p, toJsonSchema(s)]));
    } else if (k === 'items' || k === 'not') {
      out[k] = toJsonSchema(v);
    } else if (k === 'additionalProperties' && typeof v === 'object') {
      out.additionalProperties = toJsonSchema(v);
    } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
      // Structural schemas only constrain values inside these; they never declare fields.
      out[k] = v.map((s: Json) => {
        const branch = toJsonSchema(s);
        delete branch.additionalProperties;
        return branch;
      });
    } else {
      out[k] = v;
    }
  }
  if (node['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [...(out.anyOf ?? []), { type: 'integer' }, { type: 'string' }];
  }
  if (node.nullable && out.type) out.type = [out.type, 'null'];
  const preserves = node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-embedded-resource'] === true;
  if (out.type === 'object' && !preserves && node.additionalProperties === undefined) out.additionalProperties = false;
  if (root) {
    // metadata is ObjectMeta, validated by the API server itself.
    out.properties = { ...out.properties, metadata: { type: 'object' } };
  }
  return out;
}
