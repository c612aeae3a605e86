/**
 * The one place where settings shared by every layer live: the Koa middleware
 * (through the generated `packages/koa/src/conventions.generated.ts`), the
 * manifests, the alert rules and the dashboards all read from here, so a port,
 * a path or a metric name cannot drift between them.
 */
import { Durations } from './duration';
import { RuntimeSettings } from './runtime-settings';

export * from './duration';
export * from './runtime-settings';

/** The default of a runtime setting, from the one table. */
function settingDefault(name: string): string {
  return RuntimeSettings.get(name).defaultValue!;
}

/** HTTP paths and ports every RAULI-VISION service exposes. */
export class ServiceConventions {
  /** Port of the application HTTP server inside the container. */
  public static readonly HTTP_PORT: number = Number(settingDefault('PORT'));
  /** Port of the separate metrics server (the guide's `METRICS_PORT`). */
  public static readonly METRICS_PORT: number = Number(settingDefault('METRICS_PORT'));
  /** Name of the container port that serves HTTP. */
  public static readonly HTTP_PORT_NAME = 'http';
  /** Name of the container port that serves metrics (ServiceMonitors select it). */
  public static readonly METRICS_PORT_NAME = 'metrics';
  /** Liveness endpoint: the process is alive. */
  public static readonly LIVENESS_PATH = '/healthz';
  /** Readiness endpoint: dependencies answer. */
  public static readonly READINESS_PATH = '/readyz';
  /** Prometheus scrape path on the metrics port. */
  public static readonly METRICS_PATH = '/metrics';
  /** Response header carrying the request id. */
  public static readonly REQUEST_ID_HEADER = 'x-request-id';
}

/** Metric names shared by the Koa middleware, the alert rules and the dashboards. */
export class MetricNames {
  /** Counter of finished HTTP requests, labelled method, route, status. */
  public static readonly HTTP_REQUESTS_TOTAL = 'http_requests_total';
  /** Histogram of HTTP request durations in seconds, labelled method, route, status. */
  public static readonly HTTP_REQUEST_DURATION_SECONDS = 'http_request_duration_seconds';
  /** Gauge of requests being served right now. */
  public static readonly HTTP_REQUESTS_IN_FLIGHT = 'http_requests_in_flight';
  /** Counter of requests refused by the rate limiter. */
  public static readonly RATE_LIMIT_REJECTED_TOTAL = 'rate_limit_rejected_total';
  /** Counter of rate-limit decisions taken by the in-process fallback because Redis failed. */
  public static readonly RATE_LIMIT_FALLBACK_TOTAL = 'rate_limit_fallback_total';
  /** Counter of cache lookups, labelled cache (the cache's name) and result (l1_hit, l2_hit, miss). */
  public static readonly CACHE_REQUESTS_TOTAL = 'cache_requests_total';
  /** Route label given to requests that matched no route, so cardinality stays bounded. */
  public static readonly UNMATCHED_ROUTE = '__unmatched__';
  /**
   * Histogram buckets (seconds) for request durations, dense around the
   * 200 ms p95 target so `histogram_quantile` is accurate where it matters.
   */
  public static readonly HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1, 2.5, 5, 10];
}

/** Service-level objectives from the guide's technical KPIs. */
export class Slo {
  /** Availability target (the guide: uptime 99.9 %). */
  public static readonly AVAILABILITY = 0.999;
  /** p95 latency target in seconds (the guide: < 200 ms). */
  public static readonly LATENCY_P95_SECONDS = 0.2;
  /** Ratio of 5xx above which HighErrorRate fires (the guide: 5 %). */
  public static readonly HIGH_ERROR_RATE = 0.05;
  /** p95 latency in seconds above which HighResponseTime fires (the guide: 1 s). */
  public static readonly HIGH_RESPONSE_TIME_SECONDS = 1;
  /** Share of PostgreSQL connections in use above which DatabaseConnectionsHigh fires. */
  public static readonly DATABASE_CONNECTIONS_HIGH = 0.8;
}

