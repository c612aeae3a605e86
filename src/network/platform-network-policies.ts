import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Components, DataConventions } from '../conventions';
import { NamespaceIsolation } from './namespace-isolation';
import { namespacePeer } from './peers';
import { validateDnsLabel } from '../core/validate';
import { HttpService } from '../workload/http-service';

/** The flows of one application service; anything not listed is denied. */
export interface ServiceFlows {
  /** The service. */
  readonly service: HttpService;
  /**
   * The edge (ingress controller or Gateway) reaches its HTTP port.
   * @default false
   */
  readonly fromEdge?: boolean;
  /**
   * Services it calls on their HTTP port.
   * @default - none
   */
  readonly calls?: HttpService[];
  /**
   * It connects to PostgreSQL.
   * @default false
   */
  readonly postgres?: boolean;
  /**
   * It connects to the Redis Cluster.
   * @default false
   */
  readonly redis?: boolean;
}

/** Port cert-manager's HTTP-01 solver pods serve the challenge on. */
const ACME_SOLVER_PORT = 8089;

export interface PlatformNetworkPoliciesProps {
  /**
   * Namespace of the ingress controller (or Gateway) that reaches the routed services.
   * @default 'ingress-nginx'
   */
  readonly ingressNamespace?: string;
  /**
   * Namespace of Prometheus, which scrapes the metrics ports.
   * @default 'monitoring'
   */
  readonly monitoringNamespace?: string;
  /**
   * The application services and their flows.
   * @default - none: only the default deny and DNS
   */
  readonly services?: ServiceFlows[];
  /**
   * Namespace of PostgreSQL and the Redis Cluster.
   * @default - this namespace
   */
  readonly dataNamespace?: string;
}

type Peer = k8s.NetworkPolicyPeer;

/**
 * Default deny for the whole namespace (`NamespaceIsolation`), DNS for every pod, the edge to
 * cert-manager's HTTP-01 solver, then for each service exactly its declared
 * flows: edge -> routed services, caller -> callee, service -> PostgreSQL /
 * Redis, Prometheus -> metrics port. The data tier's own ingress rules (who
 * may connect to it) live with its constructs.
 */
export class PlatformNetworkPolicies extends Construct {
  private readonly ingressNamespace: string;
  private readonly monitoringNamespace: string;
  private readonly dataNamespace?: string;

  constructor(scope: Construct, id: string, props: PlatformNetworkPoliciesProps = {}) {
    super(scope, id);
    this.ingressNamespace = validateDnsLabel('ingressNamespace', props.ingressNamespace ?? 'ingress-nginx');
    this.monitoringNamespace = validateDnsLabel('monitoringNamespace', props.monitoringNamespace ?? 'monitoring');
    this.dataNamespace = props.dataNamespace === undefined ? undefined : validateDnsLabel('dataNamespace', props.dataNamespace);
    const services = props.services ?? [];

    this.addNamespaceDefaults();
    for (const flows of services) {
      const callers = services.filter(f => (f.calls ?? []).includes(flows.service)).map(f => f.service);
      this.addIngress(flows, callers);
      this.addEgress(flows);
    }
  }

  private policy(name: string, spec: k8s.NetworkPolicySpec): k8s.KubeNetworkPolicy {
    return new k8s.KubeNetworkPolicy(this, name, { metadata: { name }, spec });
  }

  private addNamespaceDefaults(): void {
    new NamespaceIsolation(this, 'Isolation');
    // cert-manager's HTTP-01 solver pods run in this namespace; the edge must reach them or no certificate is issued.
    this.policy('allow-edge-to-acme-solver', {
      podSelector: { matchLabels: { 'acme.cert-manager.io/http01-solver': 'true' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [namespacePeer(this.ingressNamespace)], ports: [tcp(ACME_SOLVER_PORT)] }],
    });
  }

  private addIngress(flows: ServiceFlows, callers: HttpService[]): void {
    const s = flows.service;
    const rules: k8s.NetworkPolicyIngressRule[] = [];
    if (flows.fromEdge) rules.push({ from: [namespacePeer(this.ingressNamespace)], ports: [tcp(s.containerPort)] });
    if (callers.length > 0) rules.push({ from: callers.map(componentPeer), ports: [tcp(s.containerPort)] });
    if (s.metricsPort) rules.push({ from: [namespacePeer(this.monitoringNamespace)], ports: [tcp(s.metricsPort)] });
    if (rules.length === 0) return;
    this.policy(`${s.name}-ingress`, { podSelector: componentSelector(s.component), policyTypes: ['Ingress'], ingress: rules });
  }

  private addEgress(flows: ServiceFlows): void {
    const s = flows.service;
    const rules: k8s.NetworkPolicyEgressRule[] = [];
    if (flows.postgres) rules.push({ to: [this.dataPeer(Components.POSTGRES)], ports: [tcp(DataConventions.POSTGRES_PORT)] });
    // Cluster clients follow MOVED redirects to every node, on the client port only.
    if (flows.redis) rules.push({ to: [this.dataPeer(Components.REDIS)], ports: [tcp(DataConventions.REDIS_PORT)] });
    for (const callee of flows.calls ?? []) rules.push({ to: [componentPeer(callee)], ports: [tcp(callee.containerPort)] });
    if (rules.length === 0) return;
    this.policy(`${s.name}-egress`, { podSelector: componentSelector(s.component), policyTypes: ['Egress'], egress: rules });
  }
  /** The data tier's pods of `component`, in the data namespace when it is another one. */
  private dataPeer(component: string): Peer {
    return this.dataNamespace ? { ...namespacePeer(this.dataNamespace), ...componentPeer(component) } : componentPeer(component);
  }
}

function componentSelector(component: string): k8s.LabelSelector {
  return { matchLabels: { [Components.LABEL]: component } };
}

function componentPeer(target: string | HttpService): Peer {
  return { podSelector: componentSelector(typeof target === 'string' ? target : target.component) };
}


function tcp(port: number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) };
}
