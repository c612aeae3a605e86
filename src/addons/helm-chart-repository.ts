import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { PropValidationError, validateDnsLabel, validateDuration } from '../core/validate';

export interface HelmChartRepositoryProps {
  /**
   * Where the charts are served: an `https://` Helm repository index or an
   * `oci://` registry path (the repository's `type` follows the scheme).
   */
  readonly url: string;
  /**
   * Name of the HelmRepository object.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Namespace of the object; the HelmReleases that use it live there too.
   * @default HelmChartRepository.DEFAULT_NAMESPACE ('flux-system')
   */
  readonly namespace?: string;
  /**
   * How often Flux fetches the index. Pinned chart versions do not move, so this only
   * bounds how late a newly pinned version becomes available.
   * @default '24h'
   */
  readonly interval?: string;
}

/** A Flux `HelmRepository` (source.toolkit.fluxcd.io/v1): one chart source the add-ons install from. */
export class HelmChartRepository extends Construct {
  public static readonly API_VERSION = 'source.toolkit.fluxcd.io/v1';
  public static readonly KIND = 'HelmRepository';
  /** Flux's own namespace: where `flux install` runs its controllers and where the add-on objects live. */
  public static readonly DEFAULT_NAMESPACE = 'flux-system';

  /** Name of the HelmRepository object. */
  public readonly name: string;
  public readonly namespace: string;
  public readonly url: string;
  /** `oci` for an OCI registry, `default` for an index. */
  public readonly type: string;

  constructor(scope: Construct, id: string, props: HelmChartRepositoryProps) {
    super(scope, id);
    this.name = validateDnsLabel('name', props.name ?? id);
    this.namespace = validateDnsLabel('namespace', props.namespace ?? HelmChartRepository.DEFAULT_NAMESPACE);
    this.url = validateUrl(props.url);
    this.type = this.url.startsWith('oci://') ? 'oci' : 'default';
    const interval = validateDuration('interval', props.interval ?? '24h');
    new ApiObject(this, 'Resource', {
      apiVersion: HelmChartRepository.API_VERSION,
      kind: HelmChartRepository.KIND,
      metadata: { name: this.name, namespace: this.namespace },
      spec: { interval, url: this.url, ...(this.type === 'oci' ? { type: 'oci' } : {}) },
    });
  }
}

function validateUrl(url: string): string {
  if (!/^(https|oci):\/\/[a-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~/-]*)?$/.test(url)) {
    throw new PropValidationError('url', url, "an https:// Helm repository or an oci:// registry path, such as 'https://charts.jetstack.io' or 'oci://docker.io/envoyproxy'");
  }
  return url.replace(/\/+$/, '');
}
