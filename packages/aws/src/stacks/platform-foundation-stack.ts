import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackupBucket, BackupBucketProps } from '../backup/backup-bucket';
import { BackupJobRole, BackupJobRoleOptions } from '../backup/backup-job-role';
import { LogSnapshotRole } from '../backup/log-snapshot-role';
import { BackupConventions, Components } from '../conventions.generated';
import { validateDnsLabel } from '../core/validate.generated';
import { BudgetScaleDown } from '../cost/budget-scale-down';
import { CostAllocationTags } from '../cost/cost-allocation-tags';
import { CostGuardrails, CostGuardrailsOptions } from '../cost/cost-guardrails';

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
   * The environment's cost budget: where its alerts go, its limit and
   * thresholds, and the scale-down action. The stack fills in the cost
   * filter (this environment's `project` and `environment` tags).
   */
  readonly costGuardrails: CostGuardrailsOptions;

  /**
   * The Elasticsearch ServiceAccounts (ECK) that keep the log snapshots under
   * `BackupConventions.LOGS_PREFIX`: they get a LogSnapshotRole, trusted
   * through the backup role's OIDC provider.
   *
   * @default - no log snapshot role
   */
  readonly logSnapshots?: LogSnapshotServiceAccounts;
}

/** The Elasticsearch pods' ServiceAccounts that write the log snapshots. */
export interface LogSnapshotServiceAccounts {
  /**
   * Namespace of the Elasticsearch cluster.
   * @default LoggingConventions.NAMESPACE ('logging')
   */
  readonly namespace?: string;
  /**
   * ServiceAccounts of its pods.
   * @default [LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT] ('logs-es-snapshots')
   */
  readonly serviceAccountNames?: string[];
}

/**
 * The AWS side of one RAULI-VISION environment: the backup bucket, the role
 * the backup CronJobs assume, the cost budget, and cost-allocation tags on
 * all of them. Its outputs (`BackupConventions.OUTPUT_BUCKET_NAME`,
 * `OUTPUT_REGION`, `OUTPUT_ROLE_ARN`) are the backup CronJobs' `bucketName`,
 * `region` and `roleArn`.
 */
export class PlatformFoundationStack extends Stack {
  /** Output holding the name of the budget's scale-down function (what the restore is invoked on). */
  public static readonly OUTPUT_SCALE_DOWN_FUNCTION_NAME = 'ScaleDownFunctionName';

  /** The backup bucket. */
  public readonly backupBucket: BackupBucket;
  /** The backup jobs' IRSA role. */
  public readonly backupJobRole: BackupJobRole;
  /** The budget, its two channels and its scale-down action. */
  public readonly costGuardrails: CostGuardrails;
  /** The Elasticsearch snapshot repository's IRSA role (undefined without `logSnapshots`). */
  public readonly logSnapshotRole?: LogSnapshotRole;

  constructor(scope: Construct, id: string, props: PlatformFoundationStackProps) {
    super(scope, id, props);
    validateDnsLabel('environment', props.environment);

    this.backupBucket = new BackupBucket(this, 'BackupBucket', props.backupBucket);
    this.backupJobRole = new BackupJobRole(this, 'BackupJobRole', {
      prefixes: this.backupBucket.prefixes.filter(p => p !== BackupConventions.LOGS_PREFIX),
      ...props.backupJobRole,
      bucket: this.backupBucket.bucket,
    });
    this.costGuardrails = new CostGuardrails(this, 'CostGuardrails', {
      budgetName: `${props.project ?? Components.PART_OF}-${props.environment}-monthly-cost`,
      ...props.costGuardrails,
      environment: props.environment,
      project: props.project,
    });
    if (props.logSnapshots) {
      this.logSnapshotRole = new LogSnapshotRole(this, 'LogSnapshotRole', {
        ...props.logSnapshots,
        oidcProviderArn: props.backupJobRole.oidcProviderArn,
        bucket: this.backupBucket,
      });
    }
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
    if (this.logSnapshotRole) {
      new CfnOutput(this, BackupConventions.OUTPUT_LOG_SNAPSHOT_ROLE_ARN, {
        description: `IRSA role of the Elasticsearch snapshot repository (s3://<BackupBucketName>/${BackupConventions.LOGS_PREFIX} only): the Elasticsearch ServiceAccount's eks.amazonaws.com/role-arn`,
        value: this.logSnapshotRole.roleArn,
      });
    }
    if (this.costGuardrails.scaleDown) {
      new CfnOutput(this, PlatformFoundationStack.OUTPUT_SCALE_DOWN_FUNCTION_NAME, {
        description: `Budget scale-down function; undo with: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '${BudgetScaleDown.RESTORE_EVENT}' out.json`,
        value: this.costGuardrails.scaleDown.functionName,
      });
    }
  }
}
