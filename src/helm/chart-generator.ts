/**
 * Generates `charts/rauli-vision` from the constructs: RauliVisionChart is
 * synthesized once with sentinel values in every value-driven field, the
 * sentinels become `{{ $.Values... }}` expressions, optional objects are
 * wrapped in `{{- if }}`, and values.yaml is derived from the environment
 * presets. A construct change therefore reaches the chart on the next
 * `npx projen helm:chart`, and a test fails while the committed chart is stale.
 *
 * The application services come from the service catalog (the default one,
 * or the `services` of GenerateOptions): each entry gets its replicaCount,
 * resources, autoscaling and scrapeInterval under `services.<name>`, so a
 * values file can size every service; `image`, `service` and `environment`
 * apply to all of them (see the comments written into values.yaml).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Testing } from 'cdk8s';
import { BackupConventions, PrometheusConventions, ScrapeIntervals, ServiceConventions } from '../conventions';
import { Edge, EdgeEnvironments, EdgeGateway, EdgeGatewayClass, EdgeKind } from '../edge';
import { emitDocument, Expr, If, Interpolated, MERGE_KEY, Node, Range, TEMPLATED_KEYS, ToYaml } from './template-yaml';
import { deepMerge } from '../core/merge';
import { EDGE_DEFAULTS } from '../edge/private/routing';
import { MAX_UID_LENGTH } from '../observability/dashboards/builder';
import { Environments } from '../platform/environments';
import { RauliVisionChart, RauliVisionChartProps } from '../platform/rauli-vision-chart';
import { DataStore, ServiceCatalog, ServiceEntry, ServiceRouteKind } from '../platform/service-catalog';
import { HttpService } from '../workload/http-service';
import { DEFAULT_RESOURCES, HttpServiceSettings } from '../workload/settings';

type Json = any;

/** Image registry and tag of values.yaml; every service's image is `<repository>/<its image name>:<tag>`. */
const IMAGE = { repository: 'ghcr.io/rauli-vision', tag: '1.0.0' };

/** The default catalog, with the images values.yaml names. */
export function defaultServices(): ServiceEntry[] {
  return ServiceCatalog.defaults(ServiceCatalog.images(IMAGE.repository, IMAGE.tag));
}

/** One catalog entry as the chart sees it. */
interface ChartService {
  readonly entry: ServiceEntry;
  /** Last path segment of the entry's image, without tag or digest. */
  readonly imageName: string;
  /** values.yaml prefix of its keys. */
  readonly valuesPath: string;
  /** 1-based, distinct per service: its sentinels. */
  readonly sentinel: number;
  /** Its replicas share PostgreSQL's connections (as RauliVisionChart counts them). */
  readonly databaseClient: boolean;
  /** It exposes metrics, so it has a scrape interval. */
  readonly scraped: boolean;
  /** It uses the platform's ports, which `service.port` and `service.targetPort` set. */
  readonly defaultPorts: boolean;
}

function chartServices(entries: ServiceEntry[]): ChartService[] {
  new ServiceCatalog(entries);
  return entries.map((entry, i) => {
    if (entry.route?.kind === ServiceRouteKind.PATH && entry.route.host !== undefined) {
      throw new Error(`services[${i}] (${entry.name}).route.host: the chart routes on the values' ingress.hosts, so a route to one host cannot be templated; leave the host out`);
    }
    return {
      entry,
      imageName: imageNameOf(entry),
      valuesPath: `services.${entry.name}.`,
      sentinel: i + 1,
      databaseClient: (entry.reaches?.stores ?? []).includes(DataStore.POSTGRES),
      scraped: entry.metrics?.enabled ?? true,
      defaultPorts: (entry.port ?? ServiceConventions.HTTP_PORT) === ServiceConventions.HTTP_PORT
        && (entry.servicePort ?? DEFAULT_SERVICE_PORT) === DEFAULT_SERVICE_PORT,
    };
  });
}

function imageNameOf(entry: ServiceEntry): string {
  return entry.image.split('@')[0].replace(/:[^/:]*$/, '').split('/').pop()!;
}

/** Port a Service exposes unless its entry says otherwise; `service.port` replaces it. */
const DEFAULT_SERVICE_PORT = HttpService.DEFAULT_SERVICE_PORT;


const S = {
  // Short, so dashboard uids (`<base>-<namespace>`, 40 characters at most) keep it verbatim.
  namespace: 'zzns',
  repository: 'sentinel.registry.invalid/repository',
  tag: 'sentinel-image-tag',
  host: 'sentinel-host.invalid',
  apiHost: 'sentinel-api-host.invalid',
  ingressClass: 'sentinel-ingress-class',
  tlsSecret: 'sentinel-tls-secret',
  issuer: 'sentinel-cluster-issuer',
  email: 'sentinel@sentinel.invalid',
  bucket: 'sentinel-backup-bucket',
  schedule: '7 7 7 7 *',
  scrapeInterval: '3333s',
  release: 'sentinel-prometheus-release',
  gatewayClass: 'sentinel-gateway-class',
  proxyNamespace: 'sentinel-proxy-ns',
};

/** Template reference to a values path; `services.<name>` keys hold dashes, so they go through `index`. */
const V = (p: string, root = '$.Values') => {
  const m = /^services\.([^.]+)\.(.+)$/.exec(p);
  return m ? `(index ${root}.services ${JSON.stringify(m[1])}).${m[2]}` : `${root}.${p}`;
};

/** The settings the platform writes only for the services its edge routes to. */
const EDGE_WRITTEN_SETTINGS = new Set(Object.keys(Edge.routedServiceEnv({})));

/** values.yaml's `edge.kind`, per edge implementation. */
const EDGE_KINDS: Array<[string, EdgeKind]> = [['gateway', EdgeKind.GATEWAY_API], ['ingress-nginx', EdgeKind.INGRESS_NGINX]];
const edgeIs = (kind: string) => `(eq ${V('edge.kind')} ${JSON.stringify(kind)})`;

