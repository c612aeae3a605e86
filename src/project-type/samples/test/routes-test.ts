import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceConventions } from '@rauli-vision/koa';
import { buildService } from '../src/app';
import { SERVICE } from '../src/k8s/settings.generated';
import { HELLO_ROUTE } from '../src/routes';

// No REDIS_URL or DATABASE_URL: the service runs with its in-memory fallbacks.
const service = buildService({
  env: { NODE_ENV: 'test', SERVICE_NAME: SERVICE.name, LOG_LEVEL: 'silent', PROMETHEUS_ENABLED: 'false' },
  handleSignals: false,
});
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer(service.app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await service.stop({ drainMs: 0 });
});

test('the sample route answers through every middleware', async () => {
  const res = await fetch(`${base}${HELLO_ROUTE}?name=team`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ service: SERVICE.name, message: 'hello, team' });
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get(ServiceConventions.REQUEST_ID_HEADER)).toBeTruthy();
});

test('overlong names are not echoed', async () => {
  const res = await fetch(`${base}${HELLO_ROUTE}?name=${'x'.repeat(65)}`);
  const body = await res.json() as { message: string };
  expect(body.message).toBe('hello, world');
});

test('liveness and readiness', async () => {
  expect((await fetch(`${base}${ServiceConventions.LIVENESS_PATH}`)).status).toBe(200);
  expect((await fetch(`${base}${ServiceConventions.READINESS_PATH}`)).status).toBe(200);
});

test('unknown routes get 404', async () => {
  expect((await fetch(`${base}/no-such-route`)).status).toBe(404);
});
