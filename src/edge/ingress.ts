import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PropValidationError, validateDnsSubdomain } from '../core/validate';
import { EDGE_DEFAULTS, EdgeBackend, ResolvedRouting, resolveRouting, routeFor } from './private/routing';
import { EdgeRateLimit, EdgeRoutingProps } from './routing';
import { SecurityHeadersConfigMap } from './security-headers';

const NGINX = 'nginx.ingress.kubernetes.io';
const TLS_NAMES = ['1.2', '1.3'];

/** Props of {@link EdgeIngress}. */
export interface EdgeIngressProps extends EdgeRoutingProps {
  /**
   * IngressClass of the controller.
   * @default 'nginx'
   */
  readonly className?: string;
  /**
   * Extra annotations for the Ingress that owns the certificate (the frontend one).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

/**
 * The production edge on ingress-nginx, as separate Ingresses because
 * ingress-nginx applies annotations per Ingress:
 * - `web`: `/` -> frontend; owns the certificate (cert-manager annotation).
 * - `api`: `/api/` (and `/` on the API hosts) -> backend, 10 r/s burst 20.
 * - `login`: the login path -> backend, 1 r/s.
 * - `assets`: `/assets/` -> frontend with `Cache-Control: public, max-age=31536000, immutable`.
 *
 * All four list the same TLS hosts and secret, so every location redirects to
 * HTTPS, but only `web` asks cert-manager for the certificate: two Ingresses
 * requesting the same secret make cert-manager's ingress-shim fight over one
 * Certificate.
 *
 * Response headers come from ConfigMaps through the `custom-headers` annotation
 * (no snippets). The controller must list their names in its
 * `global-allowed-response-headers` ({@link controllerConfig} gives the values
 * its ConfigMap needs). Immutable caching is limited to the content-hashed
 * build output under `/assets/`: the guide's extension regex would also freeze
 * the PWA's `sw.js` and `manifest` for a year, and a regex path would switch
 * ingress-nginx to regex matching for every path of the host.
 *
 * ingress-nginx counts rate limits per controller replica and answers 503 by
 * default: `controllerConfig` sets `limit-req-status-code: 429`, plus gzip and,
 * behind a declared CDN, the real client address. `controllerValues()` is
 * the same as values for the controller's Helm chart.
 */
export class EdgeIngress extends Construct {
  /** The Ingresses by role: web, api, login, assets. */
  public readonly ingresses: { [role: string]: kplus.k8s.KubeIngress };
  /** Header ConfigMaps (none when security headers are off and no assets caching is needed). */
  public readonly headerConfigMaps: SecurityHeadersConfigMap[];
  /**
   * Settings the ingress-nginx controller's own ConfigMap needs for this edge
   * (ingress-nginx Helm chart: `controller.config`).
   */
  public readonly controllerConfig: { [key: string]: string };
  /** Hosts served, frontend hosts first. */
  public readonly hosts: string[];

  constructor(scope: Construct, id: string, props: EdgeIngressProps) {
    super(scope, id);
    const r = resolveRouting(this, props);
    const className = validateDnsSubdomain('className', props.className ?? 'nginx');
    for (const key of Object.keys(props.annotations ?? {})) {
      if (/snippet/.test(key)) {
        throw new PropValidationError('annotations', key, 'no snippet annotations (disabled by default in ingress-nginx, and a cross-tenant injection risk)');
      }
    }
    this.hosts = r.allHosts;
    const headers = r.securityHeaders
      ? new SecurityHeadersConfigMap(this, 'SecurityHeaders', { name: `${r.name}-security-headers`, headers: r.responseHeaders })
      : undefined;
    const assetHeaders = new SecurityHeadersConfigMap(this, 'AssetHeaders', { name: `${r.name}-asset-headers`, headers: r.assetHeaders });
    this.headerConfigMaps = headers ? [headers, assetHeaders] : [assetHeaders];
    this.controllerConfig = controllerConfig(r, this.headerConfigMaps);
    this.ingresses = this.buildIngresses(r, className, props.annotations ?? {}, headers, assetHeaders);
  }

  /**
   * Values for the ingress-nginx Helm chart that configure the controller the
   * way these Ingresses need it (`helm install -f`).
   */
  public controllerValues(): { [key: string]: any } {
    return { controller: { config: { ...this.controllerConfig } } };
  }

