import { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MAX_UID_LENGTH } from './builder';
import { PropValidationError } from '../../core/validate';

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** ConfigMaps are stored in etcd objects of at most 1 MiB. */
const MAX_CONFIGMAP_BYTES = 1024 * 1024;

/** Settings shared by every dashboard ConfigMap. */
export interface GrafanaDashboardOptions {
  /**
   * Label key the Grafana dashboard sidecar watches
   * (kube-prometheus-stack: `grafana.sidecar.dashboards.label`).
   * @default 'grafana_dashboard'
   */
  readonly labelKey?: string;
  /**
   * Value of that label (kube-prometheus-stack: `grafana.sidecar.dashboards.labelValue`).
   * @default '1'
   */
  readonly labelValue?: string;
  /**
   * Grafana folder, written to the `grafana_folder` annotation (kube-prometheus-stack:
   * set `grafana.sidecar.dashboards.folderAnnotation: grafana_folder`).
   * @default - no annotation: the sidecar's default folder
   */
  readonly folder?: string;
  /**
   * Metadata of the ConfigMap.
   * @default - a generated name in the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
}

/** Props of {@link GrafanaDashboard}. */
export interface GrafanaDashboardProps extends GrafanaDashboardOptions {
  /** The dashboard model (Grafana JSON with `uid` and `title`). */
  readonly dashboard: any;
}

/**
 * A Grafana dashboard delivered as a ConfigMap the Grafana sidecar loads
 * (labelled `grafana_dashboard: "1"` by default), one `<uid>.json` key.
 */
export class GrafanaDashboard extends Construct {
  /** The ConfigMap (escape hatch). */
  public readonly configMap: k8s.KubeConfigMap;
  /** The dashboard's uid. */
  public readonly uid: string;
  /** The dashboard's title. */
  public readonly title: string;

  constructor(scope: Construct, id: string, props: GrafanaDashboardProps) {
    super(scope, id);
    const labelKey = props.labelKey ?? 'grafana_dashboard';
    const labelValue = props.labelValue ?? '1';
    if (!LABEL_KEY.test(labelKey) || labelKey.split('/').pop()!.length > 63) {
      throw new PropValidationError('labelKey', labelKey, "a Kubernetes label key such as 'grafana_dashboard'");
    }
    if (!LABEL_VALUE.test(labelValue)) {
      throw new PropValidationError('labelValue', labelValue, "a Kubernetes label value such as '1': at most 63 letters, digits, '-', '_' or '.'");
    }
    const uid = props.dashboard?.uid;
    if (typeof uid !== 'string' || !new RegExp(`^[A-Za-z0-9_-]{1,${MAX_UID_LENGTH}}$`).test(uid)) {
      throw new PropValidationError('dashboard.uid', uid, `1 to ${MAX_UID_LENGTH} letters, digits, '-' or '_'`);
    }
    const title = props.dashboard?.title;
    if (typeof title !== 'string' || title.trim() === '') {
      throw new PropValidationError('dashboard.title', title, 'a non-empty title');
    }
    const json = JSON.stringify(props.dashboard, undefined, 2);
    if (Buffer.byteLength(json) > MAX_CONFIGMAP_BYTES) {
      throw new PropValidationError('dashboard', `${Buffer.byteLength(json)} bytes`, 'a dashboard of at most 1 MiB of JSON (a ConfigMap limit)');
    }
    this.uid = uid;
    this.title = title;
    this.configMap = new k8s.KubeConfigMap(this, 'Resource', {
      metadata: {
        ...props.metadata,
        labels: { ...props.metadata?.labels, [labelKey]: labelValue },
        annotations: props.folder ? { ...props.metadata?.annotations, grafana_folder: props.folder } : props.metadata?.annotations,
      },
      data: { [`${uid}.json`]: json },
    });
  }
}

/** Props of the platform's dashboards (Production, Cost Analysis, Data Tier). */
export interface PlatformDashboardProps extends GrafanaDashboardOptions {
  /**
   * Namespace preselected in the dashboard's `namespace` variable. It is also
   * part of the uid and title, so each environment's dashboards can live in
   * one Grafana side by side.
   * @default - the chart's namespace (none: the variable starts empty)
   */
  readonly watchNamespace?: string;
  /**
   * Dashboard uid.
   * @default - `<base>-<namespace>`, hashed down to 40 characters when longer
   */
  readonly uid?: string;
  /**
   * Dashboard title.
   * @default - the guide's title, followed by the namespace in parentheses
   */
  readonly title?: string;
}
