import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { dnsEgressRule } from './peers';
import { validateDnsLabel } from '../core/validate';

export interface NamespaceIsolationProps {
  /**
   * The namespace the two policies isolate.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Prefix of the two policies' names (`<prefix>default-deny`, `<prefix>allow-dns`).
   * @default - none
   */
  readonly namePrefix?: string;
}

/**
 * Default deny for every pod of one namespace, and DNS for all of them: each
 * workload then admits exactly its own flows with policies of its own.
 */
export class NamespaceIsolation extends Construct {
  constructor(scope: Construct, id: string, props: NamespaceIsolationProps = {}) {
    super(scope, id);
    const namespace = props.namespace === undefined ? undefined : validateDnsLabel('namespace', props.namespace);
    const prefix = props.namePrefix ?? '';
    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: `${prefix}default-deny`, namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, 'AllowDns', {
      metadata: { name: `${prefix}allow-dns`, namespace },
      spec: { podSelector: {}, policyTypes: ['Egress'], egress: [dnsEgressRule()] },
    });
  }
}
