import { Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { podSecurityLabels } from './pod-security';
import { Components } from '../conventions';
import { validateCpu, validateDnsLabel, validateInteger, validateMemory } from '../core/validate';

/** Per-container bounds and defaults (LimitRange, type Container). */
export interface LimitRangeSettings {
  /** Default CPU limit. */
  readonly defaultCpu: string;
  /** Default memory limit. */
  readonly defaultMemory: string;
  /** Default CPU request. */
  readonly defaultRequestCpu: string;
  /** Default memory request. */
  readonly defaultRequestMemory: string;
  /** Largest CPU a container may ask for. */
  readonly maxCpu: string;
  /** Largest memory a container may ask for. */
  readonly maxMemory: string;
  /** Smallest CPU a container may ask for. */
  readonly minCpu: string;
  /** Smallest memory a container may ask for. */
  readonly minMemory: string;
}

/** Namespace-wide totals (ResourceQuota). */
export interface ResourceQuotaSettings {
  /** Sum of CPU requests. */
  readonly requestsCpu: string;
  /** Sum of memory requests. */
  readonly requestsMemory: string;
  /** Sum of CPU limits. */
  readonly limitsCpu: string;
  /** Sum of memory limits. */
  readonly limitsMemory: string;
  /** Number of pods. */
  readonly pods: number;
  /** Number of PersistentVolumeClaims. */
  readonly persistentVolumeClaims: number;
  /** Sum of storage requested by PersistentVolumeClaims. */
  readonly requestsStorage: string;
}

/** The guide's cost-optimization LimitRange. */
export const DEFAULT_LIMIT_RANGE: LimitRangeSettings = {
  defaultCpu: '100m',
  defaultMemory: '128Mi',
  defaultRequestCpu: '50m',
  defaultRequestMemory: '64Mi',
  maxCpu: '500m',
  maxMemory: '512Mi',
  minCpu: '50m',
  minMemory: '64Mi',
};

export interface PlatformNamespaceProps {
  /** Namespace name; a DNS-1123 label. */
  readonly name: string;
  /**
   * Container bounds and defaults.
   * @default - the guide's LimitRange (defaults 100m/128Mi, requests 50m/64Mi, max 500m/512Mi, min 50m/64Mi)
   */
  readonly limitRange?: LimitRangeSettings;
  /** Namespace totals; size them for the autoscalers' maximum. */
  readonly quota: ResourceQuotaSettings;
  /**
   * Pod Security Standards level enforced by the namespace.
   * @default 'restricted'
   */
  readonly podSecurityLevel?: string;
  /**
   * Prefix of the LimitRange and ResourceQuota names (`<prefix>-limits`, `<prefix>-quota`).
   * @default 'rauli-vision'
   */
  readonly objectNamePrefix?: string;
  /**
   * Keep the namespace when the release that created it is uninstalled
   * (Helm's `resource-policy: keep`): for namespaces holding volumes.
   * @default false
   */
  readonly keepOnUninstall?: boolean;
}

/**
 * A namespace that enforces Pod Security Standards and bounds what it may
 * spend: Namespace, LimitRange and ResourceQuota. The LimitRange binds every
 * container of the namespace (a second one could only narrow it), so
 * workloads sized differently, such as the data tier, get a namespace of
 * their own.
 */
export class PlatformNamespace extends Construct {
  /** The namespace name. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    this.name = validateDnsLabel('name', props.name);
    const level = props.podSecurityLevel ?? 'restricted';
    if (!['restricted', 'baseline', 'privileged'].includes(level)) {
      throw new Error(`Invalid podSecurityLevel: "${level}". Expected one of 'restricted', 'baseline', 'privileged'.`);
    }
    const prefix = validateDnsLabel('objectNamePrefix', props.objectNamePrefix ?? 'rauli-vision', 56);
    const lr = props.limitRange ?? DEFAULT_LIMIT_RANGE;
    for (const k of ['defaultCpu', 'defaultRequestCpu', 'maxCpu', 'minCpu'] as const) validateCpu(`limitRange.${k}`, lr[k]);
    for (const k of ['defaultMemory', 'defaultRequestMemory', 'maxMemory', 'minMemory'] as const) validateMemory(`limitRange.${k}`, lr[k]);
    const q = props.quota;
    validateCpu('quota.requestsCpu', q.requestsCpu);
    validateCpu('quota.limitsCpu', q.limitsCpu);
    validateMemory('quota.requestsMemory', q.requestsMemory);
    validateMemory('quota.limitsMemory', q.limitsMemory);
    validateMemory('quota.requestsStorage', q.requestsStorage);
    validateInteger('quota.pods', q.pods, 1);
    validateInteger('quota.persistentVolumeClaims', q.persistentVolumeClaims, 0);

    const ns = new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: this.name,
        labels: {
          [Components.PART_OF_LABEL]: Components.PART_OF,
          ...podSecurityLabels(level),
        },
        annotations: props.keepOnUninstall ? { 'helm.sh/resource-policy': 'keep' } : undefined,
      },
    });
    // Namespaces are cluster-scoped: the chart's namespace must not leak onto it.
    if (Chart.of(this).namespace) ns.addJsonPatch(JsonPatch.remove('/metadata/namespace'));

    const qty = (v: string) => k8s.Quantity.fromString(v);
    new k8s.KubeLimitRange(this, 'LimitRange', {
      // Explicit: the chart's namespace may be another one (the data tier's namespace lives in the application's chart).
      metadata: { name: `${prefix}-limits`, namespace: this.name },
      spec: {
        limits: [{
          type: 'Container',
          default: { cpu: qty(lr.defaultCpu), memory: qty(lr.defaultMemory) },
          defaultRequest: { cpu: qty(lr.defaultRequestCpu), memory: qty(lr.defaultRequestMemory) },
          max: { cpu: qty(lr.maxCpu), memory: qty(lr.maxMemory) },
          min: { cpu: qty(lr.minCpu), memory: qty(lr.minMemory) },
        }],
      },
    });

    new k8s.KubeResourceQuota(this, 'ResourceQuota', {
      metadata: { name: `${prefix}-quota`, namespace: this.name },
      spec: {
        hard: {
          'requests.cpu': qty(q.requestsCpu),
          'requests.memory': qty(q.requestsMemory),
          'limits.cpu': qty(q.limitsCpu),
          'limits.memory': qty(q.limitsMemory),
          'pods': qty(String(q.pods)),
          'persistentvolumeclaims': qty(String(q.persistentVolumeClaims)),
          'requests.storage': qty(q.requestsStorage),
          // Exposure goes through the edge, never through node ports or cloud load balancers.
          'services.nodeports': qty('0'),
          'services.loadbalancers': qty('0'),
        },
      },
    });
  }
}
