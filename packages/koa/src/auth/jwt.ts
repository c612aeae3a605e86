import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Middleware } from 'koa';
import { RuntimeDefaults } from '../conventions.generated';
import { toMs } from '../util/duration';

/** 256 bits: HS256 keys shorter than the hash output weaken the MAC (RFC 7518 §3.2). */
export const MIN_JWT_SECRET_BYTES = 32;
const ALG = 'HS256';

export interface JwtOptions {
  /** HS256 secret (the guide's `JWT_SECRET`), at least 32 bytes. */
  readonly secret: string | Uint8Array;
  readonly issuer: string;
  readonly audience: string;
  /** Access token lifetime, ms or `24h`. @default RuntimeDefaults.JWT_EXPIRES_IN */
  readonly expiresIn?: number | string;
  /** Refresh token lifetime, ms or `7d`. @default '7d' */
  readonly refreshExpiresIn?: number | string;
  /** Accepted clock skew between replicas. @default 5000 (ms) */
  readonly clockToleranceMs?: number;
}

/** Why a token was refused; sent to the client as `reason`. */
export type JwtFailureReason =
  | 'missing_token' | 'malformed_authorization_header' | 'malformed_token' | 'unsupported_algorithm'
  | 'invalid_signature' | 'token_expired' | 'token_not_yet_valid' | 'invalid_issuer' | 'invalid_audience'
  | 'wrong_token_type' | 'invalid_claims';

export class JwtError extends Error {
  constructor(readonly reason: JwtFailureReason, message: string) {
    super(message);
    this.name = 'JwtError';
  }
}

type TokenUse = 'access' | 'refresh';

export interface JwtMiddlewareOptions {
  /** Let requests without a token through (with no `ctx.state.user`); bad tokens still get 401. @default false */
  readonly optional?: boolean;
}

export interface Jwt {
  /** Signs an access token for `subject` with extra claims. */
  sign(subject: string, claims?: JWTPayload): Promise<string>;
  /** Signs a refresh token for `subject`. */
  signRefresh(subject: string, claims?: JWTPayload): Promise<string>;
  /** Verifies an access token; throws JwtError with a reason. */
  verify(token: string): Promise<JWTPayload>;
  /** Verifies a refresh token; an access token is refused. */
  verifyRefresh(token: string): Promise<JWTPayload>;
  /** Answers 401 with `{ error, reason }` unless a valid access token is present; sets `ctx.state.user`. */
  middleware(options?: JwtMiddlewareOptions): Middleware;
}

function mapJoseError(err: unknown): JwtError {
  if (err instanceof JwtError) return err;
  if (err instanceof errors.JWTExpired) return new JwtError('token_expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new JwtError('invalid_issuer', 'unexpected issuer');
    if (err.claim === 'aud') return new JwtError('invalid_audience', 'unexpected audience');
    if (err.claim === 'nbf' || err.claim === 'iat') return new JwtError('token_not_yet_valid', 'token not yet valid');
    return new JwtError('invalid_claims', `invalid claim ${err.claim}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new JwtError('invalid_signature', 'signature does not match');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new JwtError('unsupported_algorithm', `only ${ALG} is accepted`);
  }
  return new JwtError('malformed_token', 'token is not a well-formed JWT');
}

/**
 * HS256 access and refresh tokens with the guide's settings, on `jose`.
 * Refuses a short secret at creation (so a service fails at startup, not at
 * first login), and only ever accepts HS256: `alg: none` and algorithm
 * confusion are rejected before the signature is looked at.
 */
export function createJwt(options: JwtOptions): Jwt {
  const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  if (key.byteLength < MIN_JWT_SECRET_BYTES) {
    throw new Error(`JWT secret: ${key.byteLength} bytes is too short, at least ${MIN_JWT_SECRET_BYTES} bytes (256 bits) required`);
  }
  const accessSeconds = Math.round(toMs(options.expiresIn ?? RuntimeDefaults.JWT_EXPIRES_IN) / 1000);
  const refreshSeconds = Math.round(toMs(options.refreshExpiresIn ?? '7d') / 1000);
  const clockTolerance = Math.round((options.clockToleranceMs ?? 5000) / 1000);
  const { issuer, audience } = options;
  // Lets a service tell tokens of two secrets apart in logs without exposing the secret.
  const kid = createHash('sha256').update(key).digest('base64url').slice(0, 8);

  const sign = (use: TokenUse, lifetime: number) => (subject: string, claims: JWTPayload = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims, token_use: use })
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid })
      .setSubject(subject)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(key);
  };

  const verify = (use: TokenUse) => async (token: string): Promise<JWTPayload> => {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new JwtError('malformed_token', 'token is not a well-formed JWT');
    }
    if (alg !== ALG) throw new JwtError('unsupported_algorithm', `only ${ALG} is accepted`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, { algorithms: [ALG], issuer, audience, clockTolerance, requiredClaims: ['exp', 'sub'] }));
    } catch (err) {
      throw mapJoseError(err);
    }
    if (payload.token_use !== use) throw new JwtError('wrong_token_type', `expected a ${use} token`);
    return payload;
  };

  const verifyAccess = verify('access');

  const middleware = (mw: JwtMiddlewareOptions = {}): Middleware => async (ctx, next) => {
    const header = ctx.get('Authorization');
    const deny = (reason: JwtFailureReason, message: string) => {
      ctx.status = 401;
      // RFC 6750 §3.1: a request without credentials gets a bare challenge.
      ctx.set('WWW-Authenticate', reason === 'missing_token' ? 'Bearer' : `Bearer error="invalid_token", error_description="${reason}"`);
      ctx.body = { error: 'unauthorized', reason, message };
    };
    if (!header) {
      if (mw.optional) {
        await next();
        return;
      }
      deny('missing_token', 'Authorization: Bearer <token> header required');
      return;
    }
    const m = /^Bearer ([A-Za-z0-9_\-.=]+)$/i.exec(header);
    if (!m) {
      deny('malformed_authorization_header', 'expected Authorization: Bearer <token>');
      return;
    }
    try {
      ctx.state.user = await verifyAccess(m[1]);
    } catch (err) {
      const e = mapJoseError(err);
      deny(e.reason, e.message);
      return;
    }
    await next();
  };

  return {
    sign: sign('access', accessSeconds),
    signRefresh: sign('refresh', refreshSeconds),
    verify: verifyAccess,
    verifyRefresh: verify('refresh'),
    middleware,
  };
}
