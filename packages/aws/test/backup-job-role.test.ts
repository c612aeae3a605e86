import { Fn } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupBucket, BackupBucketEncryption, BackupJobRole, BackupJobRoleOptions } from '../src';
import { ENV, nagViolations, newStack, OIDC_ISSUER, OIDC_PROVIDER_ARN } from './support';
import { BackupConventions } from '../src/conventions.generated';

const TRUST: BackupJobRoleOptions = { oidcProviderArn: OIDC_PROVIDER_ARN, namespace: 'production', serviceAccountNames: ['backup'] };

function synth(opts: Partial<BackupJobRoleOptions> = {}, encryption?: BackupBucketEncryption) {
  const stack = newStack();
  const backup = new BackupBucket(stack, 'Backup', { encryption });
  const role = new BackupJobRole(stack, 'Role', { ...TRUST, ...opts, bucket: backup.bucket });
  const template = Template.fromStack(stack);
  const [resource] = Object.values(template.findResources('AWS::IAM::Role'));
  return { stack, role, template, resource, statements: resource.Properties.Policies[0].PolicyDocument.Statement as any[] };
}

describe('BackupJobRole', () => {
  const { stack, role, template, resource, statements } = synth();
  const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^Backup[0-9A-F]{8}$/), 'Arn'] };

  test('trusts only the backup ServiceAccount of the cluster\'s OIDC provider, audience sts.amazonaws.com', () => {
    expect(resource.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRoleWithWebIdentity',
      Effect: 'Allow',
      Principal: { Federated: OIDC_PROVIDER_ARN },
      Condition: {
        StringEquals: {
          [`${OIDC_ISSUER}:sub`]: 'system:serviceaccount:production:backup',
          [`${OIDC_ISSUER}:aud`]: 'sts.amazonaws.com',
        },
      },
    }]);
    expect(role.serviceAccountSubjects).toEqual(['system:serviceaccount:production:backup']);
  });

  test('several ServiceAccounts (backup, application backup, restore): any one of their subjects', () => {
    const { resource: r } = synth({ serviceAccountNames: ['postgres-backup', 'application-backup', 'postgres-restore'] });
    expect(r.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toEqual({
      [`${OIDC_ISSUER}:sub`]: ['postgres-backup', 'application-backup', 'postgres-restore'].map(n => `system:serviceaccount:production:${n}`),
      [`${OIDC_ISSUER}:aud`]: 'sts.amazonaws.com',
    });
  });

  test('may only put and get objects under the backup prefixes, not the log snapshots\' (Elasticsearch\'s)', () => {
    const objects = statements.find(s => s.Sid === 'ReadWriteBackupObjects');
    expect(objects.Effect).toBe('Allow');
    expect([objects.Action].flat().sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(BackupJobRole.DEFAULT_PREFIXES).toEqual(['database/', 'wal/', 'config/', 'user-data/']);
    expect(objects.Resource).toHaveLength(BackupJobRole.DEFAULT_PREFIXES.length);
    expect(objects.Resource).toEqual(expect.arrayContaining(BackupJobRole.DEFAULT_PREFIXES.map(p => ({ 'Fn::Join': ['', [bucketArn, `/${p}*`]] }))));
    expect(JSON.stringify(statements)).not.toContain(BackupConventions.LOGS_PREFIX);
  });

  test('may only list the backup prefixes (s3:prefix condition)', () => {
    expect(statements.find(s => s.Sid === 'ListBackupPrefixes')).toEqual({
      Sid: 'ListBackupPrefixes',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn,
      Condition: { StringLike: { 's3:prefix': BackupJobRole.DEFAULT_PREFIXES.map(p => `${p}*`) } },
    });
  });

  test('may use the bucket key only through S3 in the bucket\'s region', () => {
    expect(statements.find(s => s.Sid === 'UseBackupKeyThroughS3')).toEqual({
      Sid: 'UseBackupKeyThroughS3',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': `s3.${ENV.region}.amazonaws.com` } },
    });
  });

  test('nothing else: three statements, no other policies or managed policies', () => {
    expect(statements.map(s => s.Sid).sort()).toEqual(['ListBackupPrefixes', 'ReadWriteBackupObjects', 'UseBackupKeyThroughS3']);
    expect(resource.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourceCountIs('AWS::IAM::Policy', 0);
    expect(JSON.stringify(statements)).not.toMatch(/"s3:\*"|"kms:\*"|Delete|Abort/);
  });

  test('exposes roleArn, bucketName and region (the backup CronJobs\' inputs)', () => {
    expect(stack.resolve(role.roleArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Role/), 'Arn'] });
    expect(stack.resolve(role.bucketName)).toEqual({ Ref: expect.stringMatching(/^Backup[0-9A-F]{8}$/) });
    expect(role.region).toBe(ENV.region);
  });

  test('its wildcards are exactly the prefix object keys, acknowledged for cdk-nag', () => {
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('BackupJobRole settings', () => {
  test('SSE-S3 bucket: no KMS statement', () => {
    const { statements } = synth({}, BackupBucketEncryption.S3_MANAGED);
    expect(statements.map(s => s.Sid).sort()).toEqual(['ListBackupPrefixes', 'ReadWriteBackupObjects']);
  });

  test('a subset of prefixes', () => {
    const { statements, stack } = synth({ prefixes: ['database/', 'wal/'] });
    expect(statements.find(s => s.Sid === 'ListBackupPrefixes').Condition).toEqual({ StringLike: { 's3:prefix': ['database/*', 'wal/*'] } });
    expect(statements.find(s => s.Sid === 'ReadWriteBackupObjects').Resource).toHaveLength(2);
    expect(nagViolations(stack)).toEqual([]);
  });

  test('an imported bucket by name', () => {
    const stack = newStack();
    new BackupJobRole(stack, 'Role', { ...TRUST, bucket: s3.Bucket.fromBucketName(stack, 'B', 'rauli-vision-backups') });
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
    const objects = resource.Properties.Policies[0].PolicyDocument.Statement.find((s: any) => s.Sid === 'ReadWriteBackupObjects');
    expect(objects.Resource).toContainEqual('arn:aws:s3:::rauli-vision-backups/database/*');
    expect(nagViolations(stack)).toEqual([]);
  });

  test('a provider ARN known only at deploy time: the trust conditions resolve through CfnJson', () => {
    const stack = newStack();
    const arn = Fn.importValue('EksOidcProviderArn');
    new BackupJobRole(stack, 'Role', { ...TRUST, oidcProviderArn: arn, bucket: s3.Bucket.fromBucketName(stack, 'B', 'rauli-vision-backups') });
    const template = Template.fromStack(stack);
    const [resource] = Object.values(template.findResources('AWS::IAM::Role'));
    const [statement] = resource.Properties.AssumeRolePolicyDocument.Statement;
    expect(statement.Principal).toEqual({ Federated: { 'Fn::ImportValue': 'EksOidcProviderArn' } });
    expect(statement.Condition.StringEquals).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RoleTrustConditions/), 'Value'] });
    template.hasResourceProperties('Custom::AWSCDKCfnJson', {});
  });
});

