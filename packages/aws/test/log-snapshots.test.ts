import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BackupBucket, BackupBucketEncryption, LogSnapshotRole } from '../src';
import { ENV, nagViolations, newStack, OIDC_ISSUER, OIDC_PROVIDER_ARN } from './support';
import { BackupConventions } from '../src/conventions.generated';

const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^Backup[0-9A-F]{8}$/), 'Arn'] };
const LOGS_OBJECTS = { 'Fn::Join': ['', [bucketArn, '/logs/*']] };

function synth(encryption?: BackupBucketEncryption) {
  const stack = newStack();
  const backup = new BackupBucket(stack, 'Backup', { encryption });
  const role = new LogSnapshotRole(stack, 'LogSnapshots', { bucket: backup, oidcProviderArn: OIDC_PROVIDER_ARN, namespace: 'logging', serviceAccountNames: ['elasticsearch'] });
  const template = Template.fromStack(stack);
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
  return { stack, role, template, statements: policy.Properties.PolicyDocument.Statement as any[] };
}

describe('BackupBucket.grantLogSnapshots through LogSnapshotRole', () => {
  const { stack, role, template, statements } = synth();

  test('the prefix comes from the conventions the platform reads too', () => {
    expect(BackupConventions.LOGS_PREFIX).toBe('logs/');
    expect(BackupConventions.PREFIXES).toContain(BackupConventions.LOGS_PREFIX);
  });

  test('exactly the logs/ prefix: objects under it, listing only below it, the key only through S3', () => {
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
        Resource: LOGS_OBJECTS,
      },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['logs/*'] } } },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': `s3.${ENV.region}.amazonaws.com` } },
      },
    ]);
    // No other prefix, no bucket-wide object access.
    const text = JSON.stringify(statements);
    for (const other of BackupConventions.PREFIXES.filter(p => p !== BackupConventions.LOGS_PREFIX)) expect(text).not.toContain(other);
    expect(text).not.toMatch(/"\/\*"|"s3:\*"|"kms:\*"/);
  });

  test('trusts only the Elasticsearch ServiceAccount of the cluster\'s OIDC provider', () => {
    const [resource] = Object.values(template.findResources('AWS::IAM::Role'));
    expect(resource.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRoleWithWebIdentity',
      Effect: 'Allow',
      Principal: { Federated: OIDC_PROVIDER_ARN },
      Condition: { StringEquals: { [`${OIDC_ISSUER}:sub`]: 'system:serviceaccount:logging:elasticsearch', [`${OIDC_ISSUER}:aud`]: 'sts.amazonaws.com' } },
    }]);
    expect(role.serviceAccountSubjects).toEqual(['system:serviceaccount:logging:elasticsearch']);
  });

  test('passes cdk-nag AwsSolutions (logs/* acknowledged, nothing else)', () => {
    expect(nagViolations(stack)).toEqual([]);
  });

  test('SSE-S3 bucket: no KMS statement', () => {
    expect(synth(BackupBucketEncryption.S3_MANAGED).statements.map(s => s.Action)).not.toContainEqual(expect.arrayContaining(['kms:Decrypt']));
  });

  test('any grantee, e.g. a role of another construct', () => {
    const other = newStack();
    const backup = new BackupBucket(other, 'Backup');
    const grantee = new iam.Role(other, 'Other', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    backup.grantLogSnapshots(grantee);
    const [policy] = Object.values(Template.fromStack(other).findResources('AWS::IAM::Policy'));
    expect(policy.Properties.PolicyDocument.Statement[0].Resource).toEqual(LOGS_OBJECTS);
  });

  test('refuses a bucket without the logs/ prefix, naming the prop', () => {
    const other = newStack();
    const backup = new BackupBucket(other, 'Backup', { prefixes: ['database/'] });
    expect(() => backup.grantLogSnapshots(new iam.Role(other, 'R', { assumedBy: new iam.AccountRootPrincipal() })))
      .toThrow(/Invalid prefixes: \["database\/"\]\. Expected a list including 'logs\/' to grant log snapshots/);
  });

  test.each([
    ['namespace', { namespace: 'Logging' }, /Invalid namespace: "Logging"/],
    ['serviceAccountNames', { serviceAccountNames: [] }, /Invalid serviceAccountNames: \[\]/],
    ['oidcProviderArn', { oidcProviderArn: 'arn:aws:iam::1:role/x' }, /Invalid oidcProviderArn/],
  ])('refuses a bad %s', (_prop, props, message) => {
    const other = newStack();
    const backup = new BackupBucket(other, 'Backup');
    expect(() => new LogSnapshotRole(other, 'L', { bucket: backup, oidcProviderArn: OIDC_PROVIDER_ARN, namespace: 'logging', serviceAccountNames: ['elasticsearch'], ...props }))
      .toThrow(message);
  });
});
