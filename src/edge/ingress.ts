import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PropValidationError, validateDnsSubdomain, validateNginxSize } from '../core/validate';
import { EDGE_DEFAULTS, EdgeBackend, resolveRouting, validateRateLimit } from './private/routing';
import { EdgeRateLimit, EdgeRoutingProps } from './routing';
import { SecurityHeadersConfigMap } from './security-headers';

const NGINX = 'nginx.ingress.kubernetes.io';

/** Props of {@link EdgeIngress}. */
export interface EdgeIngressProps extends EdgeRoutingProps {
  /**
   * IngressClass of the controller.
   * @default 'nginx'
   */
  readonly className?: string;
  /**
   * Per-client limit on the API (`/api/` and the API hosts).
   * @default 10 requests/s, burst 20 (the seed)
   */
  readonly apiRateLimit?: EdgeRateLimit;
  /**
   * Per-client limit on the login endpoint (EdgeConventions.LOGIN_PATH).
   * @default 1 request/s, burst 5
   */
  readonly loginRateLimit?: EdgeRateLimit;
  /**
   * Largest request body the edge accepts (nginx size syntax).
   * @default '10m'
   */
  readonly maxBodySize?: string;
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
 * - one per extra route (named after its service): its prefix -> its service, with the API limit.
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
 * build output under `/assets/`: the seed's extension regex would also freeze
 * the PWA's `sw.js` and `manifest` for a year, and a regex path would switch
 * ingress-nginx to regex matching for every path of the host.
 *
 * ingress-nginx counts rate limits per controller replica and answers 503 by
 * default: `controllerConfig` sets `limit-req-status-code: 429`.
 */
export class EdgeIngress extends Construct {
  /** The Ingresses by role: web, api, login, assets, and each extra route by its service's name. */
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
    const apiLimit = validateRateLimit('apiRateLimit', props.apiRateLimit ?? EDGE_DEFAULTS.apiRateLimit);
    const loginLimit = validateRateLimit('loginRateLimit', props.loginRateLimit ?? EDGE_DEFAULTS.loginRateLimit);
    const maxBodySize = validateNginxSize('maxBodySize', props.maxBodySize ?? EDGE_DEFAULTS.maxBodySize);
    for (const key of Object.keys(props.annotations ?? {})) {
      if (/snippet/.test(key)) {
        throw new PropValidationError('annotations', key, 'no snippet annotations (disabled by default in ingress-nginx, and a cross-tenant injection risk)');
      }
    }
    this.hosts = r.allHosts;

    const common: { [key: string]: string } = {
      [`${NGINX}/ssl-redirect`]: 'true',
      [`${NGINX}/force-ssl-redirect`]: 'true',
      [`${NGINX}/proxy-body-size`]: maxBodySize,
      [`${NGINX}/proxy-connect-timeout`]: String(Math.min(EDGE_DEFAULTS.connectTimeoutSeconds, r.requestTimeoutSeconds)),
      [`${NGINX}/proxy-read-timeout`]: String(r.requestTimeoutSeconds),
      [`${NGINX}/proxy-send-timeout`]: String(r.requestTimeoutSeconds),
    };
    const headers = r.securityHeaders
      ? new SecurityHeadersConfigMap(this, 'SecurityHeaders', { name: `${r.name}-security-headers`, headers: r.responseHeaders })
      : undefined;
    const assetHeaders = new SecurityHeadersConfigMap(this, 'AssetHeaders', { name: `${r.name}-asset-headers`, headers: r.assetHeaders });
    this.headerConfigMaps = headers ? [headers, assetHeaders] : [assetHeaders];
    const customHeaders = (cm?: SecurityHeadersConfigMap): { [key: string]: string } =>
      cm ? { [`${NGINX}/custom-headers`]: `${r.namespace}/${cm.name}` } : {};
    const limit = (l: EdgeRateLimit) => ({
      [`${NGINX}/limit-rps`]: String(l.requestsPerSecond),
      [`${NGINX}/limit-burst-multiplier`]: String(l.burst / l.requestsPerSecond),
    });

    const allowed = new Set(this.headerConfigMaps.flatMap(cm => Object.keys(cm.headers)));
    this.controllerConfig = {
      'global-allowed-response-headers': [...allowed].join(','),
      'limit-req-status-code': '429',
    };

    const ingress = (role: string, annotations: { [key: string]: string }, rules: kplus.k8s.IngressRule[]) =>
      new kplus.k8s.KubeIngress(this, role, {
        metadata: { name: `${r.name}-${role}`, namespace: props.namespace, labels: r.labels, annotations: { ...common, ...annotations } },
        spec: {
          ingressClassName: className,
          tls: [{ hosts: r.allHosts, secretName: r.tlsSecretName }],
          rules,
        },
      });
    const rule = (host: string, paths: Array<[string, 'Prefix' | 'Exact', EdgeBackend]>): kplus.k8s.IngressRule => ({
      host,
      http: {
        paths: paths.map(([path, pathType, b]) => ({ path, pathType, backend: { service: { name: b.serviceName, port: { number: b.port } } } })),
      },
    });

    this.ingresses = {
      web: ingress('web', {
        'cert-manager.io/cluster-issuer': r.clusterIssuerName,
        ...customHeaders(headers),
        ...props.annotations,
      }, r.hosts.map(h => rule(h, [['/', 'Prefix', r.frontend]]))),
      api: ingress('api', { ...customHeaders(headers), ...limit(apiLimit) }, [
        ...r.hosts.map(h => rule(h, [[r.paths.api, 'Prefix', r.backend]])),
        ...r.apiHosts.map(h => rule(h, [['/', 'Prefix', r.backend]])),
      ]),
      login: ingress('login', { ...customHeaders(headers), ...limit(loginLimit) },
        r.allHosts.map(h => rule(h, [[r.paths.login, 'Exact', r.backend]]))),
      assets: ingress('assets', customHeaders(assetHeaders), r.hosts.map(h => rule(h, [[r.paths.assets, 'Prefix', r.frontend]]))),
    };
    for (const service of new Set(r.routes.map(route => route.name))) {
      const rules = r.routes.filter(route => route.name === service)
        .flatMap(route => route.hosts.map(h => rule(h, [[route.pathPrefix, 'Prefix', route.backend]])));
      this.ingresses[service] = ingress(service, { ...customHeaders(headers), ...limit(apiLimit) }, rules);
    }
  }
}
