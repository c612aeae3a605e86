import { k8s } from 'cdk8s-plus-28';

/** Every pod of the namespace `name` (its name label, set by the API server). */
export function namespacePeer(name: string): k8s.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } };
}

/** Egress to the cluster DNS (kube-dns in kube-system) on UDP and TCP 53. */
export function dnsEgressRule(): k8s.NetworkPolicyEgressRule {
  return {
    to: [{ ...namespacePeer('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) }],
  };
}
