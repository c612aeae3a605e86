import { PropValidationError, validateInteger } from '../../core/validate';

/** A Secret key holding a password. */
export interface SecretKeyRef {
  /** Secret name. */
  readonly name: string;
  /** Key inside the Secret. */
  readonly key: string;
}

/**
 * What the backups, the data tier and the applications need from a PostgreSQL
 * cluster, whichever engine runs it (CloudNativePG or the operator-free
 * StatefulSets).
 */
export interface IPostgresDatabase {
  /** Base name of the objects. */
  readonly name: string;
  /** Namespace of its objects, which the jobs that connect to it directly (backups, restores) share (undefined: the chart's). */
  readonly namespace?: string;
  /** Host the applications connect to for writes: the read-write pooler. */
  readonly readWriteHost: string;
  /** Host the applications connect to for reads: the read-only pooler (the read-write one when there are no standbys). */
  readonly readOnlyHost: string;
  /** Host of the primary itself, without the pooler (backups, restores, migrations that need session state). */
  readonly primaryHost: string;
  /** PostgreSQL port, also the poolers' port. */
  readonly port: number;
  /** Application database. */
  readonly database: string;
  /** Labels of the PostgreSQL server pods (the backup jobs' egress target). */
  readonly selector: { [key: string]: string };
  /** Superuser the backup and restore jobs connect as. */
  readonly adminUser: string;
  /** Where the superuser's password is. */
  readonly adminPassword: SecretKeyRef;
  /** `max_connections` of every instance. */
  readonly maxConnections: number;
  /** Pool size one application replica opens. */
  readonly poolSize: number;
  /** Number of PostgreSQL instances (primary + standbys). */
  readonly instances: number;
  /** What the poolers allow: server connections per PgBouncer, clients per PgBouncer. */
  readonly budget: ConnectionBudget;
  /**
   * Pool size each application replica gets when `maxReplicas` replicas run;
   * throws, naming `maxReplicas`, when the pooler cannot take them.
   */
  poolSizeFor(maxReplicas: number): number;
}

/**
 * The connection budget of a pooled cluster: the applications' client
 * connections end at PgBouncer, which opens at most `serverPoolSize` server
 * connections per instance, so PostgreSQL sees `poolerInstances *
 * serverPoolSize` connections plus the reserved ones, whatever the number of
 * application replicas.
 */
export class ConnectionBudget {
  /**
   * Connections outside the pool: superuser_reserved_connections (3), the
   * metrics collector (1), the backup and restore jobs (2).
   */
  public static readonly RESERVED = 6;

  /** Server connections one PgBouncer instance may open to PostgreSQL. */
  public readonly serverPoolSize: number;
  /** Client connections one PgBouncer instance accepts. */
  public readonly maxClientConnections: number;

  /**
   * @param maxConnections PostgreSQL's `max_connections`
   * @param poolSize the pool each application replica opens
   * @param poolerInstances PgBouncer instances in front of one PostgreSQL server
   * @param maxClientConnections client connections one PgBouncer instance accepts
   */
  constructor(public readonly maxConnections: number, public readonly poolSize: number,
    public readonly poolerInstances: number, maxClientConnections: number) {
    const available = maxConnections - ConnectionBudget.RESERVED;
    if (poolSize > available) {
      throw new PropValidationError('poolSize', poolSize, `at most maxConnections - ${ConnectionBudget.RESERVED} reserved connections (${available})`);
    }
    this.serverPoolSize = Math.floor(available / poolerInstances);
    if (this.serverPoolSize < 1) {
      throw new PropValidationError('poolerInstances', poolerInstances, `at most ${available} PgBouncer instances for maxConnections ${maxConnections}`);
    }
    this.maxClientConnections = maxClientConnections;
  }

  /**
   * The configured pool size, as long as one PgBouncer instance accepts every
   * replica's pool: the Service does not balance connections evenly, and
   * during a rolling update one instance takes them all. A client connection
   * beyond the server pool waits in PgBouncer's queue; it is never refused.
   */
  public poolSizeFor(maxReplicas: number): number {
    validateInteger('maxReplicas', maxReplicas, 1);
    const clients = maxReplicas * this.poolSize;
    if (clients > this.maxClientConnections) {
      throw new PropValidationError('maxReplicas', maxReplicas,
        `at most ${Math.floor(this.maxClientConnections / this.poolSize)} replicas with pools of ${this.poolSize}: one PgBouncer instance accepts ${this.maxClientConnections} clients (raise poolerMaxClientConnections)`);
    }
    return this.poolSize;
  }
}