/** Sentinels of one service's resources, autoscaling and scrape interval, and the values they stand for. */
function serviceSentinels(n: number, prefix: string, scraped: boolean) {
  const resources = { cpuRequest: `9${n}01m`, cpuLimit: `9${n}02m`, memoryRequest: `9${n}01Mi`, memoryLimit: `9${n}02Mi` };
  // Small and distinct: the data tier sizes connection pools from the maxima, and
  // numeric sentinels are only looked for inside autoscalers.
  const autoscaling = { minReplicas: 2 * n + 9, maxReplicas: 2 * n + 10, cpuUtilization: 70 + n, memoryUtilization: 80 + n };
  const map: Array<[string | number, string]> = [
    [resources.cpuRequest, `${prefix}resources.requests.cpu`],
    [resources.cpuLimit, `${prefix}resources.limits.cpu`],
    [resources.memoryRequest, `${prefix}resources.requests.memory`],
    [resources.memoryLimit, `${prefix}resources.limits.memory`],
    [autoscaling.minReplicas, `${prefix}autoscaling.minReplicas`],
    [autoscaling.maxReplicas, `${prefix}autoscaling.maxReplicas`],
    [autoscaling.cpuUtilization, `${prefix}autoscaling.targetCPUUtilizationPercentage`],
    [autoscaling.memoryUtilization, `${prefix}autoscaling.targetMemoryUtilizationPercentage`],
  ];
  const scrapeInterval = `${4000 + n}s`;
  if (scraped) map.push([scrapeInterval, `${prefix}scrapeInterval`]);
  return { settings: { resources, autoscaling } as HttpServiceSettings, scrapeInterval, map };
}

/** The values.yaml keys, filled from a preset and the catalog. */
export function valuesFor(environment: string, entries: ServiceEntry[] = defaultServices()): Json {
  const preset = Environments.preset(environment);
  const catalog = new ServiceCatalog(entries);
  const service = (s: HttpServiceSettings, e: ServiceEntry) => {
    const r = deepMerge(DEFAULT_RESOURCES, s.resources);
    const a = s.autoscaling;
    const replicas = s.replicas ?? 1;
    return {
      replicaCount: replicas,
      resources: { limits: { cpu: r.cpuLimit, memory: r.memoryLimit }, requests: { cpu: r.cpuRequest, memory: r.memoryRequest } },
      autoscaling: {
        enabled: a !== undefined,
        minReplicas: a?.minReplicas ?? replicas,
        maxReplicas: a?.maxReplicas ?? Math.max(replicas * 3, 3),
        targetCPUUtilizationPercentage: a?.cpuUtilization ?? 70,
        targetMemoryUtilizationPercentage: a?.memoryUtilization ?? 80,
      },
      ...((e.metrics?.enabled ?? true) ? { scrapeInterval: e.metrics?.scrapeInterval ?? ScrapeIntervals.DEFAULT } : {}),
    };
  };
  const routing = EdgeEnvironments.routing(preset.name);
  return {
    environment: preset.name,
    image: { ...IMAGE, pullPolicy: 'IfNotPresent' },
    service: { type: 'ClusterIP', port: 80, targetPort: ServiceConventions.HTTP_PORT },
    ingress: {
      enabled: true,
      className: 'nginx',
      annotations: { 'cert-manager.io/cluster-issuer': EDGE_DEFAULTS.clusterIssuerName },
      hosts: routing.hosts!.map(host => ({ host, paths: [{ path: '/', pathType: 'Prefix' }] })),
      apiHosts: routing.apiHosts!,
      tls: [{ secretName: EDGE_DEFAULTS.tlsSecretName, hosts: [...routing.hosts!, ...routing.apiHosts!] }],
      clusterIssuer: { create: false, name: EDGE_DEFAULTS.clusterIssuerName, email: 'platform@rauli-vision.com' },
    },
    edge: {
      kind: 'gateway',
      gatewayClass: { create: false, name: 'envoy' },
      gateway: { proxyNamespace: EdgeGatewayClass.ENVOY_PROXY_NAMESPACE },
      ingressNginx: { namespace: Edge.INGRESS_NGINX_NAMESPACE },
    },
    services: Object.fromEntries(catalog.entries.map(e => [e.name, service(catalog.settings(e.name, preset.name), e)])),
    monitoring: { enabled: true, release: 'kube-prometheus-stack', serviceMonitor: { enabled: true, interval: PrometheusConventions.EXPORTER_SCRAPE_INTERVAL } },
    backup: {
      enabled: true,
      schedule: BackupConventions.DATABASE_SCHEDULE,
      retention: `${BackupConventions.RETENTION_DAYS}d`,
      storage: { bucketName: 'rauli-vision-backups' },
    },
    namespace: { create: false },
    logging: { enabled: true },
  };
}

/**
 * The production chart twice: with the presets' settings, and with sentinels
 * in every service's settings. Values the constructs derive from settings
 * (such as connection pool sizes) differ between the two without being a
 * sentinel: the chart keeps the preset's result for them.
 */
function charts(
  services: ChartService[], kind: EdgeKind = EdgeKind.GATEWAY_API,
): { chart: RauliVisionChart; real: RauliVisionChart; scalars: Map<string | number, string> } {
  const scalars = new Map<string | number, string>();
  const image = (s: ChartService) => `${S.repository}/${s.imageName}:${S.tag}`;
  const sentinelEntries = services.map(s => {
    const { settings, scrapeInterval, map } = serviceSentinels(s.sentinel, s.valuesPath, s.scraped);
    for (const [sentinel, valuesPath] of map) scalars.set(sentinel, valuesPath);
    return {
      ...s.entry,
      image: image(s),
      overrides: deepMerge(s.entry.overrides, settings),
      metrics: s.scraped ? { ...s.entry.metrics, scrapeInterval } : s.entry.metrics,
    };
  });
  const props: RauliVisionChartProps = {
    environment: 'production',
    namespace: S.namespace,
    edge: {
      hosts: [S.host],
      apiHosts: [S.apiHost],
      tlsSecretName: S.tlsSecret,
      clusterIssuerName: S.issuer,
      ingressClassName: S.ingressClass,
      acmeEmail: S.email,
      kind,
      gatewayClass: EdgeGatewayClass.envoy(S.gatewayClass, S.proxyNamespace),
      ingressControllerNamespace: S.proxyNamespace,
    },
    backup: { storage: { bucketName: S.bucket }, schedule: S.schedule },
    monitoring: { exporterScrapeInterval: S.scrapeInterval, release: S.release },
  };
  const chart = new RauliVisionChart(Testing.app(), 'rauli-vision', { ...props, services: sentinelEntries });
  const real = new RauliVisionChart(Testing.app(), 'rauli-vision', { ...props, services: services.map(s => ({ ...s.entry, image: image(s) })) });
  return { chart, real, scalars };
}

