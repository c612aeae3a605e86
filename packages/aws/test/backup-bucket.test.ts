import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupBucket, BackupBucketEncryption, BackupBucketProps } from '../src';
import { nagViolations, newStack } from './support';
import { BackupConventions } from '../src/conventions.generated';

function synth(props?: BackupBucketProps) {
  const stack = newStack();
  const backup = new BackupBucket(stack, 'Backup', props);
  return { stack, backup, template: Template.fromStack(stack) };
}

/** The backup bucket (the versioned one; the access-log bucket is not). */
function backupBucketResource(template: Template): any {
  const buckets = Object.values(template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }));
  expect(buckets).toHaveLength(1);
  return buckets[0];
}

describe('BackupBucket defaults', () => {
  const { backup, template } = synth();
  const bucket = backupBucketResource(template);

  test('SSE-KMS with a rotated customer managed key and S3 Bucket Keys', () => {
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{
      BucketKeyEnabled: true,
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] } },
    }]);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(backup.encryptionKey).toBeDefined();
  });

  test('versioned, public access blocked, ACLs disabled', () => {
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  test('bucket policy denies plain HTTP and TLS below 1.2', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^Backup[0-9A-F]{8}$') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('one expiration rule per conventions prefix after RETENTION_DAYS, with noncurrent versions and incomplete uploads', () => {
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    const prefixRules = rules.filter((r: any) => r.Prefix !== undefined && r.Prefix !== BackupConventions.LOGS_PREFIX);
    expect(prefixRules.map((r: any) => r.Prefix)).toEqual(BackupConventions.PREFIXES.filter(p => p !== BackupConventions.LOGS_PREFIX));
    for (const rule of prefixRules) {
      expect(rule).toEqual({
        Id: `expire-${rule.Prefix.replace(/\/$/, '')}`,
        Prefix: rule.Prefix,
        Status: 'Enabled',
        ExpirationInDays: BackupConventions.RETENTION_DAYS,
        NoncurrentVersionExpiration: { NoncurrentDays: BackupBucket.DEFAULT_NONCURRENT_VERSION_RETENTION_DAYS },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: BackupBucket.DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS },
      });
    }
    expect(rules).toContainEqual({ Id: 'remove-expired-delete-markers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' });
    expect(backup.retentionDays).toBe(30);
    expect(backup.prefixes).toEqual(['database/', 'wal/', 'config/', 'user-data/', 'logs/']);
  });

  test('no expiration by age under the log snapshots\' prefix (Elasticsearch deletes its own snapshots); deleted files still go after the noncurrent window', () => {
    const rules = bucket.Properties.LifecycleConfiguration.Rules.filter((r: any) => r.Prefix === BackupConventions.LOGS_PREFIX);
    expect(rules).toEqual([{
      Id: 'clean-logs',
      Prefix: 'logs/',
      Status: 'Enabled',
      NoncurrentVersionExpiration: { NoncurrentDays: BackupBucket.DEFAULT_NONCURRENT_VERSION_RETENTION_DAYS },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: BackupBucket.DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS },
    }]);
  });

  test('server access logs go to a dedicated SSE-S3, TLS-only bucket kept as long as the backups', () => {
    const logsId = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs' }] } } }));
    expect(logsId).toHaveLength(1);
    expect(bucket.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId[0] } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [{ Id: 'expire-access-logs', ExpirationInDays: 30, Status: 'Enabled' }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    // Log delivery by bucket policy (cdk.json's serverAccessLogsUseBucketPolicy flag), only from the backup bucket.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId[0] },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Action: 's3:PutObject',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^Backup[0-9A-F]{8}$'), 'Arn'] } } },
        })]),
      },
    });
  });

  test('bucket, key and log bucket are retained when removed from the stack', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    }
  });

  test('no object lock and no replication unless asked', () => {
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket.Properties.ReplicationConfiguration).toBeUndefined();
  });
});

