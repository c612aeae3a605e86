import { createHash } from 'crypto';

/**
 * A small builder for Grafana dashboard JSON (schema 39, Grafana 10/11):
 * every panel reads the `${datasource}` variable, lays itself out on the
 * 24-column grid, and uses the current panel types (`timeseries`, `stat`,
 * `piechart`), never the removed `graph`/`singlestat`. Internal: not exported
 * from the package entry point.
 */

export type PanelType = 'timeseries' | 'stat' | 'piechart';

export interface Target {
  readonly expr: string;
  readonly legendFormat: string;
}

export interface Threshold {
  /** Lower bound of the step; the first step has none. */
  readonly value?: number;
  readonly color: string;
}

export interface PanelSpec {
  readonly type: PanelType;
  readonly title: string;
  readonly description: string;
  readonly targets: readonly Target[];
  /** Grafana unit id: 'reqps', 's', 'percentunit', 'bytes', 'currencyUSD', ... */
  readonly unit: string;
  /** Width in grid columns (of 24). */
  readonly width: number;
  readonly height?: number;
  readonly thresholds?: readonly Threshold[];
  readonly decimals?: number;
  /** Stat/pie value mappings, e.g. 1 -> "ok". */
  readonly mappings?: ReadonlyArray<{ readonly value: number; readonly text: string; readonly color: string }>;
}

/** A template variable of type `query` over a label's values. */
export interface QueryVariable {
  readonly name: string;
  readonly label: string;
  /** `label_values(<metric>, <label>)` with optional matchers. */
  readonly query: string;
  /** Preselected value, e.g. the chart's namespace. */
  readonly current?: string;
  /** Multi-select with an "All" option matching `.*`. */
  readonly multiAll?: boolean;
}

/** A dashboard as data: what it shows, before uid, title and layout are applied. */
export interface DashboardSpec {
  readonly description: string;
  readonly variables: readonly QueryVariable[];
  readonly panels: readonly PanelSpec[];
}

/** The datasource reference every panel and target uses. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** Grafana's longest uid. */
export const MAX_UID_LENGTH = 40;

/** Schema version written; Grafana migrates older dashboards up to it on load. */
export const SCHEMA_VERSION = 39;

/**
 * A uid unique per namespace, so several environments' dashboards can share
 * one Grafana: `<base>-<namespace>`, shortened with a hash when longer than 40.
 */
export function dashboardUid(base: string, namespace: string | undefined): string {
  if (!namespace) return base;
  const uid = `${base}-${namespace}`;
  if (uid.length <= MAX_UID_LENGTH) return uid;
  const hash = createHash('sha256').update(namespace).digest('hex').slice(0, 8);
  return `${base}-${namespace.slice(0, MAX_UID_LENGTH - base.length - hash.length - 2).replace(/-+$/, '')}-${hash}`;
}

export class DashboardBuilder {
  /** A builder holding every panel of `spec`, in order. */
  public static fromSpec(uid: string, title: string, spec: DashboardSpec): DashboardBuilder {
    const builder = new DashboardBuilder(uid, title, spec.description, [...spec.variables]);
    for (const panel of spec.panels) builder.panel(panel);
    return builder;
  }

  private readonly panels: any[] = [];
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  constructor(
    private readonly uid: string,
    private readonly title: string,
    private readonly description: string,
    private readonly variables: readonly QueryVariable[],
  ) {}

