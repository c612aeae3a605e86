import { Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LogCollector } from './log-collector';
import { LogElasticsearch } from './log-elasticsearch';
import { LogKibana } from './log-kibana';
import { LogLifecycle } from './log-lifecycle';
import { LoggingNetworkPolicies } from './logging-network-policies';
import { LoggingSizing } from './logging-sizing';
import { BackupConventions, Components, LoggingConventions } from '../conventions';
import { PropValidationError, validateDnsLabel, validateInteger } from '../core/validate';
import { BackupStorage } from '../data/backup/backup-storage';
import { podSecurityLabels } from '../namespace/pod-security';
import { LogPipelineTargets } from '../observability/alert-rules';

/** Settings of the logging stack a chart user may change. */
export interface LoggingOptions {
  /**
   * Deploy the logging stack. Off where several environments share a cluster
   * and another environment's stack already collects every node's logs.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Namespace of Elasticsearch, Kibana and the collector; it enforces Pod
   * Security `privileged`, so it must not be the application's namespace.
   * @default LoggingConventions.NAMESPACE ('logging')
   */
  readonly namespace?: string;
  /**
   * Days logs are kept, and their snapshots: the platform's one retention setting.
   * @default BackupConventions.RETENTION_DAYS (30)
   */
  readonly retentionDays?: number;
  /**
   * Sizing of Elasticsearch, Kibana and the collector.
   * @default - the environment preset's
   */
  readonly sizing?: LoggingSizing;
  /**
   * Namespace of the ECK operator.
   * @default 'elastic-system'
   */
  readonly operatorNamespace?: string;
  /**
   * Image of the lifecycle Job (curl and a POSIX shell).
   * @default LogLifecycle.DEFAULT_IMAGE
   */
  readonly lifecycleImage?: string;
}

/** Props of {@link LoggingStack}. */
export interface LoggingStackProps extends LoggingOptions {
  /** Environment name, recorded on the platform's log lines. */
  readonly environment: string;
  /** Sizing used when `sizing` is not set: the environment preset's. */
  readonly defaultSizing: LoggingSizing;
  /** The application's namespace, which stays `restricted`. */
  readonly applicationNamespace: string;
  /** Namespace of the ingress controller that may publish Kibana. */
  readonly ingressNamespace: string;
  /**
   * The backup bucket; snapshots go under its `logs/` prefix.
   * @default - no snapshots
   */
  readonly snapshotStorage?: BackupStorage;
}

/** Namespaces a host-log reader's privileged namespace must never be. */
const SHARED_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/**
 * The guide's ELK logging on ECK: Elasticsearch (zone-aware from three
 * nodes), Kibana with a data view of the platform's logs, Filebeat on every
 * node, the index and snapshot lifecycle, and the network policies of the
 * path, in a namespace of their own whose Pod Security level lets the
 * collector read the nodes' log files. Objects carry their namespace
 * explicitly: the chart's namespace is the application's.
 */
export class LoggingStack extends Construct {
  /** Name of the ECK resources (Elasticsearch, Kibana and Beat share it). */
  public static readonly NAME = LoggingConventions.STACK_NAME;
  /** Name of the index lifecycle policy, snapshot repository, snapshot policy and data view. */
  public static readonly POLICY_NAME = 'rauli-vision-logs';

  /** The namespace. */
  public readonly namespace: string;
  /** Days logs and snapshots are kept. */
  public readonly retentionDays: number;
  public readonly elasticsearch: LogElasticsearch;
  public readonly kibana: LogKibana;
  public readonly collector: LogCollector;
  public readonly lifecycle: LogLifecycle;

  constructor(scope: Construct, id: string, props: LoggingStackProps) {
    super(scope, id);
    this.namespace = this.validateNamespace(props);
    this.retentionDays = validateInteger('logging.retentionDays', props.retentionDays ?? BackupConventions.RETENTION_DAYS, 1, 3650);
    const sizing = this.validateSizing(props.sizing ?? props.defaultSizing);
    this.buildNamespace();
    const name = LoggingStack.NAME;
    this.elasticsearch = new LogElasticsearch(this, 'Elasticsearch', { name, namespace: this.namespace, sizing, snapshotStorage: props.snapshotStorage });
    this.kibana = new LogKibana(this, 'Kibana', { name, elasticsearch: this.elasticsearch, sizing });
    this.collector = new LogCollector(this, 'Collector', {
      name, elasticsearch: this.elasticsearch, sizing, environment: props.environment, lifecyclePolicy: LoggingStack.POLICY_NAME,
    });
    this.lifecycle = new LogLifecycle(this, 'Lifecycle', {
      name: `${name}-lifecycle`,
      policyName: LoggingStack.POLICY_NAME,
      elasticsearch: this.elasticsearch,
      kibana: this.kibana,
      retentionDays: this.retentionDays,
      snapshots: props.snapshotStorage ? { bucketName: props.snapshotStorage.bucketName } : undefined,
      image: props.lifecycleImage,
    });
    new LoggingNetworkPolicies(this, 'NetworkPolicies', {
      elasticsearch: this.elasticsearch,
      kibana: this.kibana,
      collector: this.collector,
      ingressNamespace: props.ingressNamespace,
      operatorNamespace: validateDnsLabel('logging.operatorNamespace', props.operatorNamespace ?? 'elastic-system'),
      snapshots: props.snapshotStorage !== undefined,
    });
  }

  /** What the log pipeline's alerts watch. */
  public alertTargets(): LogPipelineTargets {
    return {
      namespace: this.namespace,
      elasticsearchStatefulSets: `${this.elasticsearch.statefulSet}`,
      elasticsearchVolumeClaims: `${this.elasticsearch.volumeClaimPrefix}-[0-9]+`,
      kibanaDeployment: this.kibana.deployment,
      collectorDaemonSet: this.collector.daemonSet,
      setupJob: this.lifecycle.jobName,
    };
  }

  private validateNamespace(props: LoggingStackProps): string {
    const namespace = validateDnsLabel('logging.namespace', props.namespace ?? LoggingConventions.NAMESPACE);
    if (namespace === props.applicationNamespace || SHARED_NAMESPACES.includes(namespace)) {
      throw new PropValidationError('logging.namespace', namespace,
        `a namespace of its own: it enforces Pod Security 'privileged' for the collector, so it must not be the application's namespace ('${props.applicationNamespace}') nor one of ${SHARED_NAMESPACES.map(n => `'${n}'`).join(', ')}`);
    }
    return namespace;
  }

  private validateSizing(sizing: LoggingSizing): LoggingSizing {
    validateInteger('logging.sizing.elasticsearchNodes', sizing.elasticsearchNodes, 1, 100);
    // Two master-eligible nodes cannot elect a master when one is lost: worse than one.
    if (sizing.elasticsearchNodes === 2) {
      throw new PropValidationError('logging.sizing.elasticsearchNodes', 2, '1, or 3 or more (a quorum of master-eligible nodes)');
    }
    validateInteger('logging.sizing.kibanaInstances', sizing.kibanaInstances, 1, 10);
    return sizing;
  }

  /**
   * The collector reads host paths: `baseline` forbids hostPath volumes, so
   * the namespace enforces `privileged`; no other workload runs in it.
   */
  private buildNamespace(): void {
    const level = 'privileged';
    const ns = new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: this.namespace,
        labels: {
          [Components.PART_OF_LABEL]: Components.PART_OF,
          ...podSecurityLabels(level),
        },
      },
    });
    if (Chart.of(this).namespace) ns.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}
