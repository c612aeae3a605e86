/**
 * The scale-down function's logic. No EKS API can run here, so the node
 * groups live in FakeEks, an in-memory stand-in for the NodegroupApi the
 * function uses (which also enforces what the function's IAM policy allows:
 * changes only to node groups tagged with the environment, only the state tag).
 * The SDK adapter is checked against a recording `send`, and the handler as
 * shipped in the cloud assembly is run under Node.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BudgetScaleDown } from '../src';
import { ENV, PACKAGE_DIR } from './support';
import { EksNodegroupApi } from '../src/cost/scale-down-handler/eks-nodegroups';
import {
  actionOf, configFromEnvironment, formatSize, Nodegroup, NodegroupApi, NodegroupSize, parseSize, run, ScaleDownConfig, STATE_TAG_KEY,
} from '../src/cost/scale-down-handler/scale-down';

const CONFIG: ScaleDownConfig = { clusterName: 'rauli-staging', selectorTagKey: 'environment', selectorTagValue: 'staging' };
const SNS_EVENT = { Records: [{ EventSource: 'aws:sns', Sns: { Message: 'AWS Budget Notification: ACTUAL cost greater than 95 %' } }] };
const RESTORE = { action: 'restore' };

class FakeEks implements NodegroupApi {
  public readonly calls: string[] = [];
  public readonly groups = new Map<string, { arn: string; size: NodegroupSize; tags: Record<string, string> }>();
  /** Node groups whose next update fails, as EKS does while another update is in progress. */
  public readonly busy = new Set<string>();

  public add(name: string, size: NodegroupSize, tags: Record<string, string>): this {
    this.groups.set(name, { arn: `arn:aws:eks:eu-west-1:123456789012:nodegroup/${CONFIG.clusterName}/${name}/0ab1`, size, tags: { ...tags } });
    return this;
  }

  public async listNodegroups(clusterName: string): Promise<string[]> {
    this.calls.push(`list ${clusterName}`);
    return [...this.groups.keys()];
  }

  public async describeNodegroup(_clusterName: string, name: string): Promise<Nodegroup> {
    const g = this.group(name);
    return { name, arn: g.arn, size: { ...g.size }, tags: { ...g.tags } };
  }

  public async updateSize(_clusterName: string, name: string, size: NodegroupSize): Promise<void> {
    this.calls.push(`update ${name} ${formatSize(size)}`);
    const g = this.group(name);
    this.assertEnvironment(g.tags);
    if (this.busy.delete(name)) throw new Error('ResourceInUseException: an update is in progress');
    g.size = { ...size };
  }

  public async tag(arn: string, tags: Record<string, string>): Promise<void> {
    this.calls.push(`tag ${arn.split('/')[2]} ${JSON.stringify(tags)}`);
    const g = [...this.groups.values()].find(x => x.arn === arn)!;
    this.assertEnvironment(g.tags);
    if (Object.keys(tags).some(k => k !== STATE_TAG_KEY)) throw new Error('AccessDenied: only the state tag');
    Object.assign(g.tags, tags);
  }

  public async untag(arn: string, keys: string[]): Promise<void> {
    this.calls.push(`untag ${arn.split('/')[2]} ${keys.join(',')}`);
    const g = [...this.groups.values()].find(x => x.arn === arn)!;
    this.assertEnvironment(g.tags);
    keys.forEach(k => delete g.tags[k]);
  }

  private group(name: string) {
    const g = this.groups.get(name);
    if (!g) throw new Error(`ResourceNotFoundException: ${name}`);
    return g;
  }

  private assertEnvironment(tags: Record<string, string>): void {
    if (tags.environment !== CONFIG.selectorTagValue) throw new Error('AccessDenied: aws:ResourceTag/environment');
  }
}

const size = (minSize: number, desiredSize: number, maxSize: number): NodegroupSize => ({ minSize, desiredSize, maxSize });

function cluster(): FakeEks {
  return new FakeEks()
    .add('general', size(2, 3, 10), { environment: 'staging' })
    .add('spot', size(0, 4, 8), { environment: 'staging' })
    .add('shared-tools', size(1, 1, 2), { environment: 'production' });
}