/** Defaults taken from the guide's `.env.production`, read from the table of runtime settings (`RuntimeSettings`). */
export class RuntimeDefaults {
  /** Requests per client per window (`RATE_LIMIT_REQUESTS`). */
  public static readonly RATE_LIMIT_REQUESTS: number = Number(settingDefault('RATE_LIMIT_REQUESTS'));
  /** Rate-limit window (`RATE_LIMIT_WINDOW`). */
  public static readonly RATE_LIMIT_WINDOW: string = settingDefault('RATE_LIMIT_WINDOW');
  /** Requests per client per window on the login route (`LOGIN_RATE_LIMIT_REQUESTS`). */
  public static readonly LOGIN_RATE_LIMIT_REQUESTS: number = Number(settingDefault('LOGIN_RATE_LIMIT_REQUESTS'));
  /** Connections each replica's pool opens (`DATABASE_POOL_SIZE`). */
  public static readonly DATABASE_POOL_SIZE: number = Number(settingDefault('DATABASE_POOL_SIZE'));
  /** PostgreSQL `max_connections` (`DATABASE_MAX_CONNECTIONS`). */
  public static readonly DATABASE_MAX_CONNECTIONS: number = Number(settingDefault('DATABASE_MAX_CONNECTIONS'));
  /** Upper bound on one request (`HTTP_TIMEOUT`). */
  public static readonly HTTP_TIMEOUT: string = settingDefault('HTTP_TIMEOUT');
  /** Concurrency cap per process (`MAX_CONCURRENT_REQUESTS`). */
  public static readonly MAX_CONCURRENT_REQUESTS: number = Number(settingDefault('MAX_CONCURRENT_REQUESTS'));
  /** JWT lifetime (`JWT_EXPIRES_IN`). */
  public static readonly JWT_EXPIRES_IN: string = settingDefault('JWT_EXPIRES_IN');
  /** bcrypt cost (`BCRYPT_ROUNDS`). */
  public static readonly BCRYPT_ROUNDS: number = Number(settingDefault('BCRYPT_ROUNDS'));
  /** Seconds a terminating pod keeps serving after readiness fails (`SHUTDOWN_DRAIN_DELAY`). */
  public static readonly SHUTDOWN_DRAIN_SECONDS: number = Durations.parseMilliseconds('SHUTDOWN_DRAIN_DELAY', settingDefault('SHUTDOWN_DRAIN_DELAY')) / 1000;
  /** Pod termination grace period in seconds; the process must exit before it (`TERMINATION_GRACE_PERIOD`). */
  public static readonly TERMINATION_GRACE_SECONDS: number = Durations.parseMilliseconds('TERMINATION_GRACE_PERIOD', settingDefault('TERMINATION_GRACE_PERIOD')) / 1000;
}

/** Backup and disaster-recovery settings shared by the CronJobs and the AWS bucket. */
export class BackupConventions {
  /** Days a backup object is kept (the guide: 30 days); the bucket's lifecycle rules enforce it. */
  public static readonly RETENTION_DAYS = 30;
  /** Schedule of the full database dump (the guide: `0 2 * * *`). */
  public static readonly DATABASE_SCHEDULE = '0 2 * * *';
  /** Recovery time objective in hours (the guide: 4 h). */
  public static readonly RTO_HOURS = 4;
  /** Recovery point objective in hours (the guide: 1 h) of the operator-free engine, whose only recovery points are logical dumps. */
  public static readonly RPO_HOURS = 1;
  /**
   * Key prefix of the Elasticsearch (ECK) snapshot repository in the backup bucket: the log backup.
   * Elasticsearch's snapshot lifecycle deletes old snapshots itself; the bucket sets no expiration
   * on this prefix, because incremental snapshots reuse files older than any expiry date.
   */
  public static readonly LOGS_PREFIX = 'logs/';
  /**
   * Recovery point objective in minutes of the CloudNativePG engine: WAL is
   * archived continuously and `archive_timeout` forces a segment switch at
   * least this often, so an idle-ish primary cannot hold more unarchived writes.
   */
  public static readonly WAL_RPO_MINUTES = 5;
  /** Object key prefixes inside the backup bucket, one per kind of backup. */
  public static readonly PREFIXES = ['database/', 'wal/', 'config/', 'user-data/', BackupConventions.LOGS_PREFIX];
  /** CloudFormation output of the AWS foundation stack holding the backup bucket name (the CronJobs' `bucketName`). */
  public static readonly OUTPUT_BUCKET_NAME = 'BackupBucketName';
  /** CloudFormation output holding the bucket's region (the CronJobs' `region`). */
  public static readonly OUTPUT_REGION = 'BackupRegion';
  /** CloudFormation output holding the IRSA role ARN (the CronJobs' `roleArn`, ServiceAccount annotation `eks.amazonaws.com/role-arn`). */
  public static readonly OUTPUT_ROLE_ARN = 'BackupRoleArn';
  /** CloudFormation output holding the IRSA role ARN of the Elasticsearch snapshot repository (read/write on `LOGS_PREFIX` only). */
  public static readonly OUTPUT_LOG_SNAPSHOT_ROLE_ARN = 'LogSnapshotRoleArn';
}

