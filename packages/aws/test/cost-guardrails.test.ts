import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CostAllocationTags, CostGuardrails, CostGuardrailsProps } from '../src';
import { ENV, nagViolations, newStack } from './support';
import { CostConventions } from '../src/conventions.generated';

function synth(props?: CostGuardrailsProps) {
  const stack = newStack();
  const guardrails = new CostGuardrails(stack, 'Cost', props);
  const template = Template.fromStack(stack);
  const [budget] = Object.values(template.findResources('AWS::Budgets::Budget'));
  return { stack, guardrails, template, budget: budget.Properties, dependsOn: budget.DependsOn as string[] };
}

const notification = (type: string, threshold: number) => ({ ComparisonOperator: 'GREATER_THAN', NotificationType: type, Threshold: threshold, ThresholdType: 'PERCENTAGE' });

describe('CostGuardrails defaults', () => {
  const { stack, guardrails, template, budget, dependsOn } = synth();
  const topicRef = { Ref: expect.stringMatching(/^CostTopic/) };

  test('a monthly COST budget of 1000 USD (the seed)', () => {
    expect(budget.Budget).toEqual({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: CostConventions.MONTHLY_BUDGET_USD, Unit: 'USD' } });
    expect(guardrails.monthlyLimitUsd).toBe(1000);
  });

  test('warning at 80 % and critical at 95 % of ACTUAL cost, to the topic', () => {
    expect(budget.NotificationsWithSubscribers).toEqual([
      { Notification: notification('ACTUAL', 80), Subscribers: [{ SubscriptionType: 'SNS', Address: topicRef }] },
      { Notification: notification('ACTUAL', 95), Subscribers: [{ SubscriptionType: 'SNS', Address: topicRef }] },
    ]);
  });

  test('the topic is KMS-encrypted with a rotated key and refuses plain HTTP', () => {
    const [topic] = Object.values(template.findResources('AWS::SNS::Topic'));
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CostTopicKey/), 'Arn'] });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
      Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
  });

  test('AWS Budgets, and only for this account, may publish to the topic and use its key', () => {
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
      Sid: 'AllowBudgetsToPublish',
      Effect: 'Allow',
      Principal: { Service: 'budgets.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topicRef,
      Condition: { StringEquals: { 'aws:SourceAccount': ENV.account }, ArnLike: { 'aws:SourceArn': `arn:aws:budgets::${ENV.account}:*` } },
    });
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'AllowBudgetsToUseTheKey',
      Principal: { Service: 'budgets.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } },
    }));
  });

  test('the budget is created after the topic policy (Budgets checks it may publish)', () => {
    expect(dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CostTopicPolicy/)]));
  });

  test('passes cdk-nag AwsSolutions', () => {
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('CostGuardrails settings', () => {
  test('e-mail and topic subscribers, custom thresholds, forecasted notifications', () => {
    const { budget } = synth({
      budgetName: 'rauli-vision-staging',
      monthlyLimitUsd: 250.5,
      warningThresholdPercent: 50,
      criticalThresholdPercent: 100,
      notifyOnForecast: true,
      emailSubscribers: ['ops@rauli-vision.com', 'finance@rauli-vision.com'],
    });
    expect(budget.Budget.BudgetName).toBe('rauli-vision-staging');
    expect(budget.Budget.BudgetLimit).toEqual({ Amount: 250.5, Unit: 'USD' });
    const subscribers = [
      { SubscriptionType: 'EMAIL', Address: 'ops@rauli-vision.com' },
      { SubscriptionType: 'EMAIL', Address: 'finance@rauli-vision.com' },
      { SubscriptionType: 'SNS', Address: { Ref: expect.stringMatching(/^CostTopic/) } },
    ];
    expect(budget.NotificationsWithSubscribers).toEqual([
      { Notification: notification('ACTUAL', 50), Subscribers: subscribers },
      { Notification: notification('ACTUAL', 100), Subscribers: subscribers },
      { Notification: notification('FORECASTED', 50), Subscribers: subscribers },
      { Notification: notification('FORECASTED', 100), Subscribers: subscribers },
    ]);
  });

  test('e-mail only: no topic, no key', () => {
    const { template, budget, guardrails } = synth({ createTopic: false, emailSubscribers: ['ops@rauli-vision.com'] });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(guardrails.topic).toBeUndefined();
    expect(budget.NotificationsWithSubscribers[0].Subscribers).toEqual([{ SubscriptionType: 'EMAIL', Address: 'ops@rauli-vision.com' }]);
  });

  test('an existing topic of the app gets the publish permission', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });
    new CostGuardrails(stack, 'Cost', { topic });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Sid: 'AllowBudgetsToPublish', Resource: { Ref: expect.stringMatching(/^Alerts/) } }));
  });
});