/** Synthesized documents with their preset twins, for one edge implementation. */
function edgeDocs(services: ChartService[], kind: EdgeKind) {
  const { chart, real, scalars } = charts(services, kind);
  return { chart, scalars, docs: chart.toJson() as Json[], realDocs: new Map<string, Json>(real.toJson().map((d: Json) => [key(d), d])) };
}

/** Identity of a synthesized object. */
const key = (d: Json) => `${d.kind}/${d.metadata?.name}`;

function objectsUnder(scope: { node: { findAll(): any[] } }): Set<string> {
  return new Set(scope.node.findAll().filter((c: any) => c instanceof ApiObject).map((o: ApiObject) => `${o.kind}/${o.name}`));
}

/**
 * Replaces sentinels in a synthesized tree with template nodes. Numeric
 * sentinels (replica bounds, utilization targets) only exist in autoscalers:
 * elsewhere a number that happens to match is a real value.
 */
function substitute(
  node: Json, real: Json, scalars: Map<string | number, string>, strings: Array<[string, string]>, found: Set<string | number>, numbers: boolean,
): Node {
  if (numbers && typeof node === 'number' && scalars.has(node)) {
    found.add(node);
    return new Expr(V(scalars.get(node)!));
  }
  if (typeof node === 'string') {
    if (scalars.has(node)) {
      found.add(node);
      return new Expr(`${V(scalars.get(node)!)} | quote`);
    }
    const hit = strings.filter(([s]) => node.includes(s));
    if (hit.length === 0) return derived(node, real);
    hit.forEach(([s]) => found.add(s));
    if (hit.length === 1 && node === hit[0][0]) return new Expr(`${hit[0][1]} | quote`);
    const pattern = new RegExp(hit.map(([s]) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    const parts: Array<string | Expr> = [];
    let last = 0;
    for (const m of node.matchAll(pattern)) {
      if (m.index! > last) parts.push(node.slice(last, m.index));
      parts.push(new Expr(hit.find(([s]) => s === m[0])![1]));
      last = m.index! + m[0].length;
    }
    if (last < node.length) parts.push(node.slice(last));
    return new Interpolated(parts);
  }
  const sub = (n: Json, r?: Json) => substitute(n, r, scalars, strings, found, numbers);
  if (Array.isArray(node)) return node.map((n, i) => sub(n, Array.isArray(real) && real.length === node.length ? real[i] : undefined));
  if (node && typeof node === 'object') {
    if (node instanceof If) return new If(node.cond, sub(node.node), node.otherwise === undefined ? undefined : sub(node.otherwise));
    if (node instanceof Range) return new Range(node.over, sub(node.item));
    if (node instanceof Expr || node instanceof Interpolated || node instanceof ToYaml) return node;
    const r = real && typeof real === 'object' && !Array.isArray(real) ? real : undefined;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, sub(v, r?.[k])]));
  }
  return derived(node, real);
}

/** A literal that differs from the preset's chart was derived from a sentinel: keep the preset's value. */
function derived(value: Json, real: Json): Json {
  return real !== undefined && typeof real === typeof value ? real : value;
}

/** One template file: a document, and the condition under which it renders. */
interface Template {
  readonly file: string;
  readonly condition?: string;
  readonly doc: { [key: string]: Node };
}

