import * as fs from 'fs';
import * as path from 'path';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LogElasticsearch } from './log-elasticsearch';
import { LogKibana } from './log-kibana';
import { BackupConventions, LoggingConventions } from '../conventions';
import { NON_ROOT_ID, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../workload/security';

/** Where the snapshots go. */
export interface LogSnapshotTarget {
  /** The backup bucket. */
  readonly bucketName: string;
  /**
   * Daily schedule of the snapshot, in Elasticsearch's cron syntax (seconds first).
   * @default '0 30 2 * * ?' (after the nightly database dump)
   */
  readonly schedule?: string;
}

/** Props of {@link LogLifecycle}. */
export interface LogLifecycleProps {
  /** Name of the Job, and of the lifecycle policy, repository and snapshot policy it creates. */
  readonly name: string;
  /** Name of the lifecycle, repository and snapshot policies in Elasticsearch. */
  readonly policyName: string;
  readonly elasticsearch: LogElasticsearch;
  readonly kibana: LogKibana;
  /** Days an index is kept after it rolls over, and a snapshot is kept. */
  readonly retentionDays: number;
  /**
   * Snapshots to the backup bucket's `logs/` prefix.
   * @default - no snapshots
   */
  readonly snapshots?: LogSnapshotTarget;
  /**
   * Image with curl and a POSIX shell.
   * @default LogLifecycle.DEFAULT_IMAGE
   */
  readonly image?: string;
}

/** Labels of the lifecycle Job's pod (its network policy selects them). */
export const LIFECYCLE_POD_LABELS = { 'app.kubernetes.io/component': 'log-lifecycle' };

/**
 * Applies retention and backups through Elasticsearch's own APIs, since ECK
 * has no resource for them (StackConfigPolicy would, but needs an enterprise
 * license): a Job with curl PUTs the index lifecycle policy (roll over
 * daily, delete `retentionDays` after rollover, once a snapshot holds the
 * index), the S3 snapshot repository under the backup bucket's `logs/`
 * prefix and the daily snapshot policy keeping snapshots as long, then
 * creates Kibana's data view. Filebeat points its data stream at the policy
 * and never overwrites it.
 */
export class LogLifecycle extends Construct {
  /** Default `image`. */
  public static readonly DEFAULT_IMAGE = 'curlimages/curl:8.11.1';

  /** Path of the script on this machine (tests run it directly). */
  public static scriptPath(): string {
    return path.join(__dirname, 'scripts', 'lifecycle-setup.sh');
  }

  /** The JSON bodies of the API calls, by file name (the script's `$BODIES`). */
  public readonly bodies: { [file: string]: string };
  /** Name of the Job. */
  public readonly jobName: string;

  constructor(scope: Construct, id: string, props: LogLifecycleProps) {
    super(scope, id);
    this.jobName = props.name;
    this.bodies = this.buildBodies(props);
    const configMap = new k8s.KubeConfigMap(this, 'Config', {
      metadata: { name: props.name, namespace: props.elasticsearch.namespace },
      data: { 'lifecycle-setup.sh': fs.readFileSync(LogLifecycle.scriptPath(), 'utf8'), ...this.bodies },
    });
    this.buildJob(props, configMap.name);
  }

  private buildBodies(props: LogLifecycleProps): { [file: string]: string } {
    const days = `${props.retentionDays}d`;
    const json = (o: unknown) => JSON.stringify(o, undefined, 2);
    const bodies: { [file: string]: string } = {
      'ilm-policy.json': json({
        policy: {
          phases: {
            hot: { actions: { rollover: { max_age: '1d', max_primary_shard_size: '50gb' } } },
            delete: {
              min_age: days,
              actions: {
                // An index is deleted only once a snapshot taken after it entered the phase holds it.
                ...(props.snapshots ? { wait_for_snapshot: { policy: props.policyName } } : {}),
                delete: {},
              },
            },
          },
        },
      }),
      'data-view.json': json({
        data_view: { id: props.policyName, name: 'RAULI-VISION logs', title: LoggingConventions.INDEX_PATTERN, timeFieldName: '@timestamp' },
        override: true,
      }),
    };
    if (props.snapshots) {
      bodies['repository.json'] = json({
        type: 's3',
        // Elasticsearch joins base_path and its own keys with "/": no trailing slash.
        settings: { bucket: props.snapshots.bucketName, base_path: BackupConventions.LOGS_PREFIX.replace(/\/$/, ''), client: 'default' },
      });
      bodies['slm-policy.json'] = json({
        schedule: props.snapshots.schedule ?? '0 30 2 * * ?',
        name: '<logs-{now/d}>',
        repository: props.policyName,
        config: { indices: [LoggingConventions.INDEX_PATTERN], include_global_state: false },
        retention: { expire_after: days, min_count: 1 },
      });
    }
    return bodies;
  }

  private buildJob(props: LogLifecycleProps, configMapName: string): void {
    const es = props.elasticsearch;
    const kb = props.kibana;
    const secretVolume = (name: string, secretName: string) => ({ name, secret: { secretName } });
    const env = (name: string, value: string) => ({ name, value });
    new k8s.KubeJob(this, 'Job', {
      metadata: { name: props.name, namespace: es.namespace, labels: LIFECYCLE_POD_LABELS },
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels: LIFECYCLE_POD_LABELS },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(NON_ROOT_ID),
            containers: [{
              name: 'lifecycle',
              image: props.image ?? LogLifecycle.DEFAULT_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/sh', '/config/lifecycle-setup.sh'],
              env: [
                env('ES_URL', `https://${es.httpService}.${es.namespace}.svc:${LoggingConventions.ELASTICSEARCH_PORT}`),
                env('KIBANA_URL', `https://${kb.httpService}.${es.namespace}.svc:${LoggingConventions.KIBANA_PORT}`),
                env('BODIES', '/config'),
                env('POLICY', props.policyName),
                env('ELASTIC_PASSWORD_FILE', '/secrets/elastic-user/elastic'),
                env('ES_CA_FILE', '/secrets/es-ca/ca.crt'),
                env('KIBANA_CA_FILE', '/secrets/kibana-ca/ca.crt'),
              ],
              resources: {
                requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('32Mi') },
                limits: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('64Mi') },
              },
              securityContext: restrictedContainerSecurityContext(NON_ROOT_ID),
              volumeMounts: [
                { name: 'config', mountPath: '/config', readOnly: true },
                { name: 'elastic-user', mountPath: '/secrets/elastic-user', readOnly: true },
                { name: 'es-ca', mountPath: '/secrets/es-ca', readOnly: true },
                { name: 'kibana-ca', mountPath: '/secrets/kibana-ca', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: configMapName } },
              secretVolume('elastic-user', es.elasticUserSecret),
              secretVolume('es-ca', es.caSecret),
              secretVolume('kibana-ca', kb.caSecret),
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Mi') } },
            ],
          },
        },
      },
    });
  }
}
