import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Components, DataConventions, ServiceConventions } from '../conventions';
import { validateDnsLabel } from '../core/validate';

/** Port cert-manager's HTTP-01 solver pods serve the challenge on. */
const ACME_SOLVER_PORT = 8089;

export interface PlatformNetworkPoliciesProps {
  /**
   * Namespace of the ingress controller (or Gateway) that reaches the frontend and the Go backend.
   * @default 'ingress-nginx'
   */
  readonly ingressNamespace?: string;
  /**
   * Namespace of Prometheus, which scrapes the metrics ports.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * Port the application containers listen on.
   * @default ServiceConventions.HTTP_PORT
   */
  readonly httpPort?: number;
}

/**
 * Default deny for the whole namespace, then exactly the flows the
 * architecture needs: edge -> frontend, Go backend and cert-manager's HTTP-01
 * solver, Go backend -> Python
 * backend, backends -> PostgreSQL and Redis, Prometheus -> metrics ports, and
 * DNS. The data tier's own ingress rules live with its constructs.
 */
export class PlatformNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: PlatformNetworkPoliciesProps = {}) {
    super(scope, id);
    const ingressNs = validateDnsLabel('ingressNamespace', props.ingressNamespace ?? 'ingress-nginx');
    const monitoringNs = validateDnsLabel('monitoringNamespace', props.monitoringNamespace ?? 'monitoring');
    const httpPort = props.httpPort ?? ServiceConventions.HTTP_PORT;
    const component = (name: string) => ({ matchLabels: { [Components.LABEL]: name } });
    const fromNamespace = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
    const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
    const backends = { matchExpressions: [{ key: Components.LABEL, operator: 'In', values: [Components.BACKEND_GO, Components.BACKEND_PYTHON] }] };
    const policy = (name: string, spec: k8s.NetworkPolicySpec) => new k8s.KubeNetworkPolicy(this, name, { metadata: { name }, spec });

    policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    policy('allow-dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{
        to: [{ ...fromNamespace('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) }, tcp(53)],
      }],
    });
    policy('allow-edge-to-web', {
      podSelector: { matchExpressions: [{ key: Components.LABEL, operator: 'In', values: [Components.FRONTEND, Components.BACKEND_GO] }] },
      policyTypes: ['Ingress'],
      ingress: [{ from: [fromNamespace(ingressNs)], ports: [tcp(httpPort)] }],
    });
    // cert-manager's HTTP-01 solver pods run in this namespace; the edge must reach them or no certificate is issued.
    policy('allow-edge-to-acme-solver', {
      podSelector: { matchLabels: { 'acme.cert-manager.io/http01-solver': 'true' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [fromNamespace(ingressNs)], ports: [tcp(ACME_SOLVER_PORT)] }],
    });
    policy('allow-go-to-python', {
      podSelector: component(Components.BACKEND_PYTHON),
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: component(Components.BACKEND_GO) }], ports: [tcp(httpPort)] }],
    });
    policy('allow-backends-egress', {
      podSelector: backends,
      policyTypes: ['Egress'],
      egress: [
        { to: [{ podSelector: component(Components.POSTGRES) }], ports: [tcp(DataConventions.POSTGRES_PORT)] },
        // Cluster clients follow MOVED redirects to every node, on the client port only.
        { to: [{ podSelector: component(Components.REDIS) }], ports: [tcp(DataConventions.REDIS_PORT)] },
        { to: [{ podSelector: component(Components.BACKEND_PYTHON) }], ports: [tcp(httpPort)] },
      ],
    });
    policy('allow-monitoring-scrape', {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{
        from: [fromNamespace(monitoringNs)],
        ports: [ServiceConventions.METRICS_PORT, DataConventions.POSTGRES_EXPORTER_PORT, DataConventions.REDIS_EXPORTER_PORT].map(tcp),
      }],
    });
  }
}
