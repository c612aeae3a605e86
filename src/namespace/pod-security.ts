/** The Kubernetes minor version whose Pod Security Standards the namespaces enforce. */
const POD_SECURITY_VERSION = 'v1.28';

/** Namespace labels that enforce, audit and warn at one Pod Security Standards level. */
export function podSecurityLabels(level: string): { [key: string]: string } {
  return {
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/enforce-version': POD_SECURITY_VERSION,
    'pod-security.kubernetes.io/audit': level,
    'pod-security.kubernetes.io/warn': level,
  };
}