describe('CostGuardrails validation', () => {
  test.each<[string, CostGuardrailsProps, RegExp]>([
    ['warning threshold 0', { warningThresholdPercent: 0 }, /Invalid warningThresholdPercent: 0\. Expected a number greater than 0 and at most 100/],
    ['warning threshold negative', { warningThresholdPercent: -5 }, /Invalid warningThresholdPercent: -5/],
    ['critical threshold above 100', { criticalThresholdPercent: 101 }, /Invalid criticalThresholdPercent: 101\. Expected a number greater than 0 and at most 100/],
    ['critical threshold NaN', { criticalThresholdPercent: NaN }, /Invalid criticalThresholdPercent: null/],
    ['warning not below critical', { warningThresholdPercent: 95, criticalThresholdPercent: 80 }, /Invalid warningThresholdPercent: 95\. Expected a percentage below criticalThresholdPercent \(80\)/],
    ['limit 0', { monthlyLimitUsd: 0 }, /Invalid monthlyLimitUsd: 0\. Expected a number greater than 0/],
    ['bad e-mail', { emailSubscribers: ['ops@rauli-vision.com', 'not-an-address'] }, /Invalid emailSubscribers\[1\]: "not-an-address"\. Expected an e-mail address/],
    ['e-mail without domain dot', { emailSubscribers: ['ops@localhost'] }, /Invalid emailSubscribers\[0\]: "ops@localhost"/],
    ['duplicate e-mails', { emailSubscribers: ['a@rauli-vision.com', 'a@rauli-vision.com'] }, /Invalid emailSubscribers: .*Expected at most 10 distinct addresses/],
    ['11 e-mails', { emailSubscribers: Array.from({ length: 11 }, (_, i) => `ops${i}@rauli-vision.com`) }, /Expected at most 10 distinct addresses/],
    ['nobody to notify', { createTopic: false }, /Invalid emailSubscribers: \[\]\. Expected at least one address when no topic is used/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('CostAllocationTags', () => {
  test('tags every taggable resource below the scope, including the budget', () => {
    const stack = newStack();
    new CostGuardrails(stack, 'Cost');
    CostAllocationTags.apply(stack, { environment: 'staging', costCenter: 'cc-1234' });
    const template = Template.fromStack(stack);
    const expected = [{ Key: 'cost-center', Value: 'cc-1234' }, { Key: 'environment', Value: 'staging' }, { Key: 'project', Value: 'rauli-vision' }];
    template.hasResourceProperties('AWS::Budgets::Budget', { ResourceTags: expected });
    template.hasResourceProperties('AWS::SNS::Topic', { Tags: expected });
    template.hasResourceProperties('AWS::KMS::Key', { Tags: expected });
  });

  test.each([
    ['environment', { environment: '' }, /Invalid environment: ""\. Expected an AWS tag value/],
    ['costCenter', { environment: 'dev', costCenter: 'cc#1' }, /Invalid costCenter: "cc#1"/],
    ['project', { environment: 'dev', project: 'aws:reserved' }, /Invalid project: "aws:reserved"/],
  ])('refuses a bad %s', (_prop, props, message) => {
    expect(() => CostAllocationTags.apply(newStack(), props)).toThrow(message);
  });
});
