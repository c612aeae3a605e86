import { ResourceSettings } from '../workload/settings';

/** How big the log pipeline of one environment is. */
export interface LoggingSizing {
  /** Elasticsearch nodes (each master-eligible and data); 3 or more are spread across zones. */
  readonly elasticsearchNodes: number;
  /** Resources of each Elasticsearch node; the JVM heap is sized from the memory limit (half of it). */
  readonly elasticsearchResources: ResourceSettings;
  /** Data volume of each Elasticsearch node. */
  readonly elasticsearchStorage: string;
  /** Kibana instances. */
  readonly kibanaInstances: number;
  /** Resources of each Kibana instance. */
  readonly kibanaResources: ResourceSettings;
  /** Resources of the collector on each node. */
  readonly collectorResources: ResourceSettings;
}

const COLLECTOR = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '200Mi', memoryLimit: '400Mi' };

/** Sizing presets; `Environments` picks one per environment. */
export class LoggingPresets {
  /** One node, no replicas: logs are disposable in dev. */
  public static readonly DEV: LoggingSizing = {
    elasticsearchNodes: 1,
    elasticsearchResources: { cpuRequest: '500m', cpuLimit: '1', memoryRequest: '2Gi', memoryLimit: '2Gi' },
    elasticsearchStorage: '10Gi',
    kibanaInstances: 1,
    kibanaResources: { cpuRequest: '200m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' },
    collectorResources: COLLECTOR,
  };

  /** Production's topology (three zones) on smaller nodes, so zone awareness is exercised before release. */
  public static readonly STAGING: LoggingSizing = {
    elasticsearchNodes: 3,
    elasticsearchResources: { cpuRequest: '500m', cpuLimit: '1', memoryRequest: '2Gi', memoryLimit: '2Gi' },
    elasticsearchStorage: '30Gi',
    kibanaInstances: 1,
    kibanaResources: { cpuRequest: '200m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' },
    collectorResources: COLLECTOR,
  };

  /** Three nodes across zones, one replica per shard: a zone can fail without losing logs. */
  public static readonly PRODUCTION: LoggingSizing = {
    elasticsearchNodes: 3,
    elasticsearchResources: { cpuRequest: '1', cpuLimit: '2', memoryRequest: '4Gi', memoryLimit: '4Gi' },
    elasticsearchStorage: '100Gi',
    kibanaInstances: 2,
    kibanaResources: { cpuRequest: '500m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '1Gi' },
    collectorResources: COLLECTOR,
  };

  private constructor() {}
}
