/** Where backups go: an S3 bucket or any S3-compatible store. */
export interface BackupStorage {
  /** Bucket name (the AWS package's backup bucket enforces the retention with lifecycle rules). */
  readonly bucketName: string;
  /**
   * Bucket region.
   * @default - the AWS CLI's default resolution
   */
  readonly region?: string;
  /**
   * Endpoint URL of an S3-compatible server, e.g. `https://minio.storage.svc:9000`.
   * @default - AWS S3
   */
  readonly endpoint?: string;
  /**
   * Secret with static credentials under the keys `access-key-id` and `secret-access-key`.
   * @default - none: the role in `roleArn`, or the ambient AWS credentials (EKS Pod Identity, node role)
   */
  readonly credentialsSecret?: string;
  /**
   * IAM role assumed through IRSA: annotates the jobs' ServiceAccount
   * (`eks.amazonaws.com/role-arn`). The AWS package's backup role construct gives it.
   * @default - none
   */
  readonly roleArn?: string;
}
