/** NodegroupApi on the real EKS API (AWS SDK v3, which the Lambda Node.js runtime ships). */
// A devDependency on purpose: the runtime provides the SDK, so neither the package nor the asset ships it.
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  DescribeNodegroupCommand, EKSClient, ListNodegroupsCommand, TagResourceCommand, UntagResourceCommand, UpdateNodegroupConfigCommand,
} from '@aws-sdk/client-eks';
import { Nodegroup, NodegroupApi, NodegroupSize } from './scale-down';

export class EksNodegroupApi implements NodegroupApi {
  constructor(private readonly eks: Pick<EKSClient, 'send'>) {}

  public async listNodegroups(clusterName: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.eks.send(new ListNodegroupsCommand({ clusterName, nextToken }));
      names.push(...page.nodegroups ?? []);
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  public async describeNodegroup(clusterName: string, name: string): Promise<Nodegroup> {
    const { nodegroup } = await this.eks.send(new DescribeNodegroupCommand({ clusterName, nodegroupName: name }));
    const scaling = nodegroup?.scalingConfig;
    if (!nodegroup?.nodegroupArn || scaling?.minSize === undefined || scaling.desiredSize === undefined || scaling.maxSize === undefined) {
      throw new Error(`node group ${name} of ${clusterName}: DescribeNodegroup returned no ARN or scaling configuration`);
    }
    return {
      name,
      arn: nodegroup.nodegroupArn,
      size: { minSize: scaling.minSize, desiredSize: scaling.desiredSize, maxSize: scaling.maxSize },
      tags: nodegroup.tags ?? {},
    };
  }

  public async updateSize(clusterName: string, name: string, size: NodegroupSize): Promise<void> {
    await this.eks.send(new UpdateNodegroupConfigCommand({ clusterName, nodegroupName: name, scalingConfig: { ...size } }));
  }

  public async tag(arn: string, tags: Record<string, string>): Promise<void> {
    await this.eks.send(new TagResourceCommand({ resourceArn: arn, tags }));
  }

  public async untag(arn: string, keys: string[]): Promise<void> {
    await this.eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: keys }));
  }
}
