import { createHmac } from 'node:crypto';
import Koa from 'koa';
import { createJwt, requestLogger } from '../src';
import { captureLogger, SECRET } from './helpers/service';

const ISS = 'rauli-vision';
const AUD = 'rauli-api';
const jwt = createJwt({ secret: SECRET, issuer: ISS, audience: AUD });

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** Hand-built token, to produce what a well-behaved library refuses to sign. */
function forge(header: object, payload: object, secret: string | undefined = SECRET, alg = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = secret === undefined ? '' : createHmac(alg, secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}
const now = () => Math.floor(Date.now() / 1000);
const claims = (over: object = {}) => ({ sub: 'ana', iss: ISS, aud: AUD, iat: now(), exp: now() + 60, token_use: 'access', ...over });

let server: ReturnType<Koa['listen']>;
let url: string;
beforeAll(async () => {
  const app = new Koa();
  app.use(requestLogger({ logger: captureLogger().logger }));
  app.use(jwt.middleware());
  app.use((ctx) => {
    ctx.body = { sub: (ctx.state.user as { sub: string }).sub };
  });
  await new Promise<void>((r) => {
    server = app.listen(7210, '127.0.0.1', () => r());
  });
  url = 'http://127.0.0.1:7210/';
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(authorization?: string) {
  const res = await fetch(url, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, body: await res.json() as { reason?: string; sub?: string }, challenge: res.headers.get('www-authenticate') };
}

describe('JWT', () => {
  test('signs with HS256, issuer, audience, 24h expiry; verifies', async () => {
    const token = await jwt.sign('ana', { role: 'admin' });
    const [h, p] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    expect(h.alg).toBe('HS256');
    expect(p).toMatchObject({ sub: 'ana', iss: ISS, aud: AUD, role: 'admin', token_use: 'access' });
    expect(p.exp - p.iat).toBe(24 * 3600);
    expect((await jwt.verify(token)).sub).toBe('ana');
    const ok = await call(`Bearer ${token}`);
    expect(ok).toMatchObject({ status: 200, body: { sub: 'ana' } });
  });

  test('refresh tokens live longer and are not access tokens', async () => {
    const refresh = await jwt.signRefresh('ana');
    const p = JSON.parse(Buffer.from(refresh.split('.')[1], 'base64url').toString());
    expect(p.exp - p.iat).toBe(7 * 24 * 3600);
    expect((await jwt.verifyRefresh(refresh)).sub).toBe('ana');
    await expect(jwt.verifyRefresh(await jwt.sign('ana'))).rejects.toMatchObject({ reason: 'wrong_token_type' });
    expect((await call(`Bearer ${refresh}`)).body.reason).toBe('wrong_token_type');
  });

  test.each([
    ['missing', undefined, 'missing_token'],
    ['not bearer', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'malformed_authorization_header'],
    ['bearer with spaces', 'Bearer a b c', 'malformed_authorization_header'],
    ['garbage', 'Bearer not-a-jwt', 'malformed_token'],
    ['two segments', 'Bearer abc.def', 'malformed_token'],
    ['header not JSON', `Bearer ${Buffer.from('{{').toString('base64url')}.e30.sig`, 'malformed_token'],
    ['alg none', `Bearer ${forge({ alg: 'none', typ: 'JWT' }, claims(), undefined)}`, 'unsupported_algorithm'],
    ['alg NONE', `Bearer ${forge({ alg: 'NONE' }, claims(), undefined)}`, 'unsupported_algorithm'],
    ['HS512 with the right secret', `Bearer ${forge({ alg: 'HS512' }, claims(), SECRET, 'sha512')}`, 'unsupported_algorithm'],
    ['RS256 claimed', `Bearer ${forge({ alg: 'RS256' }, claims())}`, 'unsupported_algorithm'],
    ['wrong secret', `Bearer ${forge({ alg: 'HS256' }, claims(), 'another-secret-that-is-also-32-bytes-long')}`, 'invalid_signature'],
    ['tampered payload', 'TAMPER', 'invalid_signature'],
    ['expired', `Bearer ${forge({ alg: 'HS256' }, claims({ iat: now() - 7200, exp: now() - 3600 }))}`, 'token_expired'],
    ['wrong issuer', `Bearer ${forge({ alg: 'HS256' }, claims({ iss: 'evil' }))}`, 'invalid_issuer'],
    ['wrong audience', `Bearer ${forge({ alg: 'HS256' }, claims({ aud: 'other-api' }))}`, 'invalid_audience'],
    ['no exp', `Bearer ${forge({ alg: 'HS256' }, { sub: 'ana', iss: ISS, aud: AUD, token_use: 'access' })}`, 'invalid_claims'],
    ['not yet valid', `Bearer ${forge({ alg: 'HS256' }, claims({ nbf: now() + 3600 }))}`, 'token_not_yet_valid'],
  ])('%s -> 401 %s', async (_name, authorization, reason) => {
    let auth = authorization;
    if (auth === 'TAMPER') {
      const [h, , s] = (await jwt.sign('ana')).split('.');
      auth = `Bearer ${h}.${b64(claims({ sub: 'root' }))}.${s}`;
    }
    const res = await call(auth);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe(reason);
    expect(res.challenge).toMatch(/^Bearer/);
  });

  test('secrets shorter than 256 bits are refused at creation', () => {
    expect(() => createJwt({ secret: 'super-secure-jwt-secret-256-bit', issuer: ISS, audience: AUD })).toThrow(/31 bytes is too short/);
    expect(() => createJwt({ secret: new Uint8Array(16), issuer: ISS, audience: AUD })).toThrow(/at least 32 bytes/);
    expect(() => createJwt({ secret: 'x'.repeat(32), issuer: ISS, audience: AUD })).not.toThrow();
  });

  test('optional middleware lets anonymous requests through but still refuses bad tokens', async () => {
    const mw = jwt.middleware({ optional: true });
    const ctx = { get: () => '', state: {} as { user?: unknown }, set: () => undefined } as never;
    let called = false;
    await mw(ctx, async () => {
      called = true;
    });
    expect(called).toBe(true);
  });
});
