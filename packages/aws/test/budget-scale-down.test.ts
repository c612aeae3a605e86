import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BudgetScaleDown, BudgetScaleDownProps } from '../src';
import { nagViolations, newStack } from './support';

function synth(props: Partial<BudgetScaleDownProps> = {}) {
  const stack = newStack();
  const topic = new sns.Topic(stack, 'Critical', { enforceSSL: true });
  const scaleDown = new BudgetScaleDown(stack, 'ScaleDown', { clusterName: 'rauli-staging', environment: 'staging', topic, ...props });
  const template = Template.fromStack(stack);
  const [role] = Object.values(template.findResources('AWS::IAM::Role'));
  return { stack, scaleDown, template, statements: role.Properties.Policies[0].PolicyDocument.Statement as any[], role };
}

const NODEGROUPS = 'arn:aws:eks:eu-west-1:123456789012:nodegroup/rauli-staging/*/*';

describe('BudgetScaleDown', () => {
  const { stack, template, statements, role } = synth();

  test('a Node.js function subscribed to the critical topic, configured with the cluster and the environment tag', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 120,
      Environment: { Variables: { CLUSTER_NAME: 'rauli-staging', SELECTOR_TAG_KEY: 'environment', SELECTOR_TAG_VALUE: 'staging' } },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: { Ref: stack.getLogicalId(stack.node.findChild('Critical').node.defaultChild as any) } });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'sns.amazonaws.com', Action: 'lambda:InvokeFunction' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });

  test('its own log group, kept a year', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('may change only node groups of this cluster tagged with the environment, and write only its state tag', () => {
    expect(statements).toEqual([
      { Sid: 'WriteOwnLog', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ScaleDownLogs/), 'Arn'] } },
      { Sid: 'ListNodegroups', Effect: 'Allow', Action: 'eks:ListNodegroups', Resource: 'arn:aws:eks:eu-west-1:123456789012:cluster/rauli-staging' },
      { Sid: 'DescribeNodegroups', Effect: 'Allow', Action: 'eks:DescribeNodegroup', Resource: NODEGROUPS },
      {
        Sid: 'ScaleEnvironmentNodegroups',
        Effect: 'Allow',
        Action: 'eks:UpdateNodegroupConfig',
        Resource: NODEGROUPS,
        Condition: { StringEquals: { 'aws:ResourceTag/environment': 'staging' } },
      },
      {
        Sid: 'SaveSizesInStateTag',
        Effect: 'Allow',
        Action: ['eks:TagResource', 'eks:UntagResource'],
        Resource: NODEGROUPS,
        Condition: { 'StringEquals': { 'aws:ResourceTag/environment': 'staging' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': [BudgetScaleDown.STATE_TAG_KEY] } },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('passes cdk-nag AwsSolutions (the node-group pattern acknowledged, nothing else)', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  test('log retention is settable', () => {
    synth({ logRetention: logs.RetentionDays.ONE_MONTH }).template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test.each<[string, Partial<BudgetScaleDownProps>, RegExp]>([
    ['production', { environment: 'production' }, /Invalid scaleDown: "environment production"\. Expected no scale-down in production: scaling it to zero is an outage/],
    ['a cluster name with a space', { clusterName: 'rauli staging' }, /Invalid scaleDown\.clusterName: "rauli staging"/],
    ['an empty cluster name', { clusterName: '' }, /Invalid scaleDown\.clusterName: ""/],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