/** Builds the templates from the sentinel chart. */
export function buildTemplates(entries: ServiceEntry[] = defaultServices()): Template[] {
  const chartServiceList = chartServices(entries);
  // Everything from the Gateway API chart; the edge objects of both implementations, each under its `edge.kind`.
  const byKind = EDGE_KINDS.map(([value, kind]) => ({ value, ...edgeDocs(chartServiceList, kind) }));
  const { chart, scalars } = byKind[0];
  const sources: Array<{ raw: Json; real: Json; edgeKind?: string; edge?: Edge }> = [];
  for (const k of byKind) {
    const objects = objectsUnder(k.chart.edge!);
    for (const raw of k.docs) {
      const isEdge = objects.has(key(raw));
      if (!isEdge && k !== byKind[0]) continue;
      sources.push({ raw, real: k.realDocs.get(key(raw)), edgeKind: isEdge ? k.value : undefined, edge: isEdge ? k.chart.edge : undefined });
    }
  }
  const found = new Set<string | number>();
  const data = chart.data;
  const backupObjects = new Set([data.databaseBackup, data.applicationBackup, data.disasterRecoveryPlan]
    .flatMap(c => c ? [...objectsUnder(c)] : []));
  // Object name of each application service -> the service.
  const services = new Map<string, ChartService>(chartServiceList.map(s => [s.entry.name, s]));
  const targetPort = new Expr(V('service.targetPort'));
  const dashboardUids = new Map(chart.monitoring.dashboards.map(d => [d.uid, d.uid.slice(0, -(S.namespace.length + 1))]));
  const uidExpr = (base: string) => new Expr(`include "rauli-vision.dashboardUid" (list ${JSON.stringify(base)} $.Release.Namespace)`);
  // Longest first: a dashboard uid contains the namespace sentinel.
  const strings: Array<[string, string]> = [
    ...[...dashboardUids].map(([uid, base]): [string, string] => [uid, uidExpr(base).expr]),
    [S.namespace, '$.Release.Namespace'], [S.repository, V('image.repository')], [S.tag, V('image.tag')],
    [S.email, V('ingress.clusterIssuer.email')], [S.issuer, V('ingress.clusterIssuer.name')],
    [S.ingressClass, V('ingress.className')], [S.bucket, V('backup.storage.bucketName')], [S.schedule, V('backup.schedule')],
    [S.scrapeInterval, V('monitoring.serviceMonitor.interval')], [S.release, V('monitoring.release')],
    [S.gatewayClass, V('edge.gatewayClass.name')],
    [S.proxyNamespace, `(ternary ${V('edge.gateway.proxyNamespace')} ${V('edge.ingressNginx.namespace')} ${edgeIs('gateway')})`],
  ].sort((a, b) => b[0].length - a[0].length) as Array<[string, string]>;
  const monitoringObjects = new Set([...objectsUnder(chart.monitoring), ...chart.alerting ? objectsUnder(chart.alerting) : []]);
  const loggingObjects = chart.logging ? objectsUnder(chart.logging) : new Set<string>();
  const templates: Template[] = [];

  const files = new Set<string>();
  for (const { raw, real, edgeKind, edge } of sources) {
    const doc: Json = JSON.parse(JSON.stringify(raw));
    let condition: string | undefined;
    const service = services.get(doc.metadata?.name);
    const app = service !== undefined;
    const prefix = service?.valuesPath ?? '';
    relabel(doc);

    if (loggingObjects.has(key(doc))) {
      // The logging stack lives in its own namespace (not the release's) and is switched as a whole.
      condition = V('logging.enabled');
    } else if (doc.kind === 'Namespace' && doc.metadata.name === S.namespace) {
      condition = V('namespace.create');
    } else if (app && doc.kind === 'Deployment') {
      const p = prefix;
      doc.spec = { replicas: new If(`not ${V(`${p}autoscaling.enabled`)}`, new Expr(V(`${p}replicaCount`))), ...doc.spec };
      for (const c of doc.spec.template.spec.containers) {
        c.imagePullPolicy = new Expr(`${V('image.pullPolicy')} | quote`);
        // Without the edge nobody is in front: the service takes each such setting's default (the socket address is the client, it sends its own security headers).
        c.env = c.env?.map((e: Json) => EDGE_WRITTEN_SETTINGS.has(e.name) ? new If(V('ingress.enabled'), e) : e);
        if (!service.defaultPorts) continue;
        for (const port of c.ports ?? []) if (port.name === ServiceConventions.HTTP_PORT_NAME) port.containerPort = targetPort;
        // The Koa package reads PORT; the container port and the app must agree.
        c.env = [{ name: 'PORT', value: new Expr(`${V('service.targetPort')} | quote`) }, ...(c.env ?? [])];
      }
    } else if (app && doc.kind === 'HorizontalPodAutoscaler') {
      condition = V(`${prefix}autoscaling.enabled`);
    } else if (app && doc.kind === 'PodDisruptionBudget') {
      const p = prefix;
      condition = `gt (int (ternary ${V(`${p}autoscaling.minReplicas`)} ${V(`${p}replicaCount`)} ${V(`${p}autoscaling.enabled`)})) 1`;
    } else if (app && doc.kind === 'Service') {
      doc.spec.type = new Expr(`${V('service.type')} | quote`);
      if (service.defaultPorts) for (const port of doc.spec.ports) if (port.name === ServiceConventions.HTTP_PORT_NAME) port.port = new Expr(V('service.port'));
    } else if (doc.kind === 'ConfigMap' && doc.metadata.name === chart.config.configMapName && doc.data?.DATABASE_POOL_SIZE !== undefined) {
      // The construct caps the pool so every backend replica at its maximum fits in max_connections.
      doc.data.DATABASE_POOL_SIZE = new Expr('include "rauli-vision.databasePoolSize" $ | quote');
    } else if (doc.kind === 'NetworkPolicy') {
      replacePorts(doc.spec, ServiceConventions.HTTP_PORT, targetPort);
    } else if (edgeKind && edge) {
      condition = `and ${V('ingress.enabled')} ${edgeIs(edgeKind)}`;
      if (doc.kind === 'ClusterIssuer') condition = `${condition} ${V('ingress.clusterIssuer.create')}`;
      if (doc.kind === 'GatewayClass') condition = `${condition} ${V('edge.gatewayClass.create')}`;
      if (doc.kind === 'Ingress') templateIngress(doc, edge);
      if (edge.gateway) condition = templateGateway(doc, edge.gateway, condition);
    } else if (monitoringObjects.has(key(doc))) {
      condition = doc.kind === 'ServiceMonitor' || doc.kind === 'PodMonitor'
        ? `and ${V('monitoring.enabled')} ${V('monitoring.serviceMonitor.enabled')}`
        : V('monitoring.enabled');
      // Dashboard ConfigMaps: one `<uid>.json` key, and the uid depends on the namespace.
      const templatedKeys: Array<[Interpolated, Json]> = [];
      for (const [k, v] of Object.entries(doc.data ?? {})) {
        const uid = [...dashboardUids.keys()].find(u => k.startsWith(u));
        if (!uid) continue;
        templatedKeys.push([new Interpolated([uidExpr(dashboardUids.get(uid)!), k.slice(uid.length)]), v]);
        delete doc.data[k];
      }
      if (templatedKeys.length) doc.data[TEMPLATED_KEYS] = templatedKeys;
    } else if (backupObjects.has(key(doc))) {
      condition = V('backup.enabled');
      // Retention is enforced by the bucket's lifecycle rules (AWS package); the plan records it.
      if (doc.data?.['retention-days'] !== undefined) doc.data['retention-days'] = new Expr(`${V('backup.retention')} | trimSuffix "d" | quote`);
    }

    if (doc.kind === 'Job') {
      // Jobs are immutable: as hooks, Helm deletes the previous run before an upgrade starts a new one.
      doc.metadata.annotations = {
        ...doc.metadata.annotations,
        'helm.sh/hook': 'post-install,post-upgrade',
        'helm.sh/hook-delete-policy': 'before-hook-creation',
      };
    }

    const objectName = doc.kind === 'Namespace' && doc.metadata.name === S.namespace ? 'release'
      : doc.kind === 'Namespace' && doc.metadata.name.startsWith(`${S.namespace}-`) ? doc.metadata.name.slice(S.namespace.length + 1) : doc.kind === 'ClusterIssuer' ? 'letsencrypt' : doc.kind === 'GatewayClass' ? 'class' : doc.metadata.name;
    let name = `${doc.kind.toLowerCase()}-${objectName}.yaml`.replace(/[^a-z0-9.-]/g, '-');
    // Objects of a namespace derived from the release's (`<release>-data`) go in a folder of that
    // name: they may share names with the release namespace's (default-deny, allow-dns).
    const derivedNamespace = doc.metadata.namespace?.startsWith(`${S.namespace}-`) ? doc.metadata.namespace.slice(S.namespace.length + 1) : undefined;
    if (derivedNamespace) name = `${derivedNamespace}/${name}`;
    // Both edges emit a ClusterIssuer of the same name (different solvers).
    if (files.has(name)) name = name.replace(/\.yaml$/, `-${edgeKind}.yaml`);
    files.add(name);
    templates.push({ file: name, condition, doc: substitute(doc, real, scalars, strings, found, doc.kind === 'HorizontalPodAutoscaler') as { [key: string]: Node } });
  }

  // Hosts and the TLS secret are rebuilt structurally (ranges, toYaml), not substituted.
  const structural: string[] = [S.host, S.apiHost, S.tlsSecret];
  const missing = [...scalars.keys(), ...Object.values(S).filter(x => !structural.includes(x))].filter(s => !found.has(s));
  if (missing.length) throw new Error(`sentinels never reached a manifest: ${missing.join(', ')} (a construct no longer passes a value through)`);
  return templates;
}

