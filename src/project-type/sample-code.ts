import { Component, SampleFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';
import { ServiceConventions } from '../conventions';
import { SAMPLE_ROUTE, ServiceSettings } from './service-settings';

/**
 * The service's starting point, written once (the team owns it afterwards): a
 * Koa service built by `@rauli-vision/koa`'s `createService()`, a sample
 * route, and a test that serves real HTTP requests through every middleware.
 */
export class ServiceSampleCode extends Component {
  constructor(project: TypeScriptProject, settings: ServiceSettings) {
    super(project);
    new SampleFile(project, `${project.srcdir}/index.ts`, {
      contents: `import { buildService } from './app';

// Configuration comes from the environment (see .env.example); invalid values
// are all reported at once and the process exits.
async function main(): Promise<void> {
  await buildService().start();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
`,
    });

    new SampleFile(project, `${project.srcdir}/app.ts`, {
      contents: `import { createService, CreateServiceOptions, Service } from '@rauli-vision/koa';
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
`,
    });

    new SampleFile(project, `${project.srcdir}/routes.ts`, {
      contents: `import type { Service } from '@rauli-vision/koa';

export const HELLO_ROUTE = '${SAMPLE_ROUTE}';

/** Longest name echoed back, so the response size stays bounded. */
const MAX_NAME_LENGTH = 64;

export function registerRoutes({ router, config }: Service): void {
  router.get('hello', HELLO_ROUTE, (ctx) => {
    const name = typeof ctx.query.name === 'string' && ctx.query.name.length <= MAX_NAME_LENGTH ? ctx.query.name : 'world';
    ctx.body = { service: config.serviceName, message: \`hello, \${name}\` };
  });
}
`,
    });

    new SampleFile(project, `${project.testdir}/routes.test.ts`, {
      contents: `import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildService } from '../src/app';
import { HELLO_ROUTE } from '../src/routes';

// No REDIS_URL or DATABASE_URL: the service runs with its in-memory fallbacks.
const service = buildService({
  env: { NODE_ENV: 'test', SERVICE_NAME: '${settings.serviceName}', LOG_LEVEL: 'silent', PROMETHEUS_ENABLED: 'false' },
  handleSignals: false,
});
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(service.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await service.stop({ drainMs: 0 });
});

test('the sample route answers through every middleware', async () => {
  const res = await fetch(\`\${base}\${HELLO_ROUTE}?name=team\`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ service: '${settings.serviceName}', message: 'hello, team' });
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('${ServiceConventions.REQUEST_ID_HEADER}')).toBeTruthy();
});

test('overlong names are not echoed', async () => {
  const res = await fetch(\`\${base}\${HELLO_ROUTE}?name=\${'x'.repeat(65)}\`);
  const body = await res.json() as { message: string };
  expect(body.message).toBe('hello, world');
});

test('liveness and readiness', async () => {
  expect((await fetch(\`\${base}${ServiceConventions.LIVENESS_PATH}\`)).status).toBe(200);
  expect((await fetch(\`\${base}${ServiceConventions.READINESS_PATH}\`)).status).toBe(200);
});

test('unknown routes get 404', async () => {
  expect((await fetch(\`\${base}/no-such-route\`)).status).toBe(404);
});
`,
    });
  }
}