describe('scale-down', () => {
  test('sets min and desired to 0 and max to 1 on the environment\'s node groups only, saving the sizes first', async () => {
    const eks = cluster();
    const result = await run(eks, CONFIG, SNS_EVENT);
    expect(result.outcomes.map(o => [o.nodegroup, o.result])).toEqual([['general', 'scaled-down'], ['spot', 'scaled-down']]);
    expect(eks.groups.get('general')!.size).toEqual(size(0, 0, 1));
    expect(eks.groups.get('spot')!.size).toEqual(size(0, 0, 1));
    expect(eks.groups.get('general')!.tags[STATE_TAG_KEY]).toBe('min=2 desired=3 max=10');
    expect(eks.groups.get('shared-tools')!.size).toEqual(size(1, 1, 2));
    expect(eks.calls.filter(c => c.includes('shared-tools'))).toEqual([]);
    // The tag is written before the update: a failed update still leaves the sizes to restore.
    const general = eks.calls.filter(c => c.includes('general'));
    expect(general[0]).toMatch(/^tag general /);
    expect(general[1]).toBe('update general min=0 desired=0 max=1');
  });

  test('a repeated notification keeps the sizes saved the first time', async () => {
    const eks = cluster();
    await run(eks, CONFIG, SNS_EVENT);
    const second = await run(eks, CONFIG, SNS_EVENT);
    expect(second.outcomes.map(o => o.result)).toEqual(['already-scaled-down', 'already-scaled-down']);
    expect(eks.groups.get('general')!.tags[STATE_TAG_KEY]).toBe('min=2 desired=3 max=10');
    await run(eks, CONFIG, RESTORE);
    expect(eks.groups.get('general')!.size).toEqual(size(2, 3, 10));
  });

  test('a group scaled back up by hand while tagged is scaled down again, still restorable to the saved sizes', async () => {
    const eks = cluster();
    await run(eks, CONFIG, SNS_EVENT);
    eks.groups.get('general')!.size = size(1, 1, 10);
    await run(eks, CONFIG, SNS_EVENT);
    expect(eks.groups.get('general')!.size).toEqual(size(0, 0, 1));
    await run(eks, CONFIG, RESTORE);
    expect(eks.groups.get('general')!.size).toEqual(size(2, 3, 10));
  });

  test('a group already at min 0, desired 0, max 1 is left alone and not tagged', async () => {
    const eks = new FakeEks().add('idle', size(0, 0, 1), { environment: 'staging' });
    const result = await run(eks, CONFIG, SNS_EVENT);
    expect(result.outcomes).toEqual([{ nodegroup: 'idle', result: 'already-at-zero', from: size(0, 0, 1) }]);
    expect(eks.calls).toEqual(['list rauli-staging']);
  });

  test('a group idle at zero but free to grow (an autoscaled pool) is capped too, and restored to its range', async () => {
    const eks = new FakeEks().add('spot-pool', size(0, 0, 20), { environment: 'staging' });
    await run(eks, CONFIG, SNS_EVENT);
    expect(eks.groups.get('spot-pool')!.size).toEqual(size(0, 0, 1));
    await run(eks, CONFIG, RESTORE);
    expect(eks.groups.get('spot-pool')!.size).toEqual(size(0, 0, 20));
  });

  test('one failing group does not stop the others; the run fails (Lambda retries) and the retry finishes the job', async () => {
    const eks = cluster();
    eks.busy.add('general');
    await expect(run(eks, CONFIG, SNS_EVENT)).rejects.toThrow(/scale-down failed for general \(ResourceInUseException/);
    expect(eks.groups.get('spot')!.size).toEqual(size(0, 0, 1));
    expect(eks.groups.get('general')!.tags[STATE_TAG_KEY]).toBe('min=2 desired=3 max=10');
    const retry = await run(eks, CONFIG, SNS_EVENT);
    expect(retry.outcomes.map(o => o.result)).toEqual(['already-scaled-down', 'already-scaled-down']);
    expect(eks.groups.get('general')!.size).toEqual(size(0, 0, 1));
  });
});

describe('restore', () => {
  test('puts the saved sizes back and removes the tag; untouched groups are reported, not changed', async () => {
    const eks = cluster();
    await run(eks, CONFIG, SNS_EVENT);
    const result = await run(eks, CONFIG, RESTORE);
    expect(result.outcomes).toEqual([
      { nodegroup: 'general', result: 'restored', from: size(0, 0, 1), to: size(2, 3, 10) },
      { nodegroup: 'spot', result: 'restored', from: size(0, 0, 1), to: size(0, 4, 8) },
    ]);
    for (const name of ['general', 'spot']) expect(eks.groups.get(name)!.tags[STATE_TAG_KEY]).toBeUndefined();
    const again = await run(eks, CONFIG, RESTORE);
    expect(again.outcomes.map(o => o.result)).toEqual(['not-scaled-down', 'not-scaled-down']);
  });

  test('never lowers a maxSize raised meanwhile', async () => {
    const eks = cluster();
    await run(eks, CONFIG, SNS_EVENT);
    eks.groups.get('general')!.size = size(0, 0, 20);
    await run(eks, CONFIG, RESTORE);
    expect(eks.groups.get('general')!.size).toEqual(size(2, 3, 20));
  });

  test('a damaged state tag fails that group with the tag named, and leaves it tagged', async () => {
    const eks = new FakeEks().add('general', size(0, 0, 1), { environment: 'staging', [STATE_TAG_KEY]: 'min=5 desired=3 max=10' });
    await expect(run(eks, CONFIG, RESTORE)).rejects.toThrow(/general: tag rauli-vision\.com\/scaled-down-from is "min=5 desired=3 max=10", expected 'min=<n> desired=<n> max=<n>'/);
    expect(eks.groups.get('general')!.tags[STATE_TAG_KEY]).toBe('min=5 desired=3 max=10');
  });
});

describe('events and configuration', () => {
  test.each([
    [SNS_EVENT, 'scale-down'],
    [{ action: 'scale-down' }, 'scale-down'],
    [RESTORE, 'restore'],
  ])('%j -> %s', (event, action) => {
    expect(actionOf(event)).toBe(action);
  });

  test.each([[{}], [{ action: 'delete' }], [null], [{ Records: [] }], [{ Records: [{ EventSource: 'aws:sqs' }] }]])('refuses %j, naming the accepted events', event => {
    expect(() => actionOf(event)).toThrow(/unknown event: expected an SNS notification or \{"action": "scale-down" \| "restore"\}/);
  });

  test('the sizes round-trip through the tag, whose characters EKS accepts', () => {
    const s = size(2, 3, 10);
    expect(parseSize('g', formatSize(s))).toEqual(s);
    expect(formatSize(s)).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u);
    expect(() => parseSize('g', 'min=0 desired=0 max=0')).toThrow(/max >= 1/);
  });

  test('configuration comes from the environment, a missing variable is named', () => {
    expect(configFromEnvironment({ CLUSTER_NAME: 'c', SELECTOR_TAG_KEY: 'environment', SELECTOR_TAG_VALUE: 'dev' }))
      .toEqual({ clusterName: 'c', selectorTagKey: 'environment', selectorTagValue: 'dev' });
    expect(() => configFromEnvironment({ CLUSTER_NAME: 'c', SELECTOR_TAG_KEY: 'environment' })).toThrow('environment variable SELECTOR_TAG_VALUE is not set');
  });
});