/**
 * The constructs label everything `app.kubernetes.io/instance: rauli-vision-<environment>`
 * (selectors and spread constraints included) and `managed-by: cdk8s`.
 */
function relabel(node: Json): void {
  if (Array.isArray(node)) {
    node.forEach(relabel);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'app.kubernetes.io/instance' && v === 'rauli-vision-production') {
      node[k] = new Interpolated(['rauli-vision-', new Expr(V('environment'))]);
    } else if (k === 'app.kubernetes.io/managed-by' && v === 'cdk8s') {
      node[k] = new Expr('$.Release.Service | quote');
    } else if (k === 'app.kubernetes.io/version' && v === S.tag) {
      // Image tags may be 128 characters long, label values 63 ending in an alphanumeric.
      node[k] = new Expr(`regexReplaceAll "[-_.]+$" (${V('image.tag')} | toString | trunc 63) "" | quote`);
    } else {
      relabel(v);
    }
  }
}

/** NetworkPolicy rules name the application port by number. */
function replacePorts(node: Json, port: number, expr: Expr): void {
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'port' && v === port) node[k] = expr;
    else replacePorts(v, port, expr);
  }
}

/**
 * Hosts, listeners, the TLS secret and backend ports of the Gateway API edge,
 * rebuilt from `ingress.hosts`, `ingress.apiHosts` and `ingress.tls`. Returns
 * the template's condition: the API host's route and policy need API hosts.
 */
function templateGateway(doc: Json, gateway: EdgeGateway, condition: string): string {
  const byHost = (hosts: string[], item: (host: string) => Node): Node[] => hosts.map(h => {
    if (h === S.host) return new Range(V('ingress.hosts'), item('.host'));
    if (h === S.apiHost) return new Range(V('ingress.apiHosts'), item('.'));
    throw new Error(`unexpected host ${h} in ${doc.kind} ${doc.metadata.name}`);
  });
  const listenerOf = (h: string) => new Expr(`printf "${EdgeGateway.listenerName('%s')}" ${h} | quote`);
  const hostOfListener = (name: string) => [S.host, S.apiHost].find(h => EdgeGateway.listenerName(h) === name);
  if (doc.kind === 'Gateway') {
    doc.spec.listeners = doc.spec.listeners.flatMap((l: Json) => !l.hostname ? [l] : byHost([l.hostname], h => ({
      ...l,
      name: listenerOf(h),
      hostname: new Expr(`${h} | quote`),
      tls: { ...l.tls, certificateRefs: l.tls.certificateRefs.map((ref: Json) => ({ ...ref, name: new Expr(`(index ${V('ingress.tls')} 0).secretName | quote`) })) },
    })));
  }
  if (doc.kind === 'HTTPRoute') {
    doc.spec.hostnames = byHost(doc.spec.hostnames, h => new Expr(`${h} | quote`));
    doc.spec.parentRefs = doc.spec.parentRefs.flatMap((p: Json) => {
      const host = hostOfListener(p.sectionName);
      return host ? byHost([host], h => ({ ...p, sectionName: listenerOf(h) })) : [p];
    });
    // Services with their own port keep it; the others follow `service.port`.
    for (const rule of doc.spec.rules) {
      for (const ref of rule.backendRefs ?? []) if (ref.port === DEFAULT_SERVICE_PORT) ref.port = new Expr(V('service.port'));
    }
  }
  const api = gateway.routes.api?.name;
  return api !== undefined && doc.metadata.name === api && ['HTTPRoute', 'BackendTrafficPolicy'].includes(doc.kind)
    ? `${condition} (not (empty ${V('ingress.apiHosts')}))` : condition;
}

/** Hosts, TLS, class, backend ports and the owner's annotations of one edge Ingress. */
function templateIngress(doc: Json, edge: Edge): void {
  const web = edge.ingress!.ingresses.web.name === doc.metadata.name;
  doc.spec.ingressClassName = new Expr(`${V('ingress.className')} | quote`);
  doc.spec.tls = new ToYaml(V('ingress.tls'));
  const servicePort = new Expr(V('service.port'));
  const paths = (rule: Json, withHostPaths: boolean) => rule.http.paths.map((p: Json) => {
    // Services with their own port keep it; the others follow `service.port`.
    const number = p.backend.service.port.number === DEFAULT_SERVICE_PORT ? servicePort : p.backend.service.port.number;
    const backend = { service: { name: p.backend.service.name, port: { number } } };
    // The guide's `hosts[].paths` list the frontend's paths on the owning Ingress.
    return withHostPaths
      ? new Range('(.paths | default (list (dict "path" "/")))', { path: new Expr('.path | quote'), pathType: new Expr('.pathType | default "Prefix" | quote'), backend })
      : { ...p, backend };
  }).flat();
  doc.spec.rules = doc.spec.rules.map((rule: Json) => {
    if (rule.host === S.host) return new Range(V('ingress.hosts'), { host: new Expr('.host | quote'), http: { paths: paths(rule, web) } });
    if (rule.host === S.apiHost) return new Range(V('ingress.apiHosts'), { host: new Expr('. | quote'), http: { paths: paths(rule, false) } });
    throw new Error(`unexpected host ${rule.host} in Ingress ${doc.metadata.name}`);
  });
  if (web) {
    const owned = Object.keys(valuesFor('production').ingress.annotations);
    const annotations: { [key: string]: Node } = {};
    for (const [k, v] of Object.entries(doc.metadata.annotations as { [k: string]: string })) {
      if (owned.includes(k)) continue;
      // Users' annotations win over the construct's.
      annotations[k] = new If(`not (hasKey ${V('ingress.annotations')} ${JSON.stringify(k)})`, v);
    }
    annotations[MERGE_KEY] = new ToYaml(V('ingress.annotations'));
    doc.metadata.annotations = annotations;
  }
}

