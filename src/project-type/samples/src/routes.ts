import type { Service } from '@rauli-vision/koa';

export const HELLO_ROUTE = '/api/v1/hello';

/** Longest name echoed back, so the response size stays bounded. */
const MAX_NAME_LENGTH = 64;

export function registerRoutes({ router, config }: Service): void {
  router.get('hello', HELLO_ROUTE, (ctx) => {
    const name = typeof ctx.query.name === 'string' && ctx.query.name.length <= MAX_NAME_LENGTH ? ctx.query.name : 'world';
    ctx.body = { service: config.serviceName, message: `hello, ${name}` };
  });
}
