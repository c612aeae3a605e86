import { createLogger, ServiceConventions } from '../src';
import { captureLogger, startService } from './helpers/service';

describe('logger', () => {
  test('JSON lines honour LOG_LEVEL; errors keep their stack', () => {
    const log = captureLogger('warn');
    log.logger.info('hidden');
    log.logger.warn('shown', { n: 1 });
    log.logger.child({ requestId: 'r1' }).error('failed', { err: new Error('bad') });
    const [w, e] = log.records();
    expect(log.lines).toHaveLength(2);
    expect(w).toMatchObject({ level: 'warn', msg: 'shown', n: 1, service: 'test' });
    expect(typeof w.time).toBe('string');
    expect(e).toMatchObject({ level: 'error', requestId: 'r1', err: { type: 'Error', message: 'bad' } });
    expect((e.err as { stack: string }).stack).toContain('logging.test.ts');
  });

  test('an Error nested in an object field, or bound in a child, is expanded too', () => {
    const log = captureLogger('info');
    log.logger.info('nested', { job: { id: 7, cause: new Error('deep') } });
    log.logger.child({ err: new Error('bound') }).info('plain', { n: 2 });
    const [nested, bound] = log.records();
    expect(nested).toMatchObject({ job: { id: 7, cause: { type: 'Error', message: 'deep' } } });
    expect(bound).toMatchObject({ n: 2, err: { type: 'Error', message: 'bound' } });
  });

  test('text format and silent level', () => {
    const text = captureLogger('info', 'text');
    text.logger.info('hello world', { path: '/a b', status: 200 });
    expect(text.lines[0]).toMatch(/^\S+ INFO hello world service=test path="\/a b" status=200\n$/);
    const lines: string[] = [];
    const silent = createLogger({ level: 'silent', output: { write: (l: string) => lines.push(l) } });
    silent.fatal('nothing');
    expect(lines).toEqual([]);
  });
});

describe('request id and access log', () => {
  test('every response carries a request id that is in its log line; a well-formed incoming id is kept', async () => {
    const svc = await startService(7270);
    svc.service.router.get('/hello', (ctx) => {
      (ctx.state.log as { info: (m: string) => void }).info('inside handler');
      ctx.body = 'hi';
    });
    try {
      const header = ServiceConventions.REQUEST_ID_HEADER;
      const a = await fetch(`${svc.url}/hello`);
      const id = a.headers.get(header)!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const b = await fetch(`${svc.url}/hello`, { headers: { [header]: 'edge-1234.abc' } });
      expect(b.headers.get(header)).toBe('edge-1234.abc');
      const c = await fetch(`${svc.url}/hello`, { headers: { [header]: 'bad id with spaces and "quotes"' } });
      expect(c.headers.get(header)).toMatch(/^[0-9a-f-]{36}$/);
      await fetch(`${svc.url}/healthz`);

      const records = svc.log.records();
      const access = records.filter((r) => r.msg === 'request');
      expect(access).toHaveLength(3);
      expect(access[0]).toMatchObject({ requestId: id, method: 'GET', path: '/hello', route: '/hello', status: 200 });
      expect(typeof access[0].durationMs).toBe('number');
      expect(records.find((r) => r.msg === 'inside handler')).toMatchObject({ requestId: id });
      expect(access[1].requestId).toBe('edge-1234.abc');
    } finally {
      await svc.stop();
    }
  });
});
