import { CfnResource, Duration, Stack, TagManager, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { BudgetScaleDown, CostAllocationTags, PlatformFoundationStack } from '../src';
import { BUDGET_RECEIVERS, ENV, foundationStack, nagViolations, newApp } from './support';
import { BackupConventions, LoggingConventions } from '../src/conventions.generated';

/** Every cdk-nag AwsSolutions acknowledgement recorded in the tree: `rule @ construct path` -> reason. */
function acknowledgements(scope: IConstruct): Map<string, string> {
  const acks = new Map<string, string>();
  for (const c of scope.node.findAll()) {
    for (const entry of c.node.metadata.filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)) {
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        if (!/^(annotation::)?AwsSolutions-/i.test(id)) continue;
        acks.set(`${id.replace(/^annotation::/i, '')} @ ${c.node.path}`, reason);
      }
    }
  }
  return acks;
}

/** Removes the acknowledgements (constructs keeps metadata in a private array). */
function dropAcknowledgements(scope: IConstruct): void {
  for (const c of scope.node.findAll()) {
    const metadata = ((c.node as any)._metadata ?? []) as Array<{ type: string }>;
    metadata.splice(0, metadata.length, ...metadata.filter(m => m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY));
  }
}

describe.each([true, false])('PlatformFoundationStack with every option (cdk.json feature flags: %s)', (featureFlags) => {
  // Object lock and cross-region replication too, so the replication role's acknowledgements are checked as well.
  const app = newApp({ featureFlags });
  // The DR bucket and key live elsewhere (another region, maybe another account): imported by ARN.
  const dr = new Stack(newApp(), 'DisasterRecovery', { env: { account: ENV.account, region: 'eu-central-1' } });
  // Staging: production refuses the scale-down action.
  const stack = foundationStack({
    environment: 'staging',
    costCenter: 'platform-ops',
    logSnapshots: { namespace: 'logging', serviceAccountNames: ['elasticsearch'] },
    backupBucket: {
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(7)),
      replication: {
        destination: s3.Bucket.fromBucketAttributes(dr, 'Bucket', { bucketArn: 'arn:aws:s3:::rauli-vision-backups-dr', region: 'eu-central-1' }),
        destinationKmsKey: kms.Key.fromKeyArn(dr, 'Key', 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
      },
    },
    costGuardrails: { ...BUDGET_RECEIVERS, notifyOnForecast: true, scaleDown: { clusterName: 'rauli-staging' } },
  }, { app });
  const template = Template.fromStack(stack);

  test('the replication role reaches only the two buckets and the destination key, even imported in another stack', () => {
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ReplicationRole') } }));
    const resources = policy.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Resource].flat());
    expect(resources).not.toContain('*');
    expect(resources).toEqual(expect.arrayContaining([
      'arn:aws:s3:::rauli-vision-backups-dr/*',
      'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ]));
  });

  test('cdk-nag AwsSolutions: zero unacknowledged findings, and no error annotations', () => {
    expect(nagViolations(stack)).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  test('every acknowledgement has a reason and silences a finding that really exists', () => {
    const acks = acknowledgements(stack);
    // 4 prefixes on the backup role, 2 resources and 2 KMS actions on the replication role,
    // logs/ on the log snapshot role, the cluster's node groups on the scale-down role.
    expect(acks.size).toBe(10);
    for (const reason of acks.values()) expect(reason.length).toBeGreaterThan(40);
    dropAcknowledgements(stack);
    // A finding is reported on the CfnResource; its acknowledgement sits on the resource or an ancestor.
    const findings = nagViolations(stack).map(v => v.split(': ')[0]);
    const unmatched = [...acks.keys()].filter(ack => {
      const [rule, path] = ack.split(' @ ');
      return !findings.some(f => f.startsWith(`${rule} @ ${path}`));
    });
    expect({ unmatched, findings }).toEqual({ unmatched: [], findings });
    expect(findings.length).toBeGreaterThanOrEqual(acks.size);
  });
});

describe('PlatformFoundationStack', () => {
  const stack = foundationStack({ costCenter: 'platform-ops' });
  const template = Template.fromStack(stack);

  test('composes the backup bucket, the IRSA role, the budget and its Slack channel', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    // The backup jobs' and AWS Chatbot's.
    template.resourceCountIs('AWS::IAM::Role', 2);
    template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
    template.resourceCountIs('AWS::Budgets::Budget', 1);
    template.hasResourceProperties('AWS::Budgets::Budget', { Budget: { BudgetName: 'rauli-vision-production-monthly-cost' } });
  });

  test('outputs the backup CronJobs\' inputs under the conventions\' keys', () => {
    const outputs = template.toJSON().Outputs;
    const bucketId = stack.getLogicalId(stack.backupBucket.bucket.node.defaultChild as CfnResource);
    expect(outputs[BackupConventions.OUTPUT_BUCKET_NAME].Value).toEqual({ Ref: bucketId });
    expect(outputs[BackupConventions.OUTPUT_REGION].Value).toBe('eu-west-1');
    expect(outputs[BackupConventions.OUTPUT_ROLE_ARN].Value).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(stack.backupJobRole.role.node.defaultChild as CfnResource), 'Arn'] });
  });

  test('cost-allocation tags on every taggable resource it creates', () => {
    const resources = template.toJSON().Resources;
    const taggable = stack.node.findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && (TagManager.isTaggable(c) || TagManager.isTaggableV2(c)));
    expect(new Set(taggable.map(r => r.cfnResourceType))).toEqual(new Set(['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::IAM::Role', 'AWS::SNS::Topic', 'AWS::Budgets::Budget', 'AWS::Chatbot::SlackChannelConfiguration']));
    for (const resource of taggable) {
      const properties = resources[stack.getLogicalId(resource)].Properties;
      expect(properties.Tags ?? properties.ResourceTags).toEqual(expect.arrayContaining([
        { Key: CostAllocationTags.PROJECT_KEY, Value: 'rauli-vision' },
        { Key: CostAllocationTags.ENVIRONMENT_KEY, Value: 'production' },
        { Key: CostAllocationTags.COST_CENTER_KEY, Value: 'platform-ops' },
      ]));
    }
  });

  test('passes its settings down', () => {
    const custom = foundationStack({
      environment: 'staging',
      project: 'rauli',
      backupBucket: { retentionDays: 14, prefixes: ['database/', 'wal/'] },
      costGuardrails: { ...BUDGET_RECEIVERS, monthlyLimitUsd: 300 },
    });
    const t = Template.fromStack(custom);
    t.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'wal/', ExpirationInDays: 14 })]) } });
    t.hasResourceProperties('AWS::Budgets::Budget', { Budget: { BudgetName: 'rauli-staging-monthly-cost', BudgetLimit: { Amount: 300, Unit: 'USD' } } });
    // The role follows the bucket's prefixes.
    t.hasResourceProperties('AWS::IAM::Role', { Policies: [{ PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Condition: { StringLike: { 's3:prefix': ['database/*', 'wal/*'] } } })]) } }] });
    expect(custom.backupJobRole.serviceAccountSubjects).toEqual(['postgres-backup', 'application-backup', 'postgres-restore'].map(n => `system:serviceaccount:rauli-vision-production:${n}`));
  });

  test('the budget counts only this environment\'s cost (project and environment tags)', () => {
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        FilterExpression: {
          And: [
            { Tags: { Key: 'project', Values: ['rauli-vision'], MatchOptions: ['EQUALS'] } },
            { Tags: { Key: 'environment', Values: ['production'], MatchOptions: ['EQUALS'] } },
          ],
        },
      },
    });
  });

  test('the log snapshot role and the scale-down function are outputs; neither exists unless asked for', () => {
    const outputs = template.toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual([BackupConventions.OUTPUT_BUCKET_NAME, BackupConventions.OUTPUT_REGION, BackupConventions.OUTPUT_ROLE_ARN]);
    const full = foundationStack({
      environment: 'staging',
      logSnapshots: { namespace: 'logging', serviceAccountNames: ['elasticsearch'] },
      costGuardrails: { scaleDown: { clusterName: 'rauli-staging' } },
    });
    const fullOutputs = Template.fromStack(full).toJSON().Outputs;
    expect(fullOutputs[BackupConventions.OUTPUT_LOG_SNAPSHOT_ROLE_ARN].Value).toEqual({ 'Fn::GetAtt': [full.getLogicalId(full.logSnapshotRole!.role.node.defaultChild as CfnResource), 'Arn'] });
    const fn = full.costGuardrails.scaleDown!.function.node.defaultChild as CfnResource;
    expect(fullOutputs[PlatformFoundationStack.OUTPUT_SCALE_DOWN_FUNCTION_NAME].Value).toEqual({ Ref: full.getLogicalId(fn) });
    expect(fullOutputs[PlatformFoundationStack.OUTPUT_SCALE_DOWN_FUNCTION_NAME].Description).toContain(`--payload '${BudgetScaleDown.RESTORE_EVENT}'`);
    expect(full.logSnapshotRole!.serviceAccountSubjects).toEqual(['system:serviceaccount:logging:elasticsearch']);
  });

  test('by default the log snapshot role trusts the ServiceAccount the platform\'s LoggingStack gives Elasticsearch', () => {
    const defaults = foundationStack({ environment: 'staging', logSnapshots: {} });
    expect(LoggingConventions).toMatchObject({ NAMESPACE: 'logging', SNAPSHOT_SERVICE_ACCOUNT: 'logs-es-snapshots' });
    expect(defaults.logSnapshotRole!.serviceAccountSubjects)
      .toEqual([`system:serviceaccount:${LoggingConventions.NAMESPACE}:${LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT}`]);
  });

  test('refuses the scale-down action in production', () => {
    expect(() => foundationStack({ costGuardrails: { scaleDown: { clusterName: 'rauli-production' } } }))
      .toThrow(/Invalid scaleDown: "environment production"\. Expected no scale-down in production/);
  });

  test('refuses an environment that is not a DNS label', () => {
    expect(() => foundationStack({ environment: 'Prod Env' })).toThrow(/Invalid environment: "Prod Env"\. Expected a DNS-1123 label/);
  });

});
