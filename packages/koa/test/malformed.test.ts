import { connect } from 'node:net';
import { Running, SECRET, startService } from './helpers/service';

const PORT = 7280;

/** Writes raw bytes and returns the status code of the first response line (0 when none came back). */
function raw(bytes: Buffer | string, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(PORT, '127.0.0.1');
    let data = '';
    const done = () => {
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (/^HTTP\/1\.[01] \d{3}/.test(data) && data.includes('\r\n\r\n')) {
        clearTimeout(timer);
        // Give the body a moment, then stop: only the status matters.
        setTimeout(done, 20);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

const req = (line: string, headers: string[] = [], body = '') =>
  `${line}\r\n${['Host: localhost', 'Connection: close', ...headers].join('\r\n')}\r\n\r\n${body}`;
const get = (path: string, headers: string[] = []) => req(`GET ${path} HTTP/1.1`, headers);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwtPayload = b64({ sub: 'x', iss: 'rauli-vision', aud: 'rauli-vision', exp: 9999999999, token_use: 'access' });

const CORPUS: [string, Buffer | string][] = [
  ['invalid UTF-8 bytes in the path', Buffer.concat([Buffer.from('GET /caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])],
  ['invalid UTF-8 percent-encoded in a route parameter', get('/items/%FF%FE%FD')],
  ['overlong UTF-8 encoding of /', get('/items/%C0%AF')],
  ['truncated percent escape', get('/items/%E0%A4%A')],
  ['lone percent', get('/%')],
  ['NUL in the path', get('/items/%00')],
  ['path traversal', get('/../../etc/passwd')],
  ['100 KB URL', get(`/items/${'a'.repeat(100_000)}`)],
  ['oversized header (20 KB)', get('/', [`X-Big: ${'b'.repeat(20_000)}`])],
  ['many headers adding up past the limit', get('/', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(60)}`))],
  ['control character in a header value', get('/', ['X-Bad: a\x01b'])],
  ['header line without colon', get('/', ['NoColonHere'])],
  ['space before the colon', get('/', ['X-Space : y'])],
  ['garbage request line', 'GARBAGE\r\n\r\n'],
  ['unknown method', req('FOO / HTTP/1.1')],
  ['unsupported HTTP version', req('GET / HTTP/9.9')],
  ['missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ['Content-Length and Transfer-Encoding together', req('POST /echo HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n')],
  ['two different Content-Lengths', req('POST /echo HTTP/1.1', ['Content-Length: 2', 'Content-Length: 3'], '{}')],
  ['negative Content-Length', req('POST /echo HTTP/1.1', ['Content-Length: -1'])],
  ['invalid chunk size', req('POST /echo HTTP/1.1', ['Content-Type: application/json', 'Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n')],
  ['oversized body (declared)', req('POST /echo HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 10000000'], '{')],
  ['oversized body (chunked)', req('POST /echo HTTP/1.1', ['Content-Type: application/json', 'Transfer-Encoding: chunked'],
    `${(9000).toString(16)}\r\n${'x'.repeat(9000)}\r\n0\r\n\r\n`)],
  ['invalid JSON body', req('POST /echo HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 5'], '{"a":')],
  ['invalid UTF-8 JSON body', Buffer.concat([Buffer.from(req('POST /echo HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 6'])), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])])],
  ['JWT: empty bearer', get('/me', ['Authorization: Bearer '])],
  ['JWT: one segment', get('/me', ['Authorization: Bearer abc'])],
  ['JWT: alg none', get('/me', [`Authorization: Bearer ${b64({ alg: 'none' })}.${jwtPayload}.`])],
  ['JWT: header is not JSON', get('/me', [`Authorization: Bearer ${Buffer.from('{{{').toString('base64url')}.${jwtPayload}.sig`])],
  ['JWT: payload is not JSON', get('/me', [`Authorization: Bearer ${b64({ alg: 'HS256' })}.${Buffer.from('nope').toString('base64url')}.sig`])],
  ['JWT: invalid base64', get('/me', ['Authorization: Bearer @@@.###.$$$'])],
  ['JWT: 6 KB token', get('/me', [`Authorization: Bearer ${'a'.repeat(3000)}.${'b'.repeat(3000)}.c`])],
  ['JWT: crit header', get('/me', [`Authorization: Bearer ${b64({ alg: 'HS256', crit: ['exp'] })}.${jwtPayload}.sig`])],
  ['JWT: non-latin payload', Buffer.concat([Buffer.from('GET /me HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer '), Buffer.from([0xe2, 0x82, 0xac]), Buffer.from('.a.b\r\n\r\n')])],
  ['spoofed and malformed X-Forwarded-For', get('/items/1x', ['X-Forwarded-For: not-an-ip, ::::, 999.1.1.1'])],
  ['malformed request id', get('/', ['X-Request-Id: ../../etc'])],
];

let svc: Running;
beforeAll(async () => {
  svc = await startService(PORT, { MAX_BODY_SIZE: '4096', JWT_SECRET: SECRET, RATE_LIMIT_REQUESTS: '100000' });
  const { router, jwt } = svc.service;
  router.get('/items/:id', (ctx) => {
    if (!/^\d+$/.test(ctx.params.id)) ctx.throw(400, 'id must be a number');
    ctx.body = { id: ctx.params.id };
  });
  router.post('/echo', (ctx) => {
    ctx.body = (ctx.request as { body?: unknown }).body ?? null;
  });
  router.get('/me', jwt.middleware(), (ctx) => {
    ctx.body = ctx.state.user;
  });
});
afterAll(() => svc.stop());

describe('malformed requests', () => {
  test.each(CORPUS)('%s -> 4xx', async (_name, bytes) => {
    const status = await raw(bytes);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });

  test('odd but valid requests are answered without a 5xx', async () => {
    expect(await raw(get('http://evil.example/items/1'))).toBe(200);
    expect(await raw(get('/items/1?%FF=%FE&a[b]=1&a=2'))).toBe(200);
    expect(await raw(req('OPTIONS * HTTP/1.1'))).toBeLessThan(500);
  });

  test('after the whole corpus the server is alive and logged no unhandled error', async () => {
    await Promise.all(CORPUS.map(([, bytes]) => raw(bytes)));
    expect((await fetch(`http://127.0.0.1:${PORT}/healthz`)).status).toBe(200);
    expect(svc.log.records().filter((r) => r.level === 'error').map((r) => JSON.stringify(r).slice(0, 400))).toEqual([]);
  });
});
