import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { LogElasticsearch } from './log-elasticsearch';
import { LoggingSizing } from './logging-sizing';
import { LoggingConventions } from '../conventions';

/** Props of {@link LogKibana}. */
export interface LogKibanaProps {
  /** Name of the Kibana resource. */
  readonly name: string;
  /** The Elasticsearch cluster it searches (same namespace). */
  readonly elasticsearch: LogElasticsearch;
  /** Instances and resources. */
  readonly sizing: LoggingSizing;
}

/** Kibana on ECK, connected to the log store by `elasticsearchRef` (ECK creates its user and CA trust). */
export class LogKibana extends Construct {
  /** API version of the ECK CRD. */
  public static readonly API_VERSION = 'kibana.k8s.elastic.co/v1';

  /** Name of the resource. */
  public readonly name: string;
  /** ECK's HTTP Service (`<name>-kb-http`). */
  public readonly httpService: string;
  /** ECK's Secret with the HTTP layer's CA. */
  public readonly caSecret: string;
  /** The Deployment, as ECK names it. */
  public readonly deployment: string;
  /** Labels of the Kibana pods, as ECK sets them. */
  public readonly podLabels: { [key: string]: string };
  /** The resource (escape hatch). */
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: LogKibanaProps) {
    super(scope, id);
    this.name = props.name;
    this.httpService = `${props.name}-kb-http`;
    this.caSecret = `${props.name}-kb-http-certs-public`;
    this.deployment = `${props.name}-kb`;
    this.podLabels = { 'kibana.k8s.elastic.co/name': props.name };
    const r = props.sizing.kibanaResources;
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: LogKibana.API_VERSION,
      kind: 'Kibana',
      metadata: { name: props.name, namespace: props.elasticsearch.namespace },
      spec: {
        version: LoggingConventions.STACK_VERSION,
        count: props.sizing.kibanaInstances,
        elasticsearchRef: { name: props.elasticsearch.name },
        podTemplate: {
          spec: {
            automountServiceAccountToken: false,
            containers: [{
              name: 'kibana',
              resources: {
                requests: { cpu: r.cpuRequest, memory: r.memoryRequest },
                limits: { cpu: r.cpuLimit, memory: r.memoryLimit },
              },
            }],
          },
        },
      },
    });
  }
}