describe('the AWS SDK adapter', () => {
  // A recording stand-in for EKSClient.send: checks the requests the adapter builds and how it reads the answers.
  function recorder(answers: Record<string, any[]>) {
    const sent: Array<[string, any]> = [];
    const send = async (command: any) => {
      const name = command.constructor.name;
      sent.push([name, command.input]);
      return (answers[name] ?? []).shift() ?? {};
    };
    return { sent, api: new EksNodegroupApi({ send } as any) };
  }

  test('follows ListNodegroups pages', async () => {
    const { sent, api } = recorder({ ListNodegroupsCommand: [{ nodegroups: ['a', 'b'], nextToken: 't1' }, { nodegroups: ['c'] }] });
    expect(await api.listNodegroups('rauli-staging')).toEqual(['a', 'b', 'c']);
    expect(sent).toEqual([['ListNodegroupsCommand', { clusterName: 'rauli-staging' }], ['ListNodegroupsCommand', { clusterName: 'rauli-staging', nextToken: 't1' }]]);
  });

  test('reads sizes and tags, and refuses an answer without a scaling configuration', async () => {
    const { api } = recorder({
      DescribeNodegroupCommand: [
        { nodegroup: { nodegroupArn: 'arn:x', scalingConfig: { minSize: 1, desiredSize: 2, maxSize: 3 }, tags: { environment: 'staging' } } },
        { nodegroup: { nodegroupArn: 'arn:y' } },
      ],
    });
    expect(await api.describeNodegroup('c', 'a')).toEqual({ name: 'a', arn: 'arn:x', size: size(1, 2, 3), tags: { environment: 'staging' } });
    await expect(api.describeNodegroup('c', 'b')).rejects.toThrow('node group b of c: DescribeNodegroup returned no ARN or scaling configuration');
  });

  test('sends the scaling configuration and the tag changes EKS expects', async () => {
    const { sent, api } = recorder({});
    await api.updateSize('c', 'a', size(0, 0, 1));
    await api.tag('arn:x', { [STATE_TAG_KEY]: 'min=2 desired=3 max=10' });
    await api.untag('arn:x', [STATE_TAG_KEY]);
    expect(sent).toEqual([
      ['UpdateNodegroupConfigCommand', { clusterName: 'c', nodegroupName: 'a', scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 1 } }],
      ['TagResourceCommand', { resourceArn: 'arn:x', tags: { [STATE_TAG_KEY]: 'min=2 desired=3 max=10' } }],
      ['UntagResourceCommand', { resourceArn: 'arn:x', tagKeys: [STATE_TAG_KEY] }],
    ]);
  });
});

