/**
 * The validation harness: every synthesized object must pass it before it
 * ships. Not exported from the jsii entry point (its validators are not jsii
 * modules); import it as `@rauli-vision/platform/lib/validation` with
 * kubernetes-models, the @kubernetes-models CRD packages, ajv and
 * @monokle/validation installed as devDependencies.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { Chart, Testing, Yaml } from 'cdk8s';
import { duplicateErrors, projectChecks } from './checks';
import { CrdSchemas } from './crd-schema';
import { ingressControllerErrors } from './ingress-nginx';
import { isCoreGroup, isCoreKind, schemaErrors, unknownFields } from './schema';

type Json = any;

export { CrdSchemas } from './crd-schema';

export interface ValidationReport {
  /** Problems that would break or weaken a deployment. */
  readonly errors: string[];
  /** Best-practice findings that do not fail validation. */
  readonly warnings: string[];
}

export interface ValidateOptions {
  /** Run Pod Security Standards (restricted) and best-practice rules. Default true. */
  readonly podSecurity?: boolean;
  /**
   * CustomResourceDefinition files (operator release manifests, or
   * `kubectl get crd -o yaml` of your cluster). Objects of the kinds they
   * define are validated against them instead of the bundled models, and
   * their unknown fields are errors. Default: none.
   */
  readonly crdFiles?: string[];
  /**
   * The ingress-nginx controller's configuration (its ConfigMap data, Helm
   * chart `controller.config`; `EdgeIngress.controllerConfig`). Ingresses whose
   * annotations need a controller setting it lacks are errors. Without it,
   * every such annotation is an error.
   */
  readonly ingressControllerConfig?: { [key: string]: string };
}

const crdCache = new Map<string, CrdSchemas>();
function crdSchemas(files: string[] | undefined): CrdSchemas | undefined {
  if (!files?.length) return undefined;
  const key = files.join('\0');
  if (!crdCache.has(key)) crdCache.set(key, CrdSchemas.fromFiles(files));
  return crdCache.get(key);
}

const id = (d: Json) => `${d?.kind ?? '?'}/${d?.metadata?.namespace ? d.metadata.namespace + '/' : ''}${d?.metadata?.name ?? '?'}`;

export function validateManifests(input: Json[], options: ValidateOptions = {}): ValidationReport {
  const docs = input.filter(d => d !== null && d !== undefined);
  const errors: string[] = [];
  const warnings: string[] = [];
  const crds = crdSchemas(options.crdFiles);
  errors.push(...duplicateErrors(docs));
  for (const doc of docs) {
    if (typeof doc !== 'object' || !doc.apiVersion || !doc.kind) {
      errors.push(`${id(doc)}: not a Kubernetes object (apiVersion and kind are required)`);
      continue;
    }
    const push = (msgs: string[]) => errors.push(...msgs.map(m => `${id(doc)}: ${m}`));
    if (isCoreGroup(doc.apiVersion) && !isCoreKind(doc.apiVersion, doc.kind) && !doc.apiVersion.includes('gateway.networking.k8s.io')) {
      push([`${doc.apiVersion} ${doc.kind} is not served by Kubernetes 1.28`]);
    }
    push(crds?.covers(doc.apiVersion, doc.kind) ? crds.errors(doc) : schemaErrors(doc));
    push(unknownFields(doc).map(f => `unknown field ${f}`));
    push(projectChecks(doc, docs));
    push(ingressControllerErrors(doc, docs, options.ingressControllerConfig));
  }
  if (options.podSecurity ?? true) {
    for (const r of podSecurity(docs)) {
      const line = `${r.kind}/${r.name}: ${r.ruleId} ${r.message}`;
      (r.ruleId.startsWith('PSS') ? errors : warnings).push(line);
    }
  }
  return { errors, warnings };
}

interface PssResult { ruleId: string; kind: string; name: string; message: string }

/** Pod Security Standards (restricted) and practices rules of @monokle/validation. */
export function podSecurity(docs: Json[]): PssResult[] {
  const runner = path.join(__dirname, 'pss-runner.mjs');
  const out = execFileSync(process.execPath, [runner], {
    input: JSON.stringify({ resources: docs }),
    maxBuffer: 64 * 1024 * 1024,
    cwd: __dirname,
  });
  return JSON.parse(out.toString()).results;
}

/** Throws with every problem listed when the objects do not pass. */
export function assertValid(docs: Json[], options?: ValidateOptions): void {
  const { errors } = validateManifests(docs, options);
  if (errors.length) throw new Error(`${errors.length} validation error(s):\n  ${errors.join('\n  ')}`);
}

/** Synthesizes a chart to plain objects. */
export function synthChart(chart: Chart): Json[] {
  return Testing.synth(chart);
}

/** Reads every document of a multi-document YAML file. */
export function loadManifests(file: string): Json[] {
  return Yaml.load(file).filter(Boolean);
}
