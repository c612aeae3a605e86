import { BackupConventions } from '../../conventions';
import { validateDnsLabel, validateInteger, PropValidationError } from '../../core/validate';
import { checkedImage } from '../internal';

/** Settings of the CloudNativePG engine. */
export interface CloudNativePgOptions {
  /**
   * Minutes after which PostgreSQL switches to a new WAL segment even when it
   * is not full (`archive_timeout`), so that it gets archived.
   * @default BackupConventions.WAL_RPO_MINUTES
   */
  readonly archiveTimeoutMinutes?: number;
  /**
   * Recovery point objective in minutes the archive timeout must meet.
   * @default BackupConventions.WAL_RPO_MINUTES
   */
  readonly rpoMinutes?: number;
  /**
   * Namespace the CloudNativePG operator runs in (admitted to the instances' status port).
   * @default 'cnpg-system'
   */
  readonly operatorNamespace?: string;
  /**
   * PostgreSQL operand image (CloudNativePG's images carry the instance manager's dependencies).
   * @default 'ghcr.io/cloudnative-pg/postgresql:15.10'
   */
  readonly imageName?: string;
}

/** The pinned PostgreSQL 15 operand image of the CloudNativePG engine. */
export const CNPG_POSTGRES_IMAGE = 'ghcr.io/cloudnative-pg/postgresql:15.10';

/**
 * Which engine runs PostgreSQL: CloudNativePG (automatic failover, WAL
 * archiving and point-in-time recovery; staging and production) or the
 * operator-free StatefulSets (dev, clusters without the operator; logical
 * dumps only).
 */
export class PostgresEngine {
  /** Kind of the CloudNativePG engine. */
  public static readonly CLOUDNATIVE_PG = 'cloudnative-pg';
  /** Kind of the operator-free engine. */
  public static readonly STATEFUL_SET = 'statefulset';

  /** The CloudNativePG operator (1.30) with the Barman Cloud plugin (0.14). */
  public static cloudNativePg(options: CloudNativePgOptions = {}): PostgresEngine {
    const rpoMinutes = validateInteger('rpoMinutes', options.rpoMinutes ?? BackupConventions.WAL_RPO_MINUTES, 1, 24 * 60);
    const archiveTimeoutMinutes = validateInteger('archiveTimeoutMinutes', options.archiveTimeoutMinutes ?? BackupConventions.WAL_RPO_MINUTES, 1, 24 * 60);
    if (archiveTimeoutMinutes > rpoMinutes) {
      throw new PropValidationError('archiveTimeoutMinutes', archiveTimeoutMinutes,
        `at most rpoMinutes (${rpoMinutes}): a segment that waits longer to be switched and archived loses more than the RPO`);
    }
    return new PostgresEngine(PostgresEngine.CLOUDNATIVE_PG, {
      archiveTimeoutMinutes,
      rpoMinutes,
      operatorNamespace: validateDnsLabel('operatorNamespace', options.operatorNamespace ?? 'cnpg-system'),
      imageName: checkedImage('imageName', options.imageName ?? CNPG_POSTGRES_IMAGE),
    });
  }

  /** Two StatefulSets (primary, streaming standbys) with a PgBouncer Deployment; manual failover. */
  public static statefulSet(): PostgresEngine {
    return new PostgresEngine(PostgresEngine.STATEFUL_SET, undefined);
  }

  private constructor(
    /** `PostgresEngine.CLOUDNATIVE_PG` or `PostgresEngine.STATEFUL_SET`. */
    public readonly kind: string,
    /** The checked settings of the CloudNativePG engine (with its defaults filled in). */
    public readonly cloudNativePgOptions: CloudNativePgOptions | undefined) {}

  /** True for the CloudNativePG engine. */
  public get isCloudNativePg(): boolean {
    return this.kind === PostgresEngine.CLOUDNATIVE_PG;
  }
}
