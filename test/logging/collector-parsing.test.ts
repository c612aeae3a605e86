import * as http from 'http';
import { AddressInfo } from 'net';
import { runProcessors } from './beat-processors';
// The Koa package's real logger and request logger, with its own koa and router.
import { createLogger } from '../../packages/koa/src/logging/logger';
import { requestLogger } from '../../packages/koa/src/logging/request-logger';
import { Components } from '../../src/conventions';
import { LOG_FIELDS } from '../../src/logging';
import { collectorConfig } from '../../src/logging/collector-config';
/* eslint-disable import/no-extraneous-dependencies, @typescript-eslint/no-require-imports */
const Router = require('../../packages/koa/node_modules/@koa/router');
const Koa = require('../../packages/koa/node_modules/koa');
/* eslint-enable */

const config = collectorConfig({ environment: 'production', lifecyclePolicy: 'rauli-vision-logs', indexReplicas: 1 });
// What add_kubernetes_metadata puts on a line of one of the platform's pods (label keys dedotted).
const platformPod = { labels: { [Components.PART_OF_LABEL.replace(/\./g, '_')]: Components.PART_OF }, namespace: 'rauli-vision-production' };
const event = (message: string, kubernetes: object = platformPod) => ({ message, kubernetes });

/** Lines the Koa service writes for a GET that succeeds and one whose handler throws. */
async function koaLines(): Promise<string[]> {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', output: { write: (l: string) => lines.push(l.trimEnd()) }, base: { service: 'backend-go' } });
  const router = new Router();
  router.get('/api/items/:id', (ctx: any) => { ctx.body = { id: ctx.params.id }; });
  router.get('/api/boom', () => { throw new Error('database unreachable'); });
  const app = new Koa();
  app.use(requestLogger({ logger }));
  app.use(router.routes());
  const server = http.createServer(app.callback());
  await new Promise<void>(resolve => server.listen(21110, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/api/items/42`, { headers: { 'x-request-id': 'req-123' } });
    await fetch(`http://127.0.0.1:${port}/api/boom`, { headers: { 'x-request-id': 'req-456' } });
  } finally {
    server.close();
  }
  return lines;
}

describe('collector parsing (Filebeat processors run by a stand-in, see beat-processors.ts)', () => {
  let lines: string[];
  beforeAll(async () => { lines = await koaLines(); });

  test('an access-log line of the Koa request logger becomes fields', () => {
    const access = lines.map(l => JSON.parse(l)).find(l => l.route === '/api/items/:id');
    expect(access).toBeDefined();
    const out = runProcessors(config, event(JSON.stringify(access)));
    expect(out).toMatchObject({
      message: 'request',
      log: { level: 'info' },
      service: { name: 'backend-go', environment: 'production' },
      http: { request: { id: 'req-123', method: 'GET' }, route: '/api/items/:id', response: { status_code: 200 } },
      url: { path: '/api/items/42' },
      event: { original: JSON.stringify(access) },
    });
    expect(typeof out.http.response.duration_ms).toBe('number');
    expect(typeof out.event.created).toBe('string');
    // Every key was mapped: nothing is left under the decoding target.
    expect(out.rauli).toEqual({});
  });

  test('an error line keeps its type, message and stack as error fields', () => {
    const error = lines.map(l => JSON.parse(l)).find(l => l.err);
    const out = runProcessors(config, event(JSON.stringify(error)));
    expect(out.log.level).toBe('error');
    expect(out.error).toMatchObject({ type: 'Error', message: 'database unreachable' });
    expect(out.error.stack_trace).toContain('database unreachable');
    expect(out.http.request.id).toBe('req-456');
  });

  test('every key of the request logger\'s lines has a field in LOG_FIELDS (a new key fails here; keys of other lines stay under rauli.*)', () => {
    const keys = new Set<string>();
    const walk = (o: any, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === 'object') walk(v, `${prefix}${k}.`); else keys.add(`${prefix}${k}`);
      }
    };
    for (const l of lines) walk(JSON.parse(l), '');
    const mapped = new Set(LOG_FIELDS.map(f => f.key));
    expect([...keys].filter(k => !mapped.has(k))).toEqual([]);
  });

  test('a line that is not JSON stays a plain message', () => {
    const out = runProcessors(config, event('panic: runtime error: index out of range [3] with length 3'));
    expect(out.message).toBe('panic: runtime error: index out of range [3] with length 3');
    expect(out.rauli).toBeUndefined();
    expect(out.event).toBeUndefined();
    expect(out.service.environment).toBe('production');
  });

  test('a line that only looks like JSON stays a plain message', () => {
    const out = runProcessors(config, event('{not json at all'));
    expect(out.message).toBe('{not json at all');
    expect(out.rauli).toBeUndefined();
  });

  test('a line that carries its own message and environment keeps them', () => {
    const out = runProcessors(config, event(JSON.stringify({ level: 'warn', message: 'slow query', environment: 'staging' })));
    expect(out.message).toBe('slow query');
    expect(out.service.environment).toBe('staging');
  });

  test('JSON lines of other pods are not decoded into the platform\'s fields', () => {
    const out = runProcessors(config, event(JSON.stringify({ level: 'info', msg: 'x' }), { labels: { app: 'coredns' }, namespace: 'kube-system' }));
    expect(out.rauli).toBeUndefined();
    expect(out.log).toBeUndefined();
    expect(out.service).toBeUndefined();
  });
});
