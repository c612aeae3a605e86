/**
 * What the budget's scale-down function does, free of the AWS SDK so it can
 * be tested without EKS: `NodegroupApi` is the only way it touches AWS
 * (eks-nodegroups.ts implements it with @aws-sdk/client-eks).
 *
 * Scale-down sets every selected managed node group to minSize 0,
 * desiredSize 0 and maxSize 1 (EKS's smallest maximum, so a cluster
 * autoscaler reacting to Pending pods can start one node per group at most),
 * after writing its previous sizes into a tag on the node
 * group itself; restore puts those sizes back and removes the tag. The tag is
 * written first and never overwritten, so a retried or repeated notification
 * cannot lose the sizes to restore.
 */

/** Tag holding a scaled-down node group's previous sizes, e.g. `min=2 desired=3 max=10`. */
export const STATE_TAG_KEY = 'rauli-vision.com/scaled-down-from';

/** The two things the function does. */
export const ACTIONS = ['scale-down', 'restore'] as const;
export type Action = typeof ACTIONS[number];

/** A managed node group's scaling configuration. */
export interface NodegroupSize {
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
}

/** What the function needs to know about a node group. */
export interface Nodegroup {
  readonly name: string;
  readonly arn: string;
  readonly size: NodegroupSize;
  readonly tags: Readonly<Record<string, string>>;
}

/** The EKS calls the function makes. */
export interface NodegroupApi {
  listNodegroups(clusterName: string): Promise<string[]>;
  describeNodegroup(clusterName: string, name: string): Promise<Nodegroup>;
  updateSize(clusterName: string, name: string, size: NodegroupSize): Promise<void>;
  tag(arn: string, tags: Record<string, string>): Promise<void>;
  untag(arn: string, keys: string[]): Promise<void>;
}

/** Which node groups the function acts on. */
export interface ScaleDownConfig {
  readonly clusterName: string;
  /** Only node groups carrying this tag with `selectorTagValue` (the budget's environment tag). */
  readonly selectorTagKey: string;
  readonly selectorTagValue: string;
}

/** Environment variables the function reads its configuration from. */
export const ENV = { clusterName: 'CLUSTER_NAME', selectorTagKey: 'SELECTOR_TAG_KEY', selectorTagValue: 'SELECTOR_TAG_VALUE' } as const;

export type Result = 'scaled-down' | 'already-scaled-down' | 'already-at-zero' | 'restored' | 'not-scaled-down' | 'failed';

/** What happened to one node group. */
export interface Outcome {
  readonly nodegroup: string;
  readonly result: Result;
  readonly from?: NodegroupSize;
  readonly to?: NodegroupSize;
  readonly error?: string;
}

/** The function's answer: logged, and returned to a manual invocation. */
export interface RunResult {
  readonly action: Action;
  readonly clusterName: string;
  readonly outcomes: Outcome[];
}

/** What scale-down sets: no nodes, and at most one should an autoscaler ask for more (EKS requires maxSize >= 1). */
export const SCALED_DOWN: NodegroupSize = { minSize: 0, desiredSize: 0, maxSize: 1 };

const SIZE_TAG = /^min=(\d+) desired=(\d+) max=(\d+)$/;

export function formatSize(size: NodegroupSize): string {
  return `min=${size.minSize} desired=${size.desiredSize} max=${size.maxSize}`;
}

export function parseSize(nodegroup: string, value: string): NodegroupSize {
  const m = SIZE_TAG.exec(value);
  const size = m && { minSize: Number(m[1]), desiredSize: Number(m[2]), maxSize: Number(m[3]) };
  if (!size || size.maxSize < 1 || size.minSize > size.desiredSize || size.desiredSize > size.maxSize) {
    throw new Error(`node group ${nodegroup}: tag ${STATE_TAG_KEY} is ${JSON.stringify(value)}, expected 'min=<n> desired=<n> max=<n>' with min <= desired <= max and max >= 1; restore it by hand`);
  }
  return size;
}

