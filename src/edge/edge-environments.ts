import { validateDnsLabel } from '../core/validate';
import { EDGE_DEFAULTS } from './private/routing';
import { EdgeRoutingOptions } from './routing';

/**
 * Public hosts per environment, so several environments can share one
 * ingress controller without claiming the same host: production serves the
 * apex domain (the guide's Ingress), every other environment `<env>.` plus the
 * API host `api-<env>.` (the guide's `api-staging.rauli-vision.com`).
 */
export class EdgeEnvironments {
  /** The public domain. */
  public static readonly DOMAIN = EDGE_DEFAULTS.host;

  /** Hosts of `environment` ('production' gets the apex domain). */
  public static routing(environment: string): EdgeRoutingOptions {
    validateDnsLabel('environment', environment);
    if (environment === 'production') return { hosts: [EdgeEnvironments.DOMAIN], apiHosts: [] };
    return { hosts: [`${environment}.${EdgeEnvironments.DOMAIN}`], apiHosts: [`api-${environment}.${EdgeEnvironments.DOMAIN}`] };
  }
}