  /** Adds a panel to the right of the previous one, wrapping to a new row when the width runs out. */
  public panel(spec: PanelSpec): this {
    const h = spec.height ?? 8;
    if (this.x + spec.width > 24) {
      this.x = 0;
      this.y += this.rowHeight;
      this.rowHeight = 0;
    }
    const steps = (spec.thresholds ?? [{ color: 'green' }]).map(t => ({ color: t.color, value: t.value ?? null }));
    const panel: any = {
      id: this.panels.length + 1,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      gridPos: { x: this.x, y: this.y, w: spec.width, h },
      targets: spec.targets.map((t, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DATASOURCE,
        expr: t.expr,
        legendFormat: t.legendFormat,
        range: true,
      })),
      fieldConfig: {
        defaults: {
          unit: spec.unit,
          ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
          thresholds: { mode: 'absolute', steps },
          mappings: (spec.mappings ?? []).map(m => ({
            type: 'value',
            options: { [String(m.value)]: { text: m.text, color: m.color, index: 0 } },
          })),
          ...(spec.type === 'timeseries' ? {
            custom: {
              drawStyle: 'line',
              lineWidth: 1,
              fillOpacity: 10,
              showPoints: 'never',
              // Thresholds show as dashed lines, e.g. the SLO target on the latency graph.
              thresholdsStyle: { mode: spec.thresholds ? 'dashed' : 'off' },
            },
          } : {}),
          color: { mode: spec.type === 'timeseries' || spec.type === 'piechart' ? 'palette-classic' : 'thresholds' },
        },
        overrides: [],
      },
      options: this.options(spec.type),
    };
    this.panels.push(panel);
    this.x += spec.width;
    this.rowHeight = Math.max(this.rowHeight, h);
    return this;
  }

  public build(): any {
    return {
      uid: this.uid,
      title: this.title,
      description: this.description,
      tags: ['rauli-vision'],
      schemaVersion: SCHEMA_VERSION,
      version: 1,
      editable: false,
      graphTooltip: 1,
      timezone: 'browser',
      refresh: '30s',
      time: { from: 'now-6h', to: 'now' },
      annotations: { list: [] },
      links: [],
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: {},
            hide: 0,
            refresh: 1,
            options: [],
          },
          ...this.variables.map(v => ({
            name: v.name,
            label: v.label,
            type: 'query',
            datasource: DATASOURCE,
            query: { query: v.query, refId: `${v.name}-query` },
            definition: v.query,
            refresh: 2,
            sort: 1,
            hide: 0,
            options: [],
            multi: v.multiAll ?? false,
            includeAll: v.multiAll ?? false,
            ...(v.multiAll ? { allValue: '.*' } : {}),
            current: v.current
              ? { selected: true, text: v.current, value: v.current }
              : v.multiAll ? { selected: true, text: 'All', value: '$__all' } : {},
          })),
        ],
      },
      panels: this.panels,
    };
  }

  private options(type: PanelType): any {
    const reduceOptions = { calcs: ['lastNotNull'], fields: '', values: false };
    switch (type) {
      case 'timeseries':
        return { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['mean', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } };
      case 'stat':
        return { reduceOptions, colorMode: 'background', graphMode: 'area', justifyMode: 'auto', orientation: 'auto', textMode: 'auto' };
      case 'piechart':
        return { reduceOptions, pieType: 'donut', displayLabels: ['name', 'percent'], legend: { displayMode: 'table', placement: 'right', showLegend: true, values: ['value', 'percent'] }, tooltip: { mode: 'single', sort: 'none' } };
    }
  }
}

/** Uid, title and namespace of one of the platform's dashboards, from its props and the chart. */
export function identity(
  chartNamespace: string | undefined,
  props: { readonly watchNamespace?: string; readonly uid?: string; readonly title?: string },
  baseUid: string,
  baseTitle: string,
): { uid: string; title: string; namespace: string | undefined } {
  const namespace = props.watchNamespace ?? chartNamespace;
  return {
    namespace,
    uid: props.uid ?? dashboardUid(baseUid, namespace),
    title: props.title ?? (namespace ? `${baseTitle} (${namespace})` : baseTitle),
  };
}

/** The `namespace` template variable over the namespaces that have `metric`. */
export function namespaceVariable(metric: string, current: string | undefined): QueryVariable {
  return { name: 'namespace', label: 'Namespace', query: `label_values(${metric}, namespace)`, current };
}

/** Matcher on the `namespace` template variable. */
export const NAMESPACE_MATCHER = 'namespace=~"$namespace"';

/** Grafana's rate window: at least four scrape intervals. */
export const RATE_WINDOW = '$__rate_interval';
