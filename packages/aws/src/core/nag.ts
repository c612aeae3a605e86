/**
 * cdk-nag acknowledgements recorded through aws-cdk-lib's own `Validations`
 * API (what cdk-nag 3 reads), so the constructs carry the reasons for their
 * deliberate findings without depending on cdk-nag.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Acknowledges one finding of a rule (e.g. `AwsSolutions-S1`) on a construct and everything below it. */
export function acknowledge(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}

/**
 * Acknowledges `AwsSolutions-IAM5` for exactly these wildcard resources and no
 * other: cdk-nag names each finding `AwsSolutions-IAM5[Resource::<flattened ARN>]`,
 * with references flattened to `<LogicalId.Attribute>` (its flattenCfnReference),
 * and cdk-nag 3 matches acknowledgements by that exact name.
 */
export function acknowledgeWildcardResources(scope: IConstruct, resources: string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    acknowledge(scope, `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(resource))}]`, reason);
  }
}

/** Acknowledges `AwsSolutions-IAM5` for exactly these wildcard actions (e.g. `kms:GenerateDataKey*`). */
export function acknowledgeWildcardActions(scope: IConstruct, actions: string[], reason: string): void {
  for (const action of actions) {
    acknowledge(scope, `AwsSolutions-IAM5[Action::${action}]`, reason);
  }
}

function flatten(node: any): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return items.map(flatten).join(delimiter);
  }
  if (node['Fn::Sub']) return flatten(node['Fn::Sub']);
  if (node['Fn::GetAtt']) return `<${flatten(node['Fn::GetAtt'][0])}.${flatten(node['Fn::GetAtt'][1])}>`;
  if (node['Fn::ImportValue']) return flatten(node['Fn::ImportValue']);
  if (node.Ref) return `<${flatten(node.Ref)}>`;
  return JSON.stringify(node);
}