/** Reads the configuration, naming the missing variable. */
export function configFromEnvironment(env: Record<string, string | undefined>): ScaleDownConfig {
  const read = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is not set`);
    return value;
  };
  return { clusterName: read(ENV.clusterName), selectorTagKey: read(ENV.selectorTagKey), selectorTagValue: read(ENV.selectorTagValue) };
}

/**
 * An SNS delivery (the budget's critical notification) means scale down;
 * `{"action": "scale-down"}` or `{"action": "restore"}` is a manual invocation.
 */
export function actionOf(event: unknown): Action {
  const e = (event ?? {}) as { Records?: Array<{ EventSource?: string }>; action?: unknown };
  if (Array.isArray(e.Records) && e.Records.length > 0 && e.Records.every(r => r.EventSource === 'aws:sns')) return 'scale-down';
  if (typeof e.action === 'string' && (ACTIONS as readonly string[]).includes(e.action)) return e.action as Action;
  throw new Error(`unknown event: expected an SNS notification or {"action": ${ACTIONS.map(a => `"${a}"`).join(' | ')}}, got ${JSON.stringify(event)?.slice(0, 200)}`);
}

/** Runs the action on every selected node group; throws after trying them all if any failed (the invocation is then retried). */
export async function run(api: NodegroupApi, config: ScaleDownConfig, event: unknown): Promise<RunResult> {
  const action = actionOf(event);
  const outcomes: Outcome[] = [];
  for (const nodegroup of await selected(api, config)) {
    try {
      outcomes.push(action === 'scale-down' ? await scaleDownOne(api, config, nodegroup) : await restoreOne(api, config, nodegroup));
    } catch (err) {
      outcomes.push({ nodegroup: nodegroup.name, result: 'failed', error: err instanceof Error ? err.message : String(err) });
    }
  }
  const result = { action, clusterName: config.clusterName, outcomes };
  const failed = outcomes.filter(o => o.result === 'failed');
  if (failed.length > 0) {
    throw new Error(`${action} failed for ${failed.map(f => `${f.nodegroup} (${f.error})`).join(', ')}; all outcomes: ${JSON.stringify(result)}`);
  }
  return result;
}

async function selected(api: NodegroupApi, config: ScaleDownConfig): Promise<Nodegroup[]> {
  const all = await Promise.all((await api.listNodegroups(config.clusterName)).map(n => api.describeNodegroup(config.clusterName, n)));
  return all.filter(n => n.tags[config.selectorTagKey] === config.selectorTagValue);
}

async function scaleDownOne(api: NodegroupApi, config: ScaleDownConfig, nodegroup: Nodegroup): Promise<Outcome> {
  const saved = nodegroup.tags[STATE_TAG_KEY];
  const zero = SCALED_DOWN;
  const atZero = formatSize(nodegroup.size) === formatSize(zero);
  if (saved !== undefined) {
    // A repeated notification, or a retry after a failed update: keep the sizes saved the first time.
    const from = parseSize(nodegroup.name, saved);
    if (!atZero) await api.updateSize(config.clusterName, nodegroup.name, zero);
    return { nodegroup: nodegroup.name, result: 'already-scaled-down', from, to: zero };
  }
  if (atZero) return { nodegroup: nodegroup.name, result: 'already-at-zero', from: nodegroup.size };
  await api.tag(nodegroup.arn, { [STATE_TAG_KEY]: formatSize(nodegroup.size) });
  await api.updateSize(config.clusterName, nodegroup.name, zero);
  return { nodegroup: nodegroup.name, result: 'scaled-down', from: nodegroup.size, to: zero };
}

async function restoreOne(api: NodegroupApi, config: ScaleDownConfig, nodegroup: Nodegroup): Promise<Outcome> {
  const saved = nodegroup.tags[STATE_TAG_KEY];
  if (saved === undefined) return { nodegroup: nodegroup.name, result: 'not-scaled-down', from: nodegroup.size };
  const to = parseSize(nodegroup.name, saved);
  // Someone may have raised maxSize meanwhile: never shrink it on restore.
  const target = { ...to, maxSize: Math.max(to.maxSize, nodegroup.size.maxSize) };
  if (formatSize(target) !== formatSize(nodegroup.size)) await api.updateSize(config.clusterName, nodegroup.name, target);
  await api.untag(nodegroup.arn, [STATE_TAG_KEY]);
  return { nodegroup: nodegroup.name, result: 'restored', from: nodegroup.size, to: target };
}