/** Writes values.yaml with comments. */
function valuesYaml(environment: string, entries: ServiceEntry[]): string {
  const v = valuesFor(environment, entries);
  const doc = emitDocument(v as { [key: string]: Node });
  const header = [
    `# Values of the rauli-vision chart (${environment} preset). Generated from src/platform/environments.ts by`,
    '# `npx projen helm:chart`; edit the presets or src/helm, not this file.',
    '#',
    '# services.<name>: one entry per service of the catalog (src/platform/service-catalog.ts):',
    '# replicaCount (while autoscaling is disabled; the HPA owns the count otherwise), resources,',
    '# autoscaling and the ServiceMonitor\'s scrapeInterval.',
    `# image: repository prefix, tag and pull policy of every service\'s image (${entries.map(e => `<repository>/${imageNameOf(e)}`).join(', ')}).`,
    '# service: type and port of the Services; targetPort is the container port (and PORT) of the',
    '# services on the platform\'s default ports.',
    '# edge.kind: `gateway` (Gateway API on Envoy Gateway, the default) or `ingress-nginx`.',
    '# ingress: hosts, TLS and issuer of either edge. With ingress-nginx, Ingresses web, api, login,',
    '# assets: `hosts[].paths` route to the frontend; /api/, the login path and /assets/ are routed on',
    '# every host; `apiHosts` send everything to the API. `annotations` go on the web Ingress,',
    '# which owns the certificate.',
    '# The ClusterIssuer is cluster-scoped: create it from one release only.',
    '# monitoring / backup: switch the ServiceMonitors, rules, dashboards and backup jobs;',
    '# monitoring.serviceMonitor.interval is the data-tier exporters\' scrape interval.',
    '',
  ];
  return header.join('\n') + doc;
}

/**
 * Template twin of the observability package's `dashboardUid`: `<base>-<namespace>`,
 * or shortened with the namespace's sha256 when over Grafana's 40 characters.
 * The chart test renders it for short and long namespaces against the constructs.
 */
const HELPERS = `{{/* Generated by \`npx projen helm:chart\`. Do not edit. */}}
{{- define "rauli-vision.dashboardUid" -}}
{{- $base := index . 0 -}}
{{- $namespace := index . 1 -}}
{{- $uid := printf "%s-%s" $base $namespace -}}
{{- if le (len $uid) ${MAX_UID_LENGTH} -}}
{{- $uid -}}
{{- else -}}
{{- $keep := int (sub ${MAX_UID_LENGTH} (add (len $base) 10)) -}}
{{- printf "%s-%s-%s" $base (regexReplaceAll "-+$" (trunc $keep $namespace) "") (trunc 8 (sha256sum $namespace)) -}}
{{- end -}}
{{- end -}}
`;

const QUANTITY = { cpu: '^([0-9]+m|[0-9]+(\\.[0-9]+)?)$', memory: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$' };
const DNS_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Constraints beyond the JSON type, by values path (`*` for any list index or map key). */
const SCHEMA_RULES: { [path: string]: object } = {
  'environment': { enum: Environments.NAMES },
  'image.pullPolicy': { enum: ['Always', 'IfNotPresent', 'Never'] },
  // `--set image.tag=<sha>` parses an all-digit sha as a number.
  'image.tag': { type: ['string', 'integer'], pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', not: { const: 'latest' } },
  'service.type': { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] },
  'service.port': { minimum: 1, maximum: 65535 },
  'service.targetPort': { minimum: 1024, maximum: 65535 },
  // `--set ingress.hosts[0].host=x` replaces the whole entry: paths default to `/`, pathType to Prefix.
  'ingress.hosts.*': { required: ['host'] },
  'ingress.hosts.*.paths.*': { required: ['path'] },
  'ingress.hosts.*.host': { pattern: DNS_NAME },
  'ingress.hosts.*.paths.*.path': { pattern: '^/' },
  'ingress.hosts.*.paths.*.pathType': { enum: ['Prefix', 'Exact', 'ImplementationSpecific'] },
  'ingress.apiHosts': { type: 'array', items: { type: 'string', pattern: DNS_NAME } },
  'ingress.annotations': { type: 'object', additionalProperties: { type: 'string' } },
  'edge.kind': { enum: EDGE_KINDS.map(([value]) => value) },
  'edge.gatewayClass.name': { pattern: DNS_NAME },
  'edge.gateway.proxyNamespace': { pattern: DNS_NAME },
  'edge.ingressNginx.namespace': { pattern: DNS_NAME },
  'monitoring.serviceMonitor.interval': { pattern: '^([0-9]+(ms|s|m|h))+$' },
  'services.*.scrapeInterval': { pattern: '^([0-9]+(ms|s|m|h))+$' },
  'backup.schedule': { pattern: '^\\S+( \\S+){4}$' },
  'backup.retention': { pattern: '^[0-9]+d$' },
};

/** A JSON schema for values.yaml, from the production values: `--set` typos and wrong types fail at install. */
export function valuesSchema(entries: ServiceEntry[] = defaultServices()): object {
  const rule = (p: string) => SCHEMA_RULES[p] ?? SCHEMA_RULES[p.replace(/^services\.[^.]+/, 'services.*')] ?? {};
  const schemaOf = (value: Json, p: string): object => {
    if ((rule(p) as Json).type) return rule(p);
    const at = (k: string) => (p ? `${p}.${k}` : k);
    if (Array.isArray(value)) return { type: 'array', items: value.length ? schemaOf(value[0], at('*')) : {}, ...rule(p) };
    if (value !== null && typeof value === 'object') {
      const properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schemaOf(v, at(k))]));
      return { type: 'object', properties, required: Object.keys(value), additionalProperties: false, ...rule(p) };
    }
    if (typeof value === 'number') return { type: 'integer', minimum: 0, ...rule(p) };
    if (typeof value === 'boolean') return { type: 'boolean' };
    const leaf = p.split('.').pop()!;
    const quantity = leaf === 'cpu' || leaf === 'memory' ? { pattern: QUANTITY[leaf] } : {};
    return { type: 'string', ...quantity, ...rule(p) };
  };
  return { $schema: 'https://json-schema.org/draft-07/schema#', ...schemaOf(valuesFor('production', entries), '') };
}

