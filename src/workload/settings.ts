import { deepMerge } from '../core/merge';
import { validateCpu, validateInteger, validateMemory, PropValidationError } from '../core/validate';

/**
 * CPU and memory for one container. Every field is optional: an override
 * such as `{ memoryLimit: '2Gi' }` keeps the preset's (or the workload's
 * default) other fields.
 */
export interface ResourceSettings {
  /**
   * CPU the scheduler reserves, e.g. '250m'.
   * @default - the preset's value, else the workload's default
   */
  readonly cpuRequest?: string;
  /**
   * CPU ceiling, e.g. '500m'.
   * @default - the preset's value, else the workload's default
   */
  readonly cpuLimit?: string;
  /**
   * Memory the scheduler reserves, e.g. '256Mi'.
   * @default - the preset's value, else the workload's default
   */
  readonly memoryRequest?: string;
  /**
   * Memory ceiling, e.g. '512Mi'.
   * @default - the preset's value, else the workload's default
   */
  readonly memoryLimit?: string;
}

/** ResourceSettings with every field set: what a workload's defaults are and what it renders. */
export type Resources = Required<ResourceSettings>;

/** One HorizontalPodAutoscaler scaling policy window. */
export interface ScalingBehavior {
  /** Seconds of history the autoscaler considers before acting. */
  readonly stabilizationWindowSeconds: number;
  /** Largest change per period, in percent of the current replicas. */
  readonly percent: number;
  /** Length of the policy period in seconds. */
  readonly periodSeconds: number;
}

/** CPU and memory driven autoscaling (autoscaling/v2). */
export interface AutoscalingSettings {
  /** Fewest replicas. */
  readonly minReplicas: number;
  /** Most replicas. */
  readonly maxReplicas: number;
  /**
   * Target average CPU utilization, percent of the request.
   * @default 70
   */
  readonly cpuUtilization?: number;
  /**
   * Target average memory utilization, percent of the request.
   * @default 80
   */
  readonly memoryUtilization?: number;
  /**
   * Scale-up behavior.
   * @default - 60 s window, at most +50 % per 60 s (the guide)
   */
  readonly scaleUp?: ScalingBehavior;
  /**
   * Scale-down behavior.
   * @default - 300 s window, at most -10 % per 60 s (the guide)
   */
  readonly scaleDown?: ScalingBehavior;
}

/** The per-environment knobs of one HTTP service; presets supply them and users override them. */
export interface HttpServiceSettings {
  /**
   * Replicas when autoscaling is off. Ignored when `autoscaling` is set: the
   * HorizontalPodAutoscaler owns the replica count then (the Helm convention).
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Autoscaling; when set the Deployment carries no fixed replica count.
   * @default - no autoscaling
   */
  readonly autoscaling?: AutoscalingSettings;
  /**
   * Container resources.
   * @default - 100m/128Mi requests, 250m/256Mi limits
   */
  readonly resources?: ResourceSettings;
  /**
   * Pods added above the desired count during a rolling update.
   * @default 1
   */
  readonly maxSurge?: number;
  /**
   * Pods that may be unavailable during a rolling update.
   * @default 0
   */
  readonly maxUnavailable?: number;
  /**
   * Seconds a new pod must be ready before the rollout moves on.
   * @default 0
   */
  readonly minReadySeconds?: number;
}

export const DEFAULT_RESOURCES: Resources = {
  cpuRequest: '100m', cpuLimit: '250m', memoryRequest: '128Mi', memoryLimit: '256Mi',
};
export const DEFAULT_SCALE_UP: ScalingBehavior = { stabilizationWindowSeconds: 60, percent: 50, periodSeconds: 60 };
export const DEFAULT_SCALE_DOWN: ScalingBehavior = { stabilizationWindowSeconds: 300, percent: 10, periodSeconds: 60 };

/** `overrides` deep-merged over the workload's `defaults`, each field checked. */
export function validateResources(prop: string, overrides: ResourceSettings | undefined, defaults: Resources): Resources {
  const r: Resources = deepMerge(defaults, overrides);
  validateCpu(`${prop}.cpuRequest`, r.cpuRequest);
  validateCpu(`${prop}.cpuLimit`, r.cpuLimit);
  validateMemory(`${prop}.memoryRequest`, r.memoryRequest);
  validateMemory(`${prop}.memoryLimit`, r.memoryLimit);
  return r;
}

export function validateAutoscaling(prop: string, a: AutoscalingSettings): AutoscalingSettings {
  validateInteger(`${prop}.minReplicas`, a.minReplicas, 1);
  validateInteger(`${prop}.maxReplicas`, a.maxReplicas, 1);
  if (a.minReplicas > a.maxReplicas) {
    throw new PropValidationError(`${prop}.minReplicas`, a.minReplicas, `a value no greater than ${prop}.maxReplicas (${a.maxReplicas})`);
  }
  if (a.cpuUtilization !== undefined) validateInteger(`${prop}.cpuUtilization`, a.cpuUtilization, 1, 100);
  if (a.memoryUtilization !== undefined) validateInteger(`${prop}.memoryUtilization`, a.memoryUtilization, 1, 100);
  for (const [name, b] of [['scaleUp', a.scaleUp], ['scaleDown', a.scaleDown]] as const) {
    if (!b) continue;
    validateInteger(`${prop}.${name}.stabilizationWindowSeconds`, b.stabilizationWindowSeconds, 0, 3600);
    validateInteger(`${prop}.${name}.percent`, b.percent, 1, 1000);
    validateInteger(`${prop}.${name}.periodSeconds`, b.periodSeconds, 1, 1800);
  }
  return a;
}
