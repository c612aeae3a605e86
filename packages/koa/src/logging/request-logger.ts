import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { ServiceConventions } from '../conventions.generated';
import type { Logger } from './logger';

export interface RequestLoggerOptions {
  readonly logger: Logger;
  /** Response (and trusted request) header carrying the request id. @default ServiceConventions.REQUEST_ID_HEADER */
  readonly header?: string;
  /**
   * Reuse a well-formed incoming request id (set by the ingress or an upstream service)
   * so one id follows a request across services. @default true
   */
  readonly trustIncomingId?: boolean;
  /** Paths not access-logged (probes would flood the logs). @default [] */
  readonly skipPaths?: readonly string[];
}

// Bounded charset and length: the id is echoed in a header and written in logs.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Where the request id and the per-request logger live. */
export interface RequestLogState {
  requestId: string;
  log: Logger;
}

/**
 * Outermost middleware: gives every request an id (returned in the response
 * header), a child logger in `ctx.state.log`, one access-log line, and turns
 * thrown errors into JSON answers (4xx keep their message, 5xx are hidden and logged)
 * so that the headers set by the other middleware survive on error responses.
 */
export function requestLogger(options: RequestLoggerOptions): Middleware {
  const header = options.header ?? ServiceConventions.REQUEST_ID_HEADER;
  const trustIncoming = options.trustIncomingId ?? true;
  const skip = new Set(options.skipPaths ?? []);
  const logger = options.logger;
  const logAccess = logger.isLevelEnabled('info');

  return async (ctx, next) => {
    const start = process.hrtime.bigint();
    const incoming = trustIncoming ? ctx.get(header) : '';
    const requestId = incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.set(header, requestId);
    const log = logger.child({ requestId });
    ctx.state.requestId = requestId;
    ctx.state.log = log;
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; headers?: { [k: string]: string } };
      const status = e.status ?? e.statusCode;
      const clientError = typeof status === 'number' && status >= 400 && status < 500;
      ctx.status = clientError ? status : 500;
      if (e.headers) ctx.set(e.headers);
      ctx.body = { error: clientError && e.expose !== false ? e.message : 'internal server error', requestId };
      if (!clientError) log.error('unhandled error', { err });
    }
    if (logAccess && !skip.has(ctx.path)) {
      log.info('request', {
        method: ctx.method,
        path: ctx.path,
        route: (ctx as { _matchedRoute?: unknown })._matchedRoute,
        status: ctx.status,
        durationMs: Number(process.hrtime.bigint() - start) / 1e6,
      });
    }
  };
}
