import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { collectorConfig, CONTAINER_LOG_DIRS } from './collector-config';
import { LogElasticsearch } from './log-elasticsearch';
import { LoggingSizing } from './logging-sizing';
import { LoggingConventions } from '../conventions';

/** Props of {@link LogCollector}. */
export interface LogCollectorProps {
  /** Name of the Beat resource. */
  readonly name: string;
  /** The log store it ships to (same namespace). */
  readonly elasticsearch: LogElasticsearch;
  /** Resources per node. */
  readonly sizing: LoggingSizing;
  /** Environment recorded on lines that do not carry one. */
  readonly environment: string;
  /** Index lifecycle policy of the data stream. */
  readonly lifecyclePolicy: string;
}

/** Host directory of Filebeat's registry: where each file was read up to, kept across pod restarts. */
const REGISTRY_DIR = '/var/lib/rauli-vision-filebeat';

/**
 * Filebeat as an ECK Beat DaemonSet: reads every container's log files on
 * its node (hostPath, read-only), adds Kubernetes metadata, parses the
 * platform's JSON lines into fields ({@link collectorConfig}) and ships to
 * the log store. Reading root-owned host files is why its namespace cannot
 * enforce Pod Security `restricted` (nor `baseline`, which forbids hostPath).
 */
export class LogCollector extends Construct {
  /** API version of the ECK CRD. */
  public static readonly API_VERSION = 'beat.k8s.elastic.co/v1beta1';

  /** Name of the resource. */
  public readonly name: string;
  /** The DaemonSet, as ECK names it (`<name>-beat-filebeat`). */
  public readonly daemonSet: string;
  /** Labels of the collector pods, as ECK sets them. */
  public readonly podLabels: { [key: string]: string };
  /** The resource (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: LogCollectorProps) {
    super(scope, id);
    this.name = props.name;
    this.daemonSet = `${props.name}-beat-filebeat`;
    this.podLabels = { 'beat.k8s.elastic.co/name': props.name };
    const namespace = props.elasticsearch.namespace;
    const account = this.buildAccess(namespace);
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: LogCollector.API_VERSION,
      kind: 'Beat',
      metadata: { name: props.name, namespace },
      spec: {
        type: 'filebeat',
        version: LoggingConventions.STACK_VERSION,
        elasticsearchRef: { name: props.elasticsearch.name },
        config: collectorConfig({
          environment: props.environment,
          lifecyclePolicy: props.lifecyclePolicy,
          indexReplicas: props.sizing.elasticsearchNodes > 1 ? 1 : 0,
        }),
        daemonSet: { podTemplate: this.buildPodTemplate(account, props.sizing) },
      },
    });
  }

  /** add_kubernetes_metadata reads pods, namespaces and nodes. */
  private buildAccess(namespace: string): string {
    const name = `${this.name}-filebeat`;
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: { name, namespace } });
    const role = new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: { name: `${namespace}-${name}` },
      rules: [
        { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
      ],
    });
    const binding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: { name: `${namespace}-${name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
    // Cluster-scoped: the chart's namespace must not leak onto them.
    if (Chart.of(this).namespace) for (const o of [role, binding]) o.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    return name;
  }

  private buildPodTemplate(serviceAccountName: string, sizing: LoggingSizing): any {
    const r = sizing.collectorResources;
    const hostDirs = CONTAINER_LOG_DIRS.map((dir, i) => ({ name: `host-logs-${i}`, dir }));
    return {
      spec: {
        serviceAccountName,
        automountServiceAccountToken: true,
        // Every node's logs, tainted nodes included.
        tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'filebeat',
          env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          resources: {
            requests: { cpu: r.cpuRequest, memory: r.memoryRequest },
            limits: { cpu: r.cpuLimit, memory: r.memoryLimit },
          },
          // Root reads the kubelet's root-owned 0640 files; it needs no capability for that.
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [
            ...hostDirs.map(h => ({ name: h.name, mountPath: h.dir, readOnly: true })),
            { name: 'registry', mountPath: '/usr/share/filebeat/data' },
          ],
        }],
        volumes: [
          ...hostDirs.map(h => ({ name: h.name, hostPath: { path: h.dir, type: 'Directory' } })),
          { name: 'registry', hostPath: { path: REGISTRY_DIR, type: 'DirectoryOrCreate' } },
        ],
      },
    };
  }
}