const DESCRIPTIONS: { [path: string]: string } = {
  'environment': 'Environment name; part of the `app.kubernetes.io/instance` label and selectors, so fixed for the life of a release',
  'image.repository': 'Registry prefix of every service\'s image: `<repository>/<last path segment of its catalog entry\'s image>`',
  'image.tag': 'Tag of every service\'s image (the pipeline sets the commit sha); `latest` is refused',
  'image.pullPolicy': 'Pull policy of the application containers',
  'service.type': 'Type of the application Services',
  'service.port': 'HTTP port of the Services on the platform\'s default port (the Ingress backends follow it)',
  'service.targetPort': 'Container port of the services on the platform\'s default port; also their `PORT` variable and the NetworkPolicy ports',
  'edge.kind': 'Edge implementation: `gateway` (Gateway API on Envoy Gateway: Gateway, HTTPRoutes, ClientTrafficPolicy, BackendTrafficPolicies) or `ingress-nginx` (Ingresses; the controller needs the settings under "Edge prerequisites")',
  'edge.gatewayClass.create': 'Render the cluster-scoped GatewayClass (Envoy Gateway\'s controller); enable it in one release per cluster only',
  'edge.gatewayClass.name': 'GatewayClass the Gateway attaches to',
  'edge.gateway.proxyNamespace': 'Namespace of Envoy Gateway\'s proxies, which the NetworkPolicies admit (`edge.kind: gateway`)',
  'edge.ingressNginx.namespace': 'Namespace of the ingress-nginx controller, which the NetworkPolicies admit (`edge.kind: ingress-nginx`)',
  'ingress.enabled': 'Render the edge (Gateway API objects or Ingresses, per `edge.kind`)',
  'ingress.className': 'IngressClass of every Ingress (and of the ClusterIssuer\'s HTTP-01 solver), with `edge.kind: ingress-nginx`',
  'ingress.annotations': 'Annotations of the web Ingress, which owns the certificate; they win over the generated ones',
  'ingress.hosts': 'Public hosts; `paths` route to the frontend (ingress-nginx; the Gateway routes `/`), `/api/`, the login path and `/assets/` are added on every host',
  'ingress.apiHosts': 'Hosts whose every path goes to the Go API (such as `api.rauli-vision.com`)',
  'ingress.tls': 'TLS entries of every Ingress; cert-manager fills the secret (the Gateway\'s listeners use the first entry\'s secret)',
  'ingress.clusterIssuer.create': 'Render the cluster-scoped ClusterIssuer; enable it in one release per cluster only',
  'ingress.clusterIssuer.name': 'Name of the ClusterIssuer',
  'ingress.clusterIssuer.email': 'ACME account e-mail',
  'services.*.replicaCount': 'Replicas while `autoscaling.enabled` is false',
  'services.*.resources': 'Container resources (must stay within the namespace LimitRange)',
  'services.*.autoscaling': 'HorizontalPodAutoscaler; the maxima of the database clients also size every replica\'s database pool',
  'services.*.scrapeInterval': 'Scrape interval of the service\'s ServiceMonitor',
  'monitoring.enabled': 'Render the ServiceMonitors, the PrometheusRule, the AlertmanagerConfig and the Grafana dashboards',
  'monitoring.release': 'Value of the `release` label kube-prometheus-stack selects ServiceMonitors and rules by',
  'monitoring.serviceMonitor.enabled': 'Render the ServiceMonitors',
  'monitoring.serviceMonitor.interval': 'Scrape interval of the data-tier exporters (each service has its own `scrapeInterval`)',
  'backup.enabled': 'Render the backup CronJobs and the disaster-recovery plan',
  'backup.schedule': 'Schedule of the nightly database dump',
  'backup.retention': 'Retention recorded in the disaster-recovery plan; the bucket\'s lifecycle rules (AWS package) enforce it',
  'backup.storage.bucketName': 'Backup bucket; the jobs use ambient AWS credentials (EKS Pod Identity, node role): IRSA or static credentials need the constructs',
  'namespace.create': 'Render the Namespace with its Pod Security labels (instead of `--create-namespace`)',
  'logging.enabled': 'Render the logging stack (ECK Elasticsearch, Kibana, Filebeat) in its own `logging` namespace; one release per cluster',
};