describe('BackupBucket settings', () => {
  test('SSE-S3 when asked: no key', () => {
    const { backup, template } = synth({ encryption: BackupBucketEncryption.S3_MANAGED });
    expect(backupBucketResource(template).Properties.BucketEncryption.ServerSideEncryptionConfiguration)
      .toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(backup.encryptionKey).toBeUndefined();
  });

  test('an existing KMS key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Mine', { enableKeyRotation: true });
    const backup = new BackupBucket(stack, 'Backup', { encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(backupBucketResource(template).Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault)
      .toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^Mine/), 'Arn'] } });
    expect(backup.encryptionKey).toBe(key);
  });

  test('retention, prefixes, name and removal policy are settable', () => {
    const { template } = synth({ retentionDays: 90, prefixes: ['database/', 'database/daily/'], bucketName: 'rauli-vision-backups', removalPolicy: RemovalPolicy.DESTROY });
    const bucket = backupBucketResource(template);
    expect(bucket.Properties.BucketName).toBe('rauli-vision-backups');
    expect(bucket.DeletionPolicy).toBe('Delete');
    const rules = bucket.Properties.LifecycleConfiguration.Rules.filter((r: any) => r.Prefix);
    expect(rules.map((r: any) => [r.Id, r.Prefix, r.ExpirationInDays])).toEqual([
      ['expire-database', 'database/', 90], ['expire-database-daily', 'database/daily/', 90],
    ]);
  });

  test('an existing access-log bucket gets the logs under a prefix, and no log bucket is created', () => {
    const stack = newStack();
    const central = s3.Bucket.fromBucketName(stack, 'Central', 'org-access-logs');
    const backup = new BackupBucket(stack, 'Backup', { serverAccessLogsBucket: central });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(backupBucketResource(template).Properties.LoggingConfiguration).toEqual({ DestinationBucketName: 'org-access-logs', LogFilePrefix: 'rauli-vision-backups/' });
    expect(backup.serverAccessLogsBucket).toBe(central);
  });

  test.each([
    ['GOVERNANCE', s3.ObjectLockRetention.governance(Duration.days(7)), { Mode: 'GOVERNANCE', Days: 7 }],
    ['COMPLIANCE', s3.ObjectLockRetention.compliance(Duration.days(30)), { Mode: 'COMPLIANCE', Days: 30 }],
  ])('object lock in %s mode with a default retention', (_mode, retention, expected) => {
    const bucket = backupBucketResource(synth({ objectLockDefaultRetention: retention }).template);
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(bucket.Properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: expected } });
  });

  test('cross-region replication of SSE-KMS objects with the destination key', () => {
    const stack = newStack();
    const destination = s3.Bucket.fromBucketAttributes(stack, 'Dr', { bucketArn: 'arn:aws:s3:::rauli-vision-backups-dr', region: 'eu-central-1' });
    const destinationKmsKey = kms.Key.fromKeyArn(stack, 'DrKey', 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new BackupBucket(stack, 'Backup', { replication: { destination, destinationKmsKey, storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL } });
    const template = Template.fromStack(stack);
    const replication = backupBucketResource(template).Properties.ReplicationConfiguration;
    expect(replication.Rules).toEqual([expect.objectContaining({
      Status: 'Enabled',
      Priority: 0,
      Destination: expect.objectContaining({
        Bucket: 'arn:aws:s3:::rauli-vision-backups-dr',
        StorageClass: 'GLACIER_IR',
        EncryptionConfiguration: { ReplicaKmsKeyID: 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      }),
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      DeleteMarkerReplication: { Status: 'Disabled' },
    })]);
    expect(replication.Role).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/ReplicationRole/), 'Arn'] });
    // The generated replication role's wildcards are acknowledged, nothing else is.
    expect(nagViolations(stack)).toEqual([]);
  });
});

describe('BackupBucket validation', () => {
  test.each<[string, BackupBucketProps, RegExp]>([
    ['retention 0', { retentionDays: 0 }, /Invalid retentionDays: 0\. Expected an integer from 1 to/],
    ['fractional retention', { retentionDays: 1.5 }, /Invalid retentionDays: 1\.5/],
    ['noncurrent retention 0', { noncurrentVersionRetentionDays: 0 }, /Invalid noncurrentVersionRetentionDays: 0/],
    ['multipart cleanup 0', { abortIncompleteMultipartUploadDays: 0 }, /Invalid abortIncompleteMultipartUploadDays: 0/],
    ['upper-case bucket name', { bucketName: 'Rauli-Backups' }, /Invalid bucketName: "Rauli-Backups"\. Expected an S3 bucket name/],
    ['short bucket name', { bucketName: 'ab' }, /Invalid bucketName: "ab"/],
    ['IP-address bucket name', { bucketName: '192.168.10.20' }, /Invalid bucketName: "192\.168\.10\.20"/],
    ['double-dot bucket name', { bucketName: 'rauli..backups' }, /Invalid bucketName/],
    ['reserved bucket prefix', { bucketName: 'xn--rauli' }, /Invalid bucketName: "xn--rauli"/],
    ['reserved bucket suffix', { bucketName: 'rauli-s3alias' }, /Invalid bucketName: "rauli-s3alias"/],
    ['prefix without slash', { prefixes: ['database'] }, /Invalid prefixes: \["database"\]\. Expected a non-empty list of distinct key prefixes/],
    ['wildcard prefix', { prefixes: ['database/*'] }, /Invalid prefixes/],
    ['duplicate prefixes', { prefixes: ['wal/', 'wal/'] }, /Invalid prefixes/],
    ['no prefixes', { prefixes: [] }, /Invalid prefixes: \[\]/],
    ['lock longer than retention', { objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(31)) },
      /Invalid objectLockDefaultRetention: "COMPLIANCE 31 days"\. Expected at most retentionDays \(30\) days/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('a key with SSE-S3 is refused', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    expect(() => new BackupBucket(stack, 'Backup', { encryption: BackupBucketEncryption.S3_MANAGED, encryptionKey: key }))
      .toThrow(/Invalid encryptionKey: "Test\/Key"\. Expected no key with encryption S3_MANAGED/);
  });

  test('replicating SSE-KMS backups needs a destination key', () => {
    const stack = newStack();
    const destination = s3.Bucket.fromBucketArn(stack, 'Dr', 'arn:aws:s3:::rauli-vision-backups-dr');
    expect(() => new BackupBucket(stack, 'Backup', { replication: { destination } }))
      .toThrow(/Invalid replication\.destinationKmsKey: undefined\. Expected a KMS key in the destination region when encryption is KMS/);
    expect(() => new BackupBucket(stack, 'Sse', { encryption: BackupBucketEncryption.S3_MANAGED, replication: { destination } })).not.toThrow();
  });
});