describe('BackupJobRole validation', () => {
  test.each<[string, Partial<BackupJobRoleOptions>, RegExp]>([
    ['not an OIDC provider ARN', { oidcProviderArn: 'arn:aws:iam::123456789012:role/eks' }, /Invalid oidcProviderArn: "arn:aws:iam::123456789012:role\/eks"\. Expected an IAM OIDC provider ARN/],
    ['an issuer URL instead of the ARN', { oidcProviderArn: 'https://oidc.eks.eu-west-1.amazonaws.com/id/X' }, /Invalid oidcProviderArn/],
    ['an invalid namespace', { namespace: 'Production' }, /Invalid namespace: "Production"\. Expected a DNS-1123 label/],
    ['an invalid ServiceAccount name', { serviceAccountNames: ['backup', 'backup_jobs'] }, /Invalid serviceAccountNames\[1\]: "backup_jobs"\. Expected a DNS-1123 subdomain/],
    ['no ServiceAccount', { serviceAccountNames: [] }, /Invalid serviceAccountNames: \[\]\. Expected a non-empty list of distinct ServiceAccount names/],
    ['a repeated ServiceAccount', { serviceAccountNames: ['backup', 'backup'] }, /Invalid serviceAccountNames: \["backup","backup"\]/],
    ['a wildcard prefix', { prefixes: ['*'] }, /Invalid prefixes: \["\*"\]/],
  ])('%s', (_name, opts, message) => {
    expect(() => synth(opts)).toThrow(message);
  });
});
