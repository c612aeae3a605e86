import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackupBucket, BackupBucketProps } from '../backup/backup-bucket';
import { BackupJobRole, BackupJobRoleOptions } from '../backup/backup-job-role';
import { BackupConventions, Components } from '../conventions.generated';
import { validateDnsLabel } from '../core/validate.generated';
import { CostAllocationTags } from '../cost/cost-allocation-tags';
import { CostGuardrails, CostGuardrailsProps } from '../cost/cost-guardrails';

/** Properties of a PlatformFoundationStack. */
export interface PlatformFoundationStackProps extends StackProps {
  /** Environment name (`dev`, `staging`, `production`): the `environment` tag and part of the budget name. */
  readonly environment: string;

  /**
   * Value of the `project` cost-allocation tag.
   *
   * @default Components.PART_OF ('rauli-vision')
   */
  readonly project?: string;

  /**
   * Value of the `cost-center` cost-allocation tag.
   *
   * @default - no cost-center tag
   */
  readonly costCenter?: string;

  /**
   * The backup bucket's settings.
   *
   * @default - BackupBucket defaults: KMS, versioned, 30-day retention per prefix, access logs, RETAIN
   */
  readonly backupBucket?: BackupBucketProps;

  /** The IRSA trust of the backup jobs' role (OIDC provider, namespace, ServiceAccount). */
  readonly backupJobRole: BackupJobRoleOptions;

  /**
   * The cost budget's settings.
   *
   * @default - CostGuardrails defaults: 1000 USD a month, 80 % and 95 % on actual cost, to a new encrypted topic
   */
  readonly costGuardrails?: CostGuardrailsProps;
}

/**
 * The AWS side of one RAULI-VISION environment: the backup bucket, the role
 * the backup CronJobs assume, the cost budget, and cost-allocation tags on
 * all of them. Its outputs (`BackupConventions.OUTPUT_BUCKET_NAME`,
 * `OUTPUT_REGION`, `OUTPUT_ROLE_ARN`) are the backup CronJobs' `bucketName`,
 * `region` and `roleArn`.
 */
export class PlatformFoundationStack extends Stack {
  /** The backup bucket. */
  public readonly backupBucket: BackupBucket;
  /** The backup jobs' IRSA role. */
  public readonly backupJobRole: BackupJobRole;
  /** The budget and its notifications. */
  public readonly costGuardrails: CostGuardrails;

  constructor(scope: Construct, id: string, props: PlatformFoundationStackProps) {
    super(scope, id, props);
    validateDnsLabel('environment', props.environment);

    this.backupBucket = new BackupBucket(this, 'BackupBucket', props.backupBucket);
    this.backupJobRole = new BackupJobRole(this, 'BackupJobRole', {
      prefixes: this.backupBucket.prefixes,
      ...props.backupJobRole,
      bucket: this.backupBucket.bucket,
    });
    this.costGuardrails = new CostGuardrails(this, 'CostGuardrails', {
      budgetName: `${props.project ?? Components.PART_OF}-${props.environment}-monthly-cost`,
      ...props.costGuardrails,
    });
    CostAllocationTags.apply(this, { environment: props.environment, project: props.project, costCenter: props.costCenter });

    // Output ids are the keys in `cdk deploy --outputs-file`: the cdk8s app reads them by these names.
    new CfnOutput(this, BackupConventions.OUTPUT_BUCKET_NAME, {
      description: 'Backup bucket: the backup CronJobs\' bucketName',
      value: this.backupJobRole.bucketName,
    });
    new CfnOutput(this, BackupConventions.OUTPUT_REGION, {
      description: 'Region of the backup bucket: the backup CronJobs\' region',
      value: this.backupJobRole.region,
    });
    new CfnOutput(this, BackupConventions.OUTPUT_ROLE_ARN, {
      description: 'IRSA role of the backup jobs: the backup CronJobs\' roleArn (ServiceAccount annotation eks.amazonaws.com/role-arn)',
      value: this.backupJobRole.roleArn,
    });
  }
}