/** Cost guardrails (the guide's budget-alerts). */
export class CostConventions {
  /** Monthly cost budget in USD (the guide: `monthly_budget: "1000"`). */
  public static readonly MONTHLY_BUDGET_USD = 1000;
  /** Share of the budget, in percent, that raises the warning (the guide: budget * 0.8). */
  public static readonly WARNING_THRESHOLD_PERCENT = 80;
  /** Share of the budget, in percent, that raises the critical alert (the guide: budget * 0.95). */
  public static readonly CRITICAL_THRESHOLD_PERCENT = 95;
  /** Environments the critical threshold's scale-down action may never stop: scaling them to zero is an outage, which costs more than the overrun. */
  public static readonly SCALE_DOWN_PROTECTED_ENVIRONMENTS = ['production'];
  /** Price of one requested CPU core for one hour, in USD (AWS Fargate on-demand, us-east-1, Linux/x86, per vCPU-hour). */
  public static readonly CPU_CORE_HOUR_PRICE_USD = 0.04048;
  /** Price of one requested GiB of memory for one hour, in USD (AWS Fargate on-demand, us-east-1, per GB-hour). */
  public static readonly MEMORY_GIB_HOUR_PRICE_USD = 0.004445;
}

/** Component names: every pod carries `app.kubernetes.io/component: <name>`; NetworkPolicies select on it. */
export class Components {
  /** Label key that names a pod's component. */
  public static readonly LABEL = 'app.kubernetes.io/component';
  /** Label key that names the application all objects belong to. */
  public static readonly PART_OF_LABEL = 'app.kubernetes.io/part-of';
  /** Value of the part-of label. */
  public static readonly PART_OF = 'rauli-vision';
  /** The React PWA (the guide's dashboard). */
  public static readonly FRONTEND = 'frontend';
  /** The Go API (the guide's espejo). */
  public static readonly BACKEND_GO = 'backend-go';
  /** The Python service (the guide's cliente-local). */
  public static readonly BACKEND_PYTHON = 'backend-python';
  /** PostgreSQL primary and replicas. */
  public static readonly POSTGRES = 'postgres';
  /** Redis Cluster nodes. */
  public static readonly REDIS = 'redis';
  /** Backup and restore jobs. */
  public static readonly BACKUP = 'backup';
}

/** Ports of the data tier and its exporters. */
export class DataConventions {
  /** PostgreSQL port. */
  public static readonly POSTGRES_PORT = 5432;
  /** postgres_exporter metrics port. */
  public static readonly POSTGRES_EXPORTER_PORT = 9187;
  /** Redis client port. */
  public static readonly REDIS_PORT = 6379;
  /** Redis Cluster bus port (client port + 10000). */
  public static readonly REDIS_BUS_PORT = 16379;
  /** redis_exporter metrics port. */
  public static readonly REDIS_EXPORTER_PORT = 9121;
  /** Metrics port of a CloudNativePG Pooler's pods (PgBouncer's exporter, named `metrics`). */
  public static readonly PGBOUNCER_EXPORTER_PORT = 9127;
}