function readme(controllerConfig: { [key: string]: string }, entries: ServiceEntry[]): string {
  const v = valuesFor('production', entries);
  const rows: string[] = [];
  const describe = (p: string) => DESCRIPTIONS[p] ?? DESCRIPTIONS[p.replace(/^services\.[^.]+/, 'services.*')];
  const walk = (value: Json, p: string) => {
    if (describe(p) !== undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
      rows.push(`| \`${p}\` | \`${JSON.stringify(value).replace(/\|/g, '\\|')}\` | ${describe(p) ?? ''} |`);
      return;
    }
    for (const [k, x] of Object.entries(value)) walk(x, p ? `${p}.${k}` : k);
  };
  walk(v, '');
  return [
    '<!-- Generated by `npx projen helm:chart` from the @rauli-vision/platform constructs. Do not edit. -->',
    '# rauli-vision Helm chart',
    '',
    'The RAULI-VISION platform (frontend, Go API, Python service, PostgreSQL, Redis Cluster, backups,',
    'monitoring, and the edge on Gateway API with Envoy Gateway or on ingress-nginx) for Helm users. It is generated from the cdk8s constructs: with the',
    'default values, `helm template` renders exactly what `RauliVisionChart` synthesizes for production',
    '(a test holds them equal). Each service of the catalog has its sizing under `services.<name>`.',
    '',
    '```sh',
    'helm upgrade --install rauli-vision-prod ./charts/rauli-vision --namespace production --create-namespace \\',
    '  --set image.tag=$GITHUB_SHA --set environment=production --set services.backend-go.autoscaling.maxReplicas=40',
    'helm upgrade --install rauli-vision-staging ./charts/rauli-vision -f charts/rauli-vision/values-staging.yaml \\',
    '  --namespace staging --create-namespace --set image.tag=$GITHUB_SHA',
    '```',
    '',
    '`values-staging.yaml` and `values-dev.yaml` carry the other presets. The Secret `rauli-vision-app`',
    '(DATABASE_URL, JWT_SECRET, REDIS_PASSWORD) is created outside the chart.',
    '',
    'PostgreSQL, Redis and the database backups run in the namespace `<release namespace>-data`',
    '(`templates/data/`), with a LimitRange and a ResourceQuota of their own: the release namespace keeps',
    'the guide\'s 512Mi per container, which would cap a database. The chart renders that namespace with',
    '`helm.sh/resource-policy: keep`, so `helm uninstall` leaves it and its volumes; the Secrets the data',
    'tier reads (`redis-credentials`, `backup-s3`) are created there.',
    '',
    '## Values',
    '',
    '| Key | Default | Meaning |',
    '|---|---|---|',
    ...rows,
    '',
    '## Edge prerequisites',
    '',
    '`edge.kind: gateway` (the default): Envoy Gateway v1.9 (Gateway API v1.6) and cert-manager with',
    '`--enable-gateway-api`. The policies carry the guide\'s nginx.conf directive by directive (docs/edge.md',
    'in the repository). Set `edge.gatewayClass.create=true` in one release per cluster, or install the',
    '`envoy` GatewayClass yourself.',
    '',
    '`edge.kind: ingress-nginx`: ingress-nginx (retired upstream in March 2026) and cert-manager. No snippet annotation is used: security headers and the assets\' `Cache-Control` come',
    'from ConfigMaps through the `custom-headers` annotation, which the controller only honours for header',
    'names it allows. Its ConfigMap (ingress-nginx chart: `controller.config`) needs:',
    '',
    '```yaml',
    ...Object.entries(controllerConfig).map(([k, x]) => `${k}: "${x}"`),
    '```',
    '',
    'Immutable one-year caching applies to `/assets/` only, the frontend\'s content-hashed build output: the',
    'PWA\'s service worker and `index.html` must stay revalidated. Rate limits (API '
      + `${EDGE_DEFAULTS.apiRateLimit.requestsPerSecond} r/s burst ${EDGE_DEFAULTS.apiRateLimit.burst}, login`,
    `${EDGE_DEFAULTS.loginRateLimit.requestsPerSecond} r/s burst ${EDGE_DEFAULTS.loginRateLimit.burst}) are per controller replica; the apps' Redis limiter is the global one.`,
    '',
  ].join('\n');
}

/** Template twin of `ConnectionBudget.poolSizeFor` over the database clients' replica maxima. */
function poolSizeHelper(maxClientConnections: number, poolSize: number, services: ChartService[]): string {
  const clients = services.filter(s => s.databaseClient).map(s => {
    const v = (k: string) => V(`${s.valuesPath}${k}`, '$v');
    return `(ternary ${v('autoscaling.maxReplicas')} ${v('replicaCount')} ${v('autoscaling.enabled')})`;
  });
  // `add` needs two operands: a single client is added to nothing.
  if (clients.length < 2) clients.push('0');
  return [
    '{{- define "rauli-vision.databasePoolSize" -}}',
    '{{- $v := .Values -}}',
    `{{- $clients := add ${clients.join(' ')} -}}`,
    `{{- if gt (mul $clients ${poolSize}) ${maxClientConnections} }}{{ fail (printf "%d database client replicas at most with pools of ${poolSize} do not fit in one PgBouncer's ${maxClientConnections} client connections" $clients) }}{{ end -}}`,
    `{{- ${poolSize} -}}`,
    '{{- end -}}',
    '',
  ].join('\n');
}

export interface GenerateOptions {
  /** Chart directory. */
  readonly outdir: string;
  /** Chart version. */
  readonly version: string;
  /** Application version (default image tag). */
  readonly appVersion?: string;
  /**
   * The service catalog the chart templates.
   * @default - the default catalog
   */
  readonly services?: ServiceEntry[];
}

/** Writes the chart: Chart.yaml, values.yaml, values-<env>.yaml, templates/. */
export function generateChart(options: GenerateOptions): string[] {
  const entries = options.services ?? defaultServices();
  const templates = buildTemplates(entries);
  const production = new RauliVisionChart(Testing.app(), 'edge', {
    environment: 'production', namespace: 'ns', services: entries, edge: { kind: EdgeKind.INGRESS_NGINX },
  });
  const controllerConfig = production.edge!.ingress!.controllerConfig;
  const postgres = production.data.postgres;
  const dir = options.outdir;
  const tdir = path.join(dir, 'templates');
  fs.rmSync(tdir, { recursive: true, force: true });
  fs.mkdirSync(tdir, { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
    written.push(file);
  };
  const banner = '# Generated by `npx projen helm:chart` from the rauli-vision constructs. Do not edit.\n';
  write('Chart.yaml', banner + emitDocument({
    apiVersion: 'v2',
    name: 'rauli-vision',
    description: 'RAULI-VISION: frontend, Go API and Python service with edge, monitoring and backups, generated from the @rauli-vision/platform constructs',
    type: 'application',
    version: options.version,
    appVersion: options.appVersion ?? IMAGE.tag,
    kubeVersion: '>=1.28.0-0',
    home: 'https://rauli-vision.com',
    maintainers: [{ name: 'rauli-vision', email: 'platform@rauli-vision.com' }],
  }));
  write('values.yaml', valuesYaml('production', entries));
  write('README.md', readme(controllerConfig, entries));
  write('values.schema.json', JSON.stringify(valuesSchema(entries), undefined, 2) + '\n');
  for (const env of Environments.NAMES.filter(e => e !== 'production')) write(`values-${env}.yaml`, valuesYaml(env, entries));
  write('.helmignore', '.git/\n*.swp\n*.bak\n*.tmp\n');
  write(path.join('templates', '_helpers.tpl'), HELPERS + poolSizeHelper(postgres.budget.maxClientConnections, postgres.poolSize, chartServices(entries)));
  for (const t of templates) {
    const body = emitDocument(t.doc);
    const left = [...Object.values(S), 'sentinel'].filter(x => body.includes(x));
    if (left.length) throw new Error(`${t.file}: sentinel ${left[0]} left in the template (no rule maps it to a value)`);
    write(path.join('templates', t.file), banner + (t.condition ? `{{- if ${t.condition} }}\n${body}{{- end }}\n` : body));
  }
  return written;
}
