/**
 * Names of the metrics the alert rules and dashboards read from software the
 * platform does not write: postgres_exporter, redis_exporter,
 * kube-state-metrics, cAdvisor (kubelet) and cert-manager. The application's
 * own metrics live in `MetricNames` (src/conventions), shared with the Koa
 * middleware. Kept in one place so a renamed exporter metric is one edit and
 * the drift test can tell a typo from a known metric.
 */
export class ExporterMetrics {
  /** postgres_exporter: backends connected per database (label `datname`). */
  public static readonly PG_CONNECTIONS = 'pg_stat_database_numbackends';
  /** postgres_exporter: the server's `max_connections` setting. */
  public static readonly PG_MAX_CONNECTIONS = 'pg_settings_max_connections';
  /**
   * postgres_exporter (0.13+, replication collector): seconds a standby's
   * replay is behind the primary; 0 when it has replayed everything it received.
   */
  public static readonly PG_REPLICATION_LAG_SECONDS = 'pg_replication_lag_seconds';
  /** postgres_exporter: 1 when the instance is a standby. */
  public static readonly PG_IS_REPLICA = 'pg_replication_is_replica';
  /** postgres_exporter: 1 when the exporter reached PostgreSQL. */
  public static readonly PG_UP = 'pg_up';
  /** postgres_exporter: transactions committed per database. */
  public static readonly PG_COMMITS_TOTAL = 'pg_stat_database_xact_commit';

  /**
   * CloudNativePG instance manager (`cnpg-default-monitoring` queries): backends
   * per `datname`, `usename`, `application_name`, `state`.
   */
  public static readonly CNPG_BACKENDS = 'cnpg_backends_total';
  /** CloudNativePG: a server setting's value (label `name`, e.g. `max_connections`). */
  public static readonly CNPG_SETTING = 'cnpg_pg_settings_setting';
  /** CloudNativePG: seconds a standby's replay is behind (0 on the primary). */
  public static readonly CNPG_REPLICATION_LAG = 'cnpg_pg_replication_lag';
  /** CloudNativePG: 1 on a standby (in recovery), 0 on the primary. */
  public static readonly CNPG_IN_RECOVERY = 'cnpg_pg_replication_in_recovery';
  /** CloudNativePG: seconds since the last WAL segment was archived. */
  public static readonly CNPG_SECONDS_SINCE_LAST_ARCHIVAL = 'cnpg_pg_stat_archiver_seconds_since_last_archival';
  /** CloudNativePG: unix time of the last successful WAL archival. */
  public static readonly CNPG_LAST_ARCHIVED_TIME = 'cnpg_pg_stat_archiver_last_archived_time';
  /** CloudNativePG: unix time of the last failed WAL archival. */
  public static readonly CNPG_LAST_FAILED_TIME = 'cnpg_pg_stat_archiver_last_failed_time';
  /**
   * Barman Cloud plugin (exported through the instance manager): unix time of
   * the newest available base backup. The operator's ConfigMap has no backup
   * query: the plugin's metric replaced the in-core `cnpg_collector_*` one.
   */
  public static readonly BARMAN_LAST_AVAILABLE_BACKUP = 'barman_cloud_cloudnative_pg_io_last_available_backup_timestamp';

  /** redis_exporter: 1 when the exporter reached Redis. */
  public static readonly REDIS_UP = 'redis_up';
  /** redis_exporter: `cluster_state` from CLUSTER INFO (1 = ok). */
  public static readonly REDIS_CLUSTER_STATE = 'redis_cluster_state';
  /** redis_exporter: bytes allocated by Redis. */
  public static readonly REDIS_MEMORY_USED_BYTES = 'redis_memory_used_bytes';
  /** redis_exporter: the `maxmemory` setting (0 = unlimited). */
  public static readonly REDIS_MEMORY_MAX_BYTES = 'redis_memory_max_bytes';
  /** redis_exporter: commands processed. */
  public static readonly REDIS_COMMANDS_TOTAL = 'redis_commands_processed_total';
  /** redis_exporter: connected clients. */
  public static readonly REDIS_CONNECTED_CLIENTS = 'redis_connected_clients';