/**
 * Security headers every response carries (the guide's nginx `add_header`s and
 * its Go middleware). The Koa middleware sets them in the app and the edge can
 * set them again (ingress-nginx custom-headers ConfigMap, Gateway API
 * ResponseHeaderModifier); both read this one map, so they cannot disagree.
 * `X-XSS-Protection` is `0`, not the guide's `1; mode=block`: browsers removed the
 * XSS auditor, and in the old ones its blocking mode could be abused to leak data
 * across origins. The Content-Security-Policy is the protection that works.
 */
export class SecurityHeaders {
  /** Header name -> value. */
  public static readonly HEADERS: { [name: string]: string } = {
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'X-XSS-Protection': '0',
    'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    'Content-Security-Policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'",
    'Referrer-Policy': 'strict-origin-when-cross-origin',
  };
}

/** Public URL layout the edge routes on and the apps serve. */
export class EdgeConventions {
  /** Path prefix of the Go API (the guide's `location /api/`). */
  public static readonly API_PATH_PREFIX = '/api/';
  /** Login endpoint of the API; the edge gives it its own, stricter rate limit. */
  public static readonly LOGIN_PATH = '/api/auth/login';
  /**
   * Prefix of the frontend's content-hashed build output (Vite's `assets/`).
   * Only these files may be cached for a year as immutable: un-hashed files
   * such as the PWA's `sw.js` or `index.html` must stay revalidated.
   */
  public static readonly STATIC_ASSETS_PATH = '/assets/';
  /** Cache-Control for content-hashed static assets (the guide: `expires 1y`, `public, immutable`). */
  public static readonly STATIC_ASSETS_CACHE_CONTROL = 'public, max-age=31536000, immutable';
}

/** How often Prometheus scrapes (the guide: the backends every 15 s, everything else every 30 s). */
export class ScrapeIntervals {
  /** Default interval of a ServiceMonitor (the guide's `monitoring.serviceMonitor.interval`). */
  public static readonly DEFAULT = '30s';
  /** The API backends, whose latency and error SLOs need finer series. */
  public static readonly BACKEND = '15s';
}

/** Prometheus timing the guide asks for (kube-prometheus-stack values and ServiceMonitors). */
export class PrometheusConventions {
  /** Global scrape interval (the guide's `scrape_interval: 15s`). */
  public static readonly SCRAPE_INTERVAL = '15s';
  /** Rule evaluation interval (the guide's `evaluation_interval: 15s`). */
  public static readonly EVALUATION_INTERVAL = '15s';
  /**
   * Scrape interval of the data-tier exporters: postgres_exporter runs SQL on
   * every scrape, and connection, replication and memory figures move slower
   * than request rates.
   */
  public static readonly EXPORTER_SCRAPE_INTERVAL = '30s';
}

/** Names of the log pipeline shared by the logging stack, its alerts and its network policies. */
export class LoggingConventions {
  /** Namespace of Elasticsearch, Kibana and the collector. */
  public static readonly NAMESPACE = 'logging';
  /** Elastic Stack version run by ECK (Elasticsearch, Kibana and Filebeat move together). */
  public static readonly STACK_VERSION = '8.19.0';
  /** Elasticsearch HTTP port. */
  public static readonly ELASTICSEARCH_PORT = 9200;
  /** Elasticsearch transport (inter-node) port. */
  public static readonly TRANSPORT_PORT = 9300;
  /** Kibana HTTP port. */
  public static readonly KIBANA_PORT = 5601;
  /** Data streams Filebeat writes (its default `filebeat-<version>`), and the Kibana data view's pattern. */
  public static readonly INDEX_PATTERN = 'filebeat-*';
  /** Name of the logging stack: the prefix of its Elasticsearch, Kibana and Beat resources. */
  public static readonly STACK_NAME = 'logs';
  /**
   * ServiceAccount of the Elasticsearch pods that write the log snapshots: the
   * name the AWS package's LogSnapshotRole trusts (with `NAMESPACE`) by default.
   */
  public static readonly SNAPSHOT_SERVICE_ACCOUNT = `${LoggingConventions.STACK_NAME}-es-snapshots`;
}
