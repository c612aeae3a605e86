/**
 * Project checks: mistakes that pass schema validation but break a rollout.
 * Each returns messages; the harness prefixes them with the object's identity.
 */
import { parseQuantity } from '../core/validate';

type Json = any;

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'ClusterIssuer', 'CustomResourceDefinition',
  'PriorityClass', 'StorageClass', 'PersistentVolume', 'GatewayClass', 'IngressClass',
]);

export function podSpecOf(doc: Json): Json | undefined {
  switch (doc.kind) {
    case 'Pod': return doc.spec;
    case 'CronJob': return doc.spec?.jobTemplate?.spec?.template?.spec;
    default: return doc.spec?.template?.spec;
  }
}

function podLabelsOf(doc: Json): Record<string, string> | undefined {
  if (doc.kind === 'CronJob') return doc.spec?.jobTemplate?.spec?.template?.metadata?.labels;
  return doc.spec?.template?.metadata?.labels;
}

function containersOf(doc: Json): Json[] {
  const spec = podSpecOf(doc);
  return [...spec?.initContainers ?? [], ...spec?.containers ?? []];
}

/** Containers and their resources, including those an operator creates from a custom resource. */
function sizedContainersOf(doc: Json): Json[] {
  // CloudNativePG gives a Cluster's `resources` to the postgres container of every instance pod.
  if (doc.kind === 'Cluster' && String(doc.apiVersion).startsWith('postgresql.cnpg.io/')) {
    return doc.spec?.resources ? [{ name: 'postgres', resources: doc.spec.resources }] : [];
  }
  return containersOf(doc);
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || !labels) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function matchesSelector(selector: Json, labels: Record<string, string> | undefined): boolean {
  if (!selector || !labels) return false;
  const okLabels = matches(selector.matchLabels ?? {}, labels);
  const okExpr = (selector.matchExpressions ?? []).every((e: Json) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: return false;
    }
  });
  return okLabels && okExpr;
}

const sameNs = (a: Json, b: Json) => (a.metadata?.namespace ?? '') === (b.metadata?.namespace ?? '');

