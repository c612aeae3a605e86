import { createService, CreateServiceOptions, Service } from '@rauli-vision/koa';
import { registerRoutes } from './routes';

/**
 * The service: security headers, rate limiting, metrics, health, graceful
 * shutdown and validated configuration come from @rauli-vision/koa; the routes
 * are this repository's.
 */
export function buildService(options: CreateServiceOptions = {}): Service {
  const service = createService(options);
  registerRoutes(service);
  return service;
}
