import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LogCollector } from './log-collector';
import { LogElasticsearch } from './log-elasticsearch';
import { LogKibana } from './log-kibana';
import { LIFECYCLE_POD_LABELS } from './log-lifecycle';
import { LoggingConventions } from '../conventions';
import { NamespaceIsolation } from '../network/namespace-isolation';
import { namespacePeer } from '../network/peers';

/** Props of {@link LoggingNetworkPolicies}. */
export interface LoggingNetworkPoliciesProps {
  readonly elasticsearch: LogElasticsearch;
  readonly kibana: LogKibana;
  readonly collector: LogCollector;
  /** Namespace of the ingress controller or Gateway that may publish Kibana. */
  readonly ingressNamespace: string;
  /** Namespace of the ECK operator, which manages Elasticsearch through its API. */
  readonly operatorNamespace: string;
  /** Elasticsearch reaches S3 for snapshots. */
  readonly snapshots: boolean;
}

/**
 * Default deny for the logging namespace, then the log path and nothing
 * else: collector -> Elasticsearch, Kibana -> Elasticsearch, node <-> node,
 * the lifecycle Job -> both APIs, the ECK operator -> Elasticsearch, users ->
 * Kibana through the edge. `kubectl port-forward` enters the pod through the
 * kubelet, which network policies do not filter. Egress that leaves the
 * cluster is HTTPS only: the API server for the collector's metadata, S3 for
 * snapshots.
 */
export class LoggingNetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: LoggingNetworkPoliciesProps) {
    super(scope, id);
    const namespace = props.elasticsearch.namespace;
    const tcp = (port: number) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) });
    const pods = (matchLabels: { [k: string]: string }) => ({ podSelector: { matchLabels } });
    const policy = (name: string, spec: k8s.NetworkPolicySpec) =>
      new k8s.KubeNetworkPolicy(this, name, { metadata: { name: `logging-${name}`, namespace }, spec });
    const es = props.elasticsearch.podLabels;
    const kb = props.kibana.podLabels;
    const beat = props.collector.podLabels;
    const HTTP = LoggingConventions.ELASTICSEARCH_PORT;
    const TRANSPORT = LoggingConventions.TRANSPORT_PORT;
    const KIBANA = LoggingConventions.KIBANA_PORT;
    // Outside the cluster: the API server's and S3's addresses are not pods.
    const anywhereHttps = { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443), tcp(6443)] };

    new NamespaceIsolation(this, 'Isolation', { namespace, namePrefix: 'logging-' });
    policy('elasticsearch-ingress', {
      podSelector: { matchLabels: es },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [pods(beat), pods(kb), pods(LIFECYCLE_POD_LABELS), namespacePeer(props.operatorNamespace)], ports: [tcp(HTTP)] },
        { from: [pods(es)], ports: [tcp(HTTP), tcp(TRANSPORT)] },
      ],
    });
    policy('elasticsearch-egress', {
      podSelector: { matchLabels: es },
      policyTypes: ['Egress'],
      egress: [
        { to: [pods(es)], ports: [tcp(HTTP), tcp(TRANSPORT)] },
        ...(props.snapshots ? [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(443)] }] : []),
      ],
    });
    policy('kibana-ingress', {
      podSelector: { matchLabels: kb },
      policyTypes: ['Ingress'],
      ingress: [{ from: [namespacePeer(props.ingressNamespace), pods(LIFECYCLE_POD_LABELS)], ports: [tcp(KIBANA)] }],
    });
    policy('kibana-egress', {
      podSelector: { matchLabels: kb },
      policyTypes: ['Egress'],
      egress: [{ to: [pods(es)], ports: [tcp(HTTP)] }],
    });
    policy('collector-egress', {
      podSelector: { matchLabels: beat },
      policyTypes: ['Egress'],
      egress: [{ to: [pods(es)], ports: [tcp(HTTP)] }, anywhereHttps],
    });
    policy('lifecycle-egress', {
      podSelector: { matchLabels: LIFECYCLE_POD_LABELS },
      policyTypes: ['Egress'],
      egress: [{ to: [pods(es)], ports: [tcp(HTTP)] }, { to: [pods(kb)], ports: [tcp(KIBANA)] }],
    });
  }
}