describe('the handler as shipped', () => {
  test('the function\'s asset is JavaScript that loads with the runtime\'s SDK and answers', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'rauli-aws-scale-down-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Test', { env: ENV });
      new BudgetScaleDown(stack, 'ScaleDown', { clusterName: 'rauli-staging', environment: 'staging', topic: new sns.Topic(stack, 'T', { enforceSSL: true }) });
      const assembly = app.synth();
      const template = assembly.getStackByName('Test').template;
      const fn = Object.values<any>(template.Resources).find(r => r.Type === 'AWS::Lambda::Function');
      const assetDir = join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(assetDir, 'index.js'))).toBe(true);
      expect(readFileSync(join(assetDir, 'index.js'), 'utf8')).toContain('require("@aws-sdk/client-eks")');
      // The Lambda runtime provides @aws-sdk/*; here the package's devDependency stands in for it (NODE_PATH).
      const script = `require(${JSON.stringify(join(assetDir, 'index.js'))}).handler({ action: 'delete' }).then(() => process.exit(3), e => { console.log(e.message); process.exit(0); });`;
      const answer = (env: Record<string, string>) => spawnSync(process.execPath, ['--no-warnings', '-e', script], {
        encoding: 'utf8', env: { PATH: process.env.PATH, NODE_PATH: join(PACKAGE_DIR, 'node_modules'), AWS_REGION: 'eu-west-1', ...env },
      });
      const unconfigured = answer({});
      expect({ status: unconfigured.status, out: unconfigured.stdout.trim(), err: unconfigured.stderr }).toEqual({ status: 0, out: 'environment variable CLUSTER_NAME is not set', err: '' });
      const configured = answer(Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).map(([k, v]) => [k, String(v)])));
      expect(configured.stdout.trim()).toMatch(/^unknown event: expected an SNS notification/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
