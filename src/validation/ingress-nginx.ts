/**
 * ingress-nginx annotations that only work when the controller's own
 * configuration (its ConfigMap; Helm chart `controller.config`) allows or
 * completes them. An Ingress that passes schema validation can still take the
 * whole site down: `custom-headers` naming a header the controller does not
 * allow makes it deny every location of the Ingress with a 503.
 */
type Json = any;

const PREFIX = 'nginx.ingress.kubernetes.io/';

const listOf = (value: string | undefined) => (value ?? '').split(',').map(s => s.trim().toLowerCase()).filter(Boolean);

/** Problems of one Ingress against the controller configuration; [] for other objects. */
export function ingressControllerErrors(doc: Json, all: Json[], config: { [key: string]: string } | undefined): string[] {
  if (doc.kind !== 'Ingress') return [];
  const annotations: { [key: string]: string } = doc.metadata?.annotations ?? {};
  const used = Object.keys(annotations).filter(k => k.startsWith(PREFIX));
  if (used.length === 0) return [];
  const errors: string[] = [];
  const missing = (annotation: string, setting: string, why: string) =>
    errors.push(`annotation ${annotation} needs the controller setting ${setting}${config ? '' : ' (pass ingressControllerConfig: the controller ConfigMap the platform writes)'}: ${why}`);
  const c = config ?? {};

  const customHeaders = annotations[`${PREFIX}custom-headers`];
  if (customHeaders !== undefined) {
    const [ns, name] = customHeaders.includes('/') ? customHeaders.split('/') : [doc.metadata?.namespace, customHeaders];
    const cm = all.find(d => d?.kind === 'ConfigMap' && d.metadata?.name === name && (d.metadata?.namespace ?? ns) === ns);
    const allowed = new Set(listOf(c['global-allowed-response-headers']));
    const denied = Object.keys(cm?.data ?? {}).filter(h => !allowed.has(h.toLowerCase()));
    if (!cm) errors.push(`annotation ${PREFIX}custom-headers names ConfigMap ${customHeaders}, which is not among the objects`);
    if (denied.length) {
      missing(`${PREFIX}custom-headers`, `global-allowed-response-headers (lacks ${denied.join(', ')})`, 'the controller answers 503 for every location of this Ingress');
    }
  }
  const limits = used.filter(k => /\/limit-(rps|rpm|connections)$/.test(k));
  if (limits.length && c['limit-req-status-code'] !== '429') {
    missing(limits[0], 'limit-req-status-code: "429"', 'rejected requests get 503, which clients and alerts read as an outage');
  }
  for (const k of used.filter(x => x.endsWith('-snippet'))) {
    missing(k, 'allow-snippet-annotations: "true"', 'snippets are off by default and the controller ignores the annotation');
  }
  return errors;
}
