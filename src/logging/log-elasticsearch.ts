import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { LoggingSizing } from './logging-sizing';
import { LoggingConventions } from '../conventions';
import { BackupStorage } from '../data/backup/backup-storage';

/** Props of {@link LogElasticsearch}. */
export interface LogElasticsearchProps {
  /** Name of the Elasticsearch resource; ECK derives its Services, Secrets and StatefulSets from it. */
  readonly name: string;
  /** Namespace of the log pipeline. */
  readonly namespace: string;
  /** Nodes, resources and storage. */
  readonly sizing: LoggingSizing;
  /**
   * The backup bucket the snapshot repository writes to: its region or
   * endpoint, and the credentials (IRSA role or a Secret of the same name in
   * the logging namespace).
   * @default - no snapshot repository credentials
   */
  readonly snapshotStorage?: BackupStorage;
}

/** Where Elasticsearch reads a web identity token for the S3 repository (its config directory). */
const WEB_IDENTITY_DIR = '/usr/share/elasticsearch/config/repository-s3';

/**
 * The log store: an ECK Elasticsearch cluster of one node set whose nodes
 * hold every role. With three or more nodes, ECK's zone awareness spreads
 * them across `topology.kubernetes.io/zone` and sets shard allocation
 * awareness, so a shard and its replica never share a zone.
 */
export class LogElasticsearch extends Construct {
  /** API version of the ECK CRD. */
  public static readonly API_VERSION = 'elasticsearch.k8s.elastic.co/v1';
  /** The node set's name. */
  public static readonly NODE_SET = 'default';

  /** Name of the resource. */
  public readonly name: string;
  /** Its namespace. */
  public readonly namespace: string;
  /** ECK's HTTP Service (`<name>-es-http`). */
  public readonly httpService: string;
  /** ECK's Secret with the `elastic` superuser's password (key `elastic`). */
  public readonly elasticUserSecret: string;
  /** ECK's Secret with the HTTP layer's CA (key `ca.crt`). */
  public readonly caSecret: string;
  /** The StatefulSet of the node set, as ECK names it. */
  public readonly statefulSet: string;
  /** Prefix of the data volume claims (`<claim template>-<statefulset>-<ordinal>`). */
  public readonly volumeClaimPrefix: string;
  /** Labels of the Elasticsearch pods, as ECK sets them. */
  public readonly podLabels: { [key: string]: string };
  /** The resource (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: LogElasticsearchProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace;
    this.httpService = `${props.name}-es-http`;
    this.elasticUserSecret = `${props.name}-es-elastic-user`;
    this.caSecret = `${props.name}-es-http-certs-public`;
    this.statefulSet = `${props.name}-es-${LogElasticsearch.NODE_SET}`;
    this.volumeClaimPrefix = `elasticsearch-data-${this.statefulSet}`;
    this.podLabels = { 'elasticsearch.k8s.elastic.co/cluster-name': props.name };
    const storage = props.snapshotStorage;
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: LogElasticsearch.API_VERSION,
      kind: 'Elasticsearch',
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        version: LoggingConventions.STACK_VERSION,
        ...(storage?.credentialsSecret ? { secureSettings: [this.s3KeystoreEntries(storage.credentialsSecret)] } : {}),
        nodeSets: [this.buildNodeSet(props.sizing, storage)],
      },
    });
  }

  private buildNodeSet(sizing: LoggingSizing, storage: BackupStorage | undefined): any {
    const r = sizing.elasticsearchResources;
    return {
      name: LogElasticsearch.NODE_SET,
      count: sizing.elasticsearchNodes,
      // One node cannot be spread; three are, one per zone.
      ...(sizing.elasticsearchNodes >= 3 ? { zoneAwareness: {} } : {}),
      config: {
        // mmap needs vm.max_map_count raised on the node (a privileged init
        // container); niofs costs some search speed and nothing for ingestion.
        'node.store.allow_mmap': false,
        ...(storage?.endpoint || storage?.region
          ? { 's3.client.default.endpoint': storage.endpoint ?? `s3.${storage.region}.amazonaws.com` } : {}),
      },
      resources: {
        requests: { cpu: r.cpuRequest, memory: r.memoryRequest },
        limits: { cpu: r.cpuLimit, memory: r.memoryLimit },
      },
      podTemplate: this.buildPodTemplate(storage),
      volumeClaimTemplates: [{
        metadata: { name: 'elasticsearch-data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: sizing.elasticsearchStorage } } },
      }],
    };
  }

  /** With an IRSA role, the pods present the service account's token to STS where the S3 repository looks for it. */
  private buildPodTemplate(storage: BackupStorage | undefined): any {
    if (!storage?.roleArn) return { spec: { automountServiceAccountToken: false } };
    // The role's trust policy names this account (the AWS package's LogSnapshotRole trusts
    // LoggingConventions.NAMESPACE / SNAPSHOT_SERVICE_ACCOUNT by default).
    const account = new k8s.KubeServiceAccount(this, 'SnapshotAccount', {
      metadata: { name: LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT, namespace: this.namespace, annotations: { 'eks.amazonaws.com/role-arn': storage.roleArn } },
      automountServiceAccountToken: false,
    });
    return {
      spec: {
        serviceAccountName: account.name,
        automountServiceAccountToken: false,
        containers: [{
          name: 'elasticsearch',
          env: [{ name: 'AWS_ROLE_ARN', value: storage.roleArn }],
          volumeMounts: [{ name: 'aws-web-identity-token', mountPath: WEB_IDENTITY_DIR, readOnly: true }],
        }],
        volumes: [{
          name: 'aws-web-identity-token',
          projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'aws-web-identity-token-file' } }] },
        }],
      },
    };
  }

  private s3KeystoreEntries(secretName: string): any {
    return {
      secretName,
      entries: [
        { key: 'access-key-id', path: 's3.client.default.access_key' },
        { key: 'secret-access-key', path: 's3.client.default.secret_key' },
      ],
    };
  }
}