export function projectChecks(doc: Json, all: Json[]): string[] {
  const errors: string[] = [];
  const workloads = all.filter(d => WORKLOAD_KINDS.has(d.kind) && sameNs(d, doc));

  if (CLUSTER_SCOPED.has(doc.kind) && doc.metadata?.namespace) {
    errors.push(`cluster-scoped ${doc.kind} must not set metadata.namespace (${doc.metadata.namespace})`);
  }

  for (const c of containersOf(doc)) {
    const image: string = c.image ?? '';
    const last = image.split('/').pop() ?? '';
    if (!image.includes('@sha256:') && (!last.includes(':') || last.endsWith(':latest'))) {
      errors.push(`container ${c.name} image "${image}" is not pinned (no tag or 'latest')`);
    }
  }

  if (WORKLOAD_KINDS.has(doc.kind) || doc.kind === 'Job') {
    const sel = doc.spec?.selector;
    if (doc.kind !== 'Job' && !matchesSelector(sel, podLabelsOf(doc))) {
      errors.push('spec.selector does not match spec.template.metadata.labels');
    }
  }

  if (doc.kind === 'Service' && doc.spec?.selector) {
    const targets = workloads.filter(w => matches(doc.spec.selector, podLabelsOf(w)));
    if (targets.length === 0) {
      errors.push(`selector ${JSON.stringify(doc.spec.selector)} matches no pod template in namespace ${doc.metadata?.namespace}`);
    }
    for (const port of doc.spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const found = targets.some(w => containersOf(w).some((c: Json) => (c.ports ?? []).some((p: Json) =>
        typeof target === 'number' ? p.containerPort === target : p.name === target)));
      if (targets.length && !found) errors.push(`port ${port.name ?? port.port}: targetPort ${target} exists on no selected container`);
    }
  }

  if (doc.kind === 'HorizontalPodAutoscaler') {
    const ref = doc.spec?.scaleTargetRef ?? {};
    const target = all.find(d => d.kind === ref.kind && d.metadata?.name === ref.name && sameNs(d, doc));
    if (!target) {errors.push(`scaleTargetRef ${ref.kind}/${ref.name} does not exist`);} else if (target.spec?.replicas !== undefined) {
      errors.push(`scaleTargetRef ${ref.kind}/${ref.name} sets a fixed spec.replicas (${target.spec.replicas}): the HPA and every apply would fight over it`);
    }
    if ((doc.spec?.minReplicas ?? 1) > doc.spec?.maxReplicas) errors.push('minReplicas is greater than maxReplicas');
  }

  if (WORKLOAD_KINDS.has(doc.kind)) {
    const hpa = all.find(d => d.kind === 'HorizontalPodAutoscaler' && sameNs(d, doc)
      && d.spec?.scaleTargetRef?.kind === doc.kind && d.spec?.scaleTargetRef?.name === doc.metadata?.name);
    const replicas = hpa ? hpa.spec.minReplicas ?? 1 : doc.spec?.replicas ?? 1;
    const pdb = all.find(d => d.kind === 'PodDisruptionBudget' && sameNs(d, doc) && matchesSelector(d.spec?.selector, podLabelsOf(doc)));
    if (replicas > 1 && !pdb) errors.push(`runs ${replicas} replicas but no PodDisruptionBudget selects its pods`);
  }

  if (doc.kind === 'PodDisruptionBudget') {
    if (!workloads.some(w => matchesSelector(doc.spec?.selector, podLabelsOf(w)))) errors.push('selector matches no workload');
  }

  if (doc.kind === 'ServiceMonitor') {
    // The operator looks in spec.namespaceSelector's namespaces, or the ServiceMonitor's own.
    const names: string[] | undefined = doc.spec?.namespaceSelector?.any ? undefined : doc.spec?.namespaceSelector?.matchNames;
    const inScope = (d: Json) => doc.spec?.namespaceSelector?.any || (names ? names.includes(d.metadata?.namespace) : sameNs(d, doc));
    const services = all.filter(d => d.kind === 'Service' && inScope(d) && matchesSelector(doc.spec?.selector, d.metadata?.labels));
    if (!services.length) errors.push('selector matches no Service');
    for (const ep of doc.spec?.endpoints ?? []) {
      if (ep.port && !services.some(s => (s.spec?.ports ?? []).some((p: Json) => p.name === ep.port))) {
        errors.push(`endpoint port "${ep.port}" is not a named port of any selected Service`);
      }
    }
  }

  const limitRange = all.find(d => d.kind === 'LimitRange' && sameNs(d, doc));
  const bounds = limitRange?.spec?.limits?.find((l: Json) => l.type === 'Container' && (l.max || l.min));
  if (bounds) {
    for (const c of sizedContainersOf(doc)) {
      for (const res of ['cpu', 'memory']) {
        for (const [kind, value] of [['requests', c.resources?.requests?.[res]], ['limits', c.resources?.limits?.[res]]]) {
          if (value === undefined) continue;
          if (bounds.max?.[res] && parseQuantity(String(value)) > parseQuantity(String(bounds.max[res]))) {
            errors.push(`container ${c.name} ${kind}.${res} ${value} exceeds the LimitRange max ${bounds.max[res]}: the API server would reject the pod`);
          }
          if (bounds.min?.[res] && parseQuantity(String(value)) < parseQuantity(String(bounds.min[res]))) {
            errors.push(`container ${c.name} ${kind}.${res} ${value} is below the LimitRange min ${bounds.min[res]}: the API server would reject the pod`);
          }
        }
      }
    }
  }
  return errors;
}

export function duplicateErrors(all: Json[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of all) {
    const id = `${d.apiVersion}/${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`;
    if (seen.has(id)) out.push(`duplicate object ${id}`);
    seen.add(id);
  }
  return out;
}