  /** kube-state-metrics: 1 while a container waits for `reason`. */
  public static readonly KUBE_CONTAINER_WAITING_REASON = 'kube_pod_container_status_waiting_reason';
  /** kube-state-metrics: an HPA's maxReplicas. */
  public static readonly KUBE_HPA_MAX_REPLICAS = 'kube_horizontalpodautoscaler_spec_max_replicas';
  /** kube-state-metrics: an HPA's minReplicas. */
  public static readonly KUBE_HPA_MIN_REPLICAS = 'kube_horizontalpodautoscaler_spec_min_replicas';
  /** kube-state-metrics: an HPA's current replicas. */
  public static readonly KUBE_HPA_CURRENT_REPLICAS = 'kube_horizontalpodautoscaler_status_current_replicas';
  /** kube-state-metrics: failed pods of a Job. */
  public static readonly KUBE_JOB_FAILED = 'kube_job_status_failed';
  /** kube-state-metrics: a Job's owner (`owner_kind`, `owner_name`). */
  public static readonly KUBE_JOB_OWNER = 'kube_job_owner';
  /** kube-state-metrics: unix time of a CronJob's last successful run (absent until one succeeds). */
  public static readonly KUBE_CRONJOB_LAST_SUCCESS = 'kube_cronjob_status_last_successful_time';
  /** kube-state-metrics: unix time a CronJob was created. */
  public static readonly KUBE_CRONJOB_CREATED = 'kube_cronjob_created';
  /** kube-state-metrics: 1 for a pod's current phase (`phase`). */
  public static readonly KUBE_POD_PHASE = 'kube_pod_status_phase';
  /** kube-state-metrics: resource requests per container (`resource`, `unit`). */
  public static readonly KUBE_CONTAINER_REQUESTS = 'kube_pod_container_resource_requests';
  /** kube-state-metrics: resource limits per container (`resource`, `unit`). */
  public static readonly KUBE_CONTAINER_LIMITS = 'kube_pod_container_resource_limits';

  /** cAdvisor: CPU seconds used per container. */
  public static readonly CONTAINER_CPU_SECONDS_TOTAL = 'container_cpu_usage_seconds_total';
  /** cAdvisor: working-set memory per container (what the OOM killer looks at). */
  public static readonly CONTAINER_MEMORY_WORKING_SET_BYTES = 'container_memory_working_set_bytes';

  /** cert-manager: unix time a Certificate's current certificate expires. */
  public static readonly CERT_EXPIRATION_TIMESTAMP = 'certmanager_certificate_expiration_timestamp_seconds';

  /** kube-state-metrics: pods of a DaemonSet that should run and are not available. */
  public static readonly KUBE_DAEMONSET_UNAVAILABLE = 'kube_daemonset_status_number_unavailable';
  /** kube-state-metrics: nodes a DaemonSet should run on. */
  public static readonly KUBE_DAEMONSET_DESIRED = 'kube_daemonset_status_desired_number_scheduled';
  /** kube-state-metrics: nodes a DaemonSet's pod is scheduled on. */
  public static readonly KUBE_DAEMONSET_SCHEDULED = 'kube_daemonset_status_current_number_scheduled';
  /** kube-state-metrics: desired replicas of a StatefulSet. */
  public static readonly KUBE_STATEFULSET_REPLICAS = 'kube_statefulset_replicas';
  /** kube-state-metrics: ready replicas of a StatefulSet. */
  public static readonly KUBE_STATEFULSET_READY = 'kube_statefulset_status_replicas_ready';
  /** kube-state-metrics: available replicas of a Deployment. */
  public static readonly KUBE_DEPLOYMENT_AVAILABLE = 'kube_deployment_status_replicas_available';
  /** kubelet: free bytes of a mounted PersistentVolumeClaim. */
  public static readonly KUBELET_VOLUME_AVAILABLE_BYTES = 'kubelet_volume_stats_available_bytes';
  /** kubelet: capacity of a mounted PersistentVolumeClaim. */
  public static readonly KUBELET_VOLUME_CAPACITY_BYTES = 'kubelet_volume_stats_capacity_bytes';
}
