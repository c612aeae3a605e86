import { Template } from 'aws-cdk-lib/assertions';
import { CostAllocationTags, CostGuardrails, CostGuardrailsProps } from '../src';
import { BUDGET_RECEIVERS, ENV, nagViolations, newStack } from './support';
import { CostConventions } from '../src/conventions.generated';

const PROPS: CostGuardrailsProps = { environment: 'staging', ...BUDGET_RECEIVERS };

function synth(props: Partial<CostGuardrailsProps> = {}) {
  const stack = newStack();
  const guardrails = new CostGuardrails(stack, 'Cost', { ...PROPS, ...props });
  const template = Template.fromStack(stack);
  const [budget] = Object.values(template.findResources('AWS::Budgets::Budget'));
  return { stack, guardrails, template, budget: budget.Properties, dependsOn: budget.DependsOn as string[] };
}

const notification = (type: string, threshold: number) => ({ ComparisonOperator: 'GREATER_THAN', NotificationType: type, Threshold: threshold, ThresholdType: 'PERCENTAGE' });
const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}[0-9A-F]{8}$`)) });
const email = (address: string) => ({ SubscriptionType: 'EMAIL', Address: address });

describe('CostGuardrails defaults', () => {
  const { stack, guardrails, template, budget, dependsOn } = synth();
  const warningTopic = ref('CostWarningTopic');

  test('a monthly COST budget of 1000 USD (the guide)', () => {
    expect(budget.Budget).toMatchObject({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: CostConventions.MONTHLY_BUDGET_USD, Unit: 'USD' } });
    expect(guardrails.monthlyLimitUsd).toBe(1000);
  });

  test('counts only cost tagged with the platform\'s project AND this environment', () => {
    expect(budget.Budget.FilterExpression).toEqual({
      And: [
        { Tags: { Key: CostAllocationTags.PROJECT_KEY, Values: ['rauli-vision'], MatchOptions: ['EQUALS'] } },
        { Tags: { Key: CostAllocationTags.ENVIRONMENT_KEY, Values: ['staging'], MatchOptions: ['EQUALS'] } },
      ],
    });
    expect(budget.Budget.CostFilters).toBeUndefined();
  });

  test('two channels: 80 % only to the Slack topic, 95 % only to e-mail', () => {
    expect(budget.NotificationsWithSubscribers).toEqual([
      { Notification: notification('ACTUAL', 80), Subscribers: [{ SubscriptionType: 'SNS', Address: warningTopic }] },
      { Notification: notification('ACTUAL', 95), Subscribers: [email('finance@rauli-vision.com')] },
    ]);
  });

  test('AWS Chatbot forwards the warning topic to the Slack channel, and the channel may run nothing', () => {
    const configurations = Object.values(template.findResources('AWS::Chatbot::SlackChannelConfiguration'));
    expect(configurations).toHaveLength(1);
    expect(configurations[0].Properties).toMatchObject({
      SlackWorkspaceId: 'T07EA123LEP',
      SlackChannelId: 'C01ABCDEF23',
      SnsTopicArns: [warningTopic],
      GuardrailPolicies: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSDenyAll']] }],
    });
    const [chatbotRole] = Object.values(template.findResources('AWS::IAM::Role'));
    expect(chatbotRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'chatbot.amazonaws.com' });
    expect(chatbotRole.Properties.Policies).toBeUndefined();
    expect(chatbotRole.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  test('no scale-down unless asked for: one topic, no function', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    expect(guardrails.scaleDown).toBeUndefined();
    expect(guardrails.actionTopic).toBeUndefined();
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
      Resource: warningTopic,
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
    expect(dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CostWarningTopicPolicy/)]));
  });

  test('passes cdk-nag AwsSolutions', () => {
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('CostGuardrails settings', () => {
  test('custom thresholds and forecasts: the forecasted 95 % goes to e-mail only, never to the scale-down', () => {
    const { budget, template } = synth({
      budgetName: 'rauli-vision-staging',
      monthlyLimitUsd: 250.5,
      warningThresholdPercent: 1,
      criticalThresholdPercent: 100,
      notifyOnForecast: true,
      criticalEmailSubscribers: ['ops@rauli-vision.com', 'finance@rauli-vision.com'],
      scaleDown: { clusterName: 'rauli-staging' },
    });
    expect(budget.Budget.BudgetName).toBe('rauli-vision-staging');
    expect(budget.Budget.BudgetLimit).toEqual({ Amount: 250.5, Unit: 'USD' });
    const slack = [{ SubscriptionType: 'SNS', Address: ref('CostWarningTopic') }];
    const emails = [email('ops@rauli-vision.com'), email('finance@rauli-vision.com')];
    expect(budget.NotificationsWithSubscribers).toEqual([
      { Notification: notification('ACTUAL', 1), Subscribers: slack },
      { Notification: notification('ACTUAL', 100), Subscribers: [...emails, { SubscriptionType: 'SNS', Address: ref('CostActionTopic') }] },
      { Notification: notification('FORECASTED', 1), Subscribers: slack },
      { Notification: notification('FORECASTED', 100), Subscribers: emails },
    ]);
    // The action topic has exactly one subscriber: the scale-down function.
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription'));
    expect(subscriptions.map(s => [s.Properties.Protocol, s.Properties.TopicArn])).toEqual([['lambda', ref('CostActionTopic')]]);
  });

  test('the action topic is encrypted and Budgets may publish to it; the budget waits for its policy too', () => {
    const { template, dependsOn } = synth({ scaleDown: { clusterName: 'rauli-staging' } });
    const topics = Object.values(template.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(2);
    for (const t of topics) expect(t.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CostTopicKey/), 'Arn'] });
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policies.map(p => p.Properties.PolicyDocument.Statement.find((st: any) => st.Sid === 'AllowBudgetsToPublish').Resource))
      .toEqual(expect.arrayContaining([ref('CostWarningTopic'), ref('CostActionTopic')]));
    expect(dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CostActionTopicPolicy/), expect.stringMatching(/^CostWarningTopicPolicy/)]));
  });

  test('a project other than the default is what the filter counts', () => {
    const { budget } = synth({ project: 'rauli' });
    expect(budget.Budget.FilterExpression.And[0]).toEqual({ Tags: { Key: 'project', Values: ['rauli'], MatchOptions: ['EQUALS'] } });
  });

  test('the Chatbot configuration name is settable', () => {
    const { template } = synth({ warningSlackChannel: { ...BUDGET_RECEIVERS.warningSlackChannel, configurationName: 'rauli-staging-budget' } });
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', { ConfigurationName: 'rauli-staging-budget' });
  });
});

describe('CostGuardrails validation', () => {
  test.each<[string, Partial<CostGuardrailsProps>, RegExp]>([
    ['warning threshold 0', { warningThresholdPercent: 0 }, /Invalid warningThresholdPercent: 0\. Expected a number from 1 to 100/],
    ['warning threshold 0.5', { warningThresholdPercent: 0.5 }, /Invalid warningThresholdPercent: 0\.5\. Expected a number from 1 to 100/],
    ['warning threshold negative', { warningThresholdPercent: -5 }, /Invalid warningThresholdPercent: -5/],
    ['critical threshold above 100', { criticalThresholdPercent: 101 }, /Invalid criticalThresholdPercent: 101\. Expected a number from 1 to 100/],
    ['critical threshold NaN', { criticalThresholdPercent: NaN }, /Invalid criticalThresholdPercent: null/],
    ['warning not below critical', { warningThresholdPercent: 95, criticalThresholdPercent: 80 }, /Invalid warningThresholdPercent: 95\. Expected a percentage below criticalThresholdPercent \(80\)/],
    ['warning equal to critical', { warningThresholdPercent: 90, criticalThresholdPercent: 90 }, /Invalid warningThresholdPercent: 90\. Expected a percentage below criticalThresholdPercent \(90\)/],
    ['limit 0', { monthlyLimitUsd: 0 }, /Invalid monthlyLimitUsd: 0\. Expected a number greater than 0/],
    ['no Slack channel', { warningSlackChannel: undefined }, /Invalid warningSlackChannel: undefined\. Expected \{ workspaceId, channelId \}/],
    ['Slack workspace id in lower case', { warningSlackChannel: { workspaceId: 't07ea123lep', channelId: 'C01ABCDEF23' } }, /Invalid warningSlackChannel\.workspaceId: "t07ea123lep"\. Expected a Slack workspace ID/],
    ['Slack channel name instead of id', { warningSlackChannel: { workspaceId: 'T07EA123LEP', channelId: '#budget' } }, /Invalid warningSlackChannel\.channelId: "#budget"\. Expected a Slack channel ID/],
    ['bad configuration name', { warningSlackChannel: { workspaceId: 'T07EA123LEP', channelId: 'C01ABCDEF23', configurationName: 'a b' } }, /Invalid warningSlackChannel\.configurationName: "a b"/],
    ['no e-mail list', { criticalEmailSubscribers: undefined }, /Invalid criticalEmailSubscribers: undefined\. Expected 1 to 10 distinct e-mail addresses/],
    ['empty e-mail list', { criticalEmailSubscribers: [] }, /Invalid criticalEmailSubscribers: \[\]\. Expected 1 to 10 distinct e-mail addresses .*must reach someone/],
    ['bad e-mail', { criticalEmailSubscribers: ['ops@rauli-vision.com', 'not-an-address'] }, /Invalid criticalEmailSubscribers\[1\]: "not-an-address"\. Expected an e-mail address/],
    ['e-mail without domain dot', { criticalEmailSubscribers: ['ops@localhost'] }, /Invalid criticalEmailSubscribers\[0\]: "ops@localhost"/],
    ['duplicate e-mails', { criticalEmailSubscribers: ['a@rauli-vision.com', 'a@rauli-vision.com'] }, /Invalid criticalEmailSubscribers: .*Expected 1 to 10 distinct/],
    ['11 e-mails', { criticalEmailSubscribers: Array.from({ length: 11 }, (_, i) => `ops${i}@rauli-vision.com`) }, /Expected 1 to 10 distinct e-mail addresses/],
    ['empty environment', { environment: '' }, /Invalid environment: ""\. Expected an AWS tag value/],
    ['scale-down in production', { environment: 'production', scaleDown: { clusterName: 'rauli' } }, /Invalid scaleDown: "environment production"\. Expected no scale-down in production/],
    ['scale-down of a bad cluster name', { scaleDown: { clusterName: 'rauli staging' } }, /Invalid scaleDown\.clusterName: "rauli staging"\. Expected an EKS cluster name/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('CostAllocationTags', () => {
  test('tags every taggable resource below the scope, including the budget', () => {
    const stack = newStack();
    new CostGuardrails(stack, 'Cost', PROPS);
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