  private buildIngresses(r: ResolvedRouting, className: string, extra: { [key: string]: string },
    headers: SecurityHeadersConfigMap | undefined, assetHeaders: SecurityHeadersConfigMap): { [role: string]: kplus.k8s.KubeIngress } {
    const common: { [key: string]: string } = {
      [`${NGINX}/ssl-redirect`]: 'true',
      [`${NGINX}/force-ssl-redirect`]: 'true',
      [`${NGINX}/proxy-body-size`]: r.maxBodySize,
      [`${NGINX}/proxy-connect-timeout`]: String(r.connectTimeoutSeconds),
      [`${NGINX}/proxy-read-timeout`]: String(r.requestTimeoutSeconds),
      [`${NGINX}/proxy-send-timeout`]: String(r.requestTimeoutSeconds),
    };
    const customHeaders = (cm?: SecurityHeadersConfigMap): { [key: string]: string } =>
      cm ? { [`${NGINX}/custom-headers`]: `${r.namespace}/${cm.name}` } : {};
    const limit = (l: EdgeRateLimit) => ({
      [`${NGINX}/limit-rps`]: String(l.requestsPerSecond),
      [`${NGINX}/limit-burst-multiplier`]: String(l.burst / l.requestsPerSecond),
    });
    const ingresses: { [role: string]: kplus.k8s.KubeIngress } = {};
    const ingress = (role: string, annotations: { [key: string]: string }, paths: Array<[string, string, 'Prefix' | 'Exact', EdgeBackend]>) => {
      if (paths.length === 0) return;
      const hosts = [...new Set(paths.map(([host]) => host))];
      ingresses[role] = new kplus.k8s.KubeIngress(this, role, {
        metadata: { name: `${r.name}-${role}`, namespace: r.namespace, labels: r.labels, annotations: { ...common, ...annotations } },
        spec: {
          ingressClassName: className,
          tls: [{ hosts: r.allHosts, secretName: r.tlsSecretName }],
          rules: hosts.map(host => ({
            host,
            http: {
              paths: paths.filter(([h]) => h === host).map(([, path, pathType, b]) =>
                ({ path, pathType, backend: { service: { name: b.serviceName, port: { number: b.port } } } })),
            },
          })),
        },
      });
    };

    // Only `web` asks cert-manager for the certificate (see the class comment).
    ingress('web', { 'cert-manager.io/cluster-issuer': r.clusterIssuerName, ...customHeaders(headers), ...extra },
      r.routes.filter(x => !x.rateLimit).map(x => [x.host, x.pathPrefix, 'Prefix', x.backend]));
    // ingress-nginx applies one limit per Ingress: one Ingress per distinct limit.
    const limits = [...new Set(r.routes.filter(x => x.rateLimit).map(x => JSON.stringify(x.rateLimit)))];
    limits.forEach((l, i) => {
      const rateLimit: EdgeRateLimit = JSON.parse(l);
      const role = l === JSON.stringify(r.apiRateLimit) ? 'api' : `limited-${i}`;
      ingress(role, { ...customHeaders(headers), ...limit(rateLimit) },
        r.routes.filter(x => JSON.stringify(x.rateLimit) === l).map(x => [x.host, x.pathPrefix, 'Prefix', x.backend]));
    });
    ingress('login', { ...customHeaders(headers), ...limit(r.loginRateLimit) }, r.allHosts.flatMap(host => {
      const route = routeFor(r, host, r.paths.login);
      return route?.rateLimit ? [[host, r.paths.login, 'Exact', route.backend] as [string, string, 'Exact', EdgeBackend]] : [];
    }));
    ingress('assets', customHeaders(assetHeaders), r.allHosts.flatMap(host => {
      const route = routeFor(r, host, r.paths.assets);
      return route?.staticAssets ? [[host, r.paths.assets, 'Prefix', route.backend] as [string, string, 'Prefix', EdgeBackend]] : [];
    }));
    return ingresses;
  }
}

/**
 * The controller settings these Ingresses depend on (its ConfigMap; Helm chart
 * `controller.config`): without `global-allowed-response-headers` the
 * controller denies every location using `custom-headers` (503 for the site).
 */
function controllerConfig(r: ResolvedRouting, headerConfigMaps: SecurityHeadersConfigMap[]): { [key: string]: string } {
  const allowed = new Set(headerConfigMaps.flatMap(cm => Object.keys(cm.headers)));
  return {
    'allow-snippet-annotations': 'false',
    'global-allowed-response-headers': [...allowed].join(','),
    'limit-req-status-code': '429',
    'ssl-protocols': TLS_NAMES.filter(v => Number(v) >= Number(r.tls.minVersion) && Number(v) <= Number(r.tls.maxVersion)).map(v => `TLSv${v}`).join(' '),
    'use-http2': 'true',
    'use-gzip': 'true',
    'gzip-min-length': String(EDGE_DEFAULTS.gzipMinLength),
    'gzip-types': EDGE_DEFAULTS.gzipTypes.join(' '),
    // Only a declared CDN may name the client: otherwise X-Forwarded-For is the client's own claim.
    'use-forwarded-headers': r.cdnCidrs.length > 0 ? 'true' : 'false',
    ...(r.cdnCidrs.length > 0 ? { 'proxy-real-ip-cidr': r.cdnCidrs.join(',') } : {}),
  };
}
