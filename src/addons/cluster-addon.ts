import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { HelmChartRepository } from './helm-chart-repository';
import { PropValidationError, validateDnsLabel, validateDuration } from '../core/validate';

export interface ClusterAddonProps {
  /** The chart source. */
  readonly repository: HelmChartRepository;
  /** Chart name in the repository. */
  readonly chart: string;
  /**
   * Exact chart version (never a range: the add-on must install the CRD
   * versions the platform's manifests are written against).
   */
  readonly version: string;
  /** Namespace the chart installs into (created by the release). */
  readonly targetNamespace: string;
  /**
   * CRD kinds the chart installs, as `group/Kind`
   * (e.g. `postgresql.cnpg.io/Cluster`); tests hold them against the operators'
   * released CRD files and the kinds the platform's manifests use.
   */
  readonly crdKinds: string[];
  /**
   * Helm release name.
   * @default - the construct id
   */
  readonly releaseName?: string;
  /**
   * Chart values.
   * @default {}
   */
  readonly values?: { [key: string]: any };
  /**
   * Add-ons that must be ready first (their CRDs or webhooks are needed by this one).
   * @default []
   */
  readonly dependsOn?: ClusterAddon[];
  /**
   * Reconcile interval of the HelmRelease.
   * @default '1h'
   */
  readonly interval?: string;
}

const EXACT_VERSION = /^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
const CRD_KIND = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\/[A-Z][A-Za-z0-9]*$/;

/**
 * One controller or operator of the cluster, as a Flux `HelmRelease`
 * (helm.toolkit.fluxcd.io/v2) of a pinned chart version. CRDs are created and
 * replaced on install and upgrade (`CreateReplace`), so a chart upgrade also
 * moves the CRD versions; `dependsOn` orders the bootstrap.
 */
export class ClusterAddon extends Construct {
  public static readonly API_VERSION = 'helm.toolkit.fluxcd.io/v2';
  public static readonly KIND = 'HelmRelease';

  /** Name of the HelmRelease object (and of the Helm release). */
  public readonly name: string;
  public readonly namespace: string;
  public readonly chart: string;
  public readonly version: string;
  public readonly targetNamespace: string;
  /** CRD kinds (`group/Kind`) this add-on installs. */
  public readonly crdKinds: string[];
  private readonly dependsOn: ClusterAddon[];

  constructor(scope: Construct, id: string, props: ClusterAddonProps) {
    super(scope, id);
    this.name = validateDnsLabel('releaseName', props.releaseName ?? id, 53);
    this.namespace = props.repository.namespace;
    this.chart = props.chart;
    this.version = validateVersion(props.version);
    this.targetNamespace = validateDnsLabel('targetNamespace', props.targetNamespace);
    this.crdKinds = validateCrdKinds(props.crdKinds);
    this.dependsOn = props.dependsOn ?? [];
    const interval = validateDuration('interval', props.interval ?? '1h');
    new ApiObject(this, 'Resource', {
      apiVersion: ClusterAddon.API_VERSION,
      kind: ClusterAddon.KIND,
      metadata: { name: this.name, namespace: this.namespace },
      spec: this.buildSpec(props, interval),
    });
  }

  /** True when this add-on installs `group/Kind`. */
  public installs(kind: string): boolean {
    return this.crdKinds.includes(kind);
  }

  private buildSpec(props: ClusterAddonProps, interval: string) {
    const remediation = { retries: 3 };
    return {
      interval,
      releaseName: this.name,
      targetNamespace: this.targetNamespace,
      chart: {
        spec: {
          chart: this.chart,
          version: this.version,
          sourceRef: { kind: HelmChartRepository.KIND, name: props.repository.name, namespace: props.repository.namespace },
          interval: '24h',
        },
      },
      install: { createNamespace: true, crds: 'CreateReplace', remediation },
      upgrade: { crds: 'CreateReplace', remediation },
      ...(this.dependsOn.length ? { dependsOn: this.dependsOn.map(d => ({ name: d.name, namespace: d.namespace })) } : {}),
      values: props.values ?? {},
    };
  }
}

function validateVersion(version: string): string {
  if (!EXACT_VERSION.test(version)) {
    throw new PropValidationError('version', version, "an exact chart version such as '0.29.0' or 'v1.9.0' (no ranges: the CRD versions must not move)");
  }
  return version;
}

function validateCrdKinds(kinds: string[]): string[] {
  kinds.forEach((k, i) => {
    if (!CRD_KIND.test(k)) throw new PropValidationError(`crdKinds[${i}]`, k, "'group/Kind' with an API group that has a dot, such as 'postgresql.cnpg.io/Cluster'");
  });
  return [...kinds];
}
