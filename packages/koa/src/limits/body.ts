import type { Middleware } from 'koa';

declare module 'koa' {
  interface Request {
    /** Parsed JSON body (set by jsonBody). Typed like @koa/bodyparser's so both can coexist. */
    body?: any;
  }
}

export interface JsonBodyOptions {
  /** Largest body in bytes; larger gets 413. @default 1048576 */
  readonly limitBytes?: number;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function fail(status: number, message: string): Error {
  return Object.assign(new Error(message), { status, expose: true });
}

/**
 * Bounded body reading: a declared Content-Length above the limit gets 413
 * before a byte is read, a chunked body is cut off as soon as it crosses it.
 * JSON bodies are parsed into `ctx.request.body` (invalid JSON or UTF-8: 400);
 * other bodies are left unread for the route to handle.
 */
export function jsonBody(options: JsonBodyOptions = {}): Middleware {
  const limit = options.limitBytes ?? 1_048_576;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return async (ctx, next) => {
    const declared = ctx.get('Content-Length');
    if (declared && Number(declared) > limit) throw fail(413, `body larger than ${limit} bytes`);
    if (!BODY_METHODS.has(ctx.method) || !ctx.is('application/json', '+json')) {
      await next();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of ctx.req) {
        size += (chunk as Buffer).length;
        if (size > limit) throw fail(413, `body larger than ${limit} bytes`);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if ((err as { status?: number }).status) throw err;
      // The client went away mid-body: its fault, and nobody will read the answer.
      throw fail(400, 'request body aborted');
    }
    if (size > 0) {
      let text: string;
      try {
        text = decoder.decode(Buffer.concat(chunks, size));
      } catch {
        throw fail(400, 'body is not valid UTF-8');
      }
      try {
        ctx.request.body = JSON.parse(text);
      } catch {
        throw fail(400, 'body is not valid JSON');
      }
    }
    await next();
  };
}
