import type { LogFormat, LogLevel, LogOutput } from '../config';

const LEVELS: { [level in LogLevel]: number } = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
type Emitting = Exclude<LogLevel, 'silent'>;
type Fields = { readonly [key: string]: unknown };

export interface Logger {
  trace(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  fatal(msg: string, fields?: Fields): void;
  /** A logger adding `bindings` to every line (e.g. the request id). */
  child(bindings: Fields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** @default 'info' */
  readonly level?: LogLevel;
  /** @default 'json' */
  readonly format?: LogFormat;
  /** @default 'stdout' */
  readonly output?: LogOutput | { write(line: string): unknown };
  /** Fields on every line, e.g. `{ service: 'orders' }`. @default {} */
  readonly base?: Fields;
}

function serializeError(err: Error): Fields {
  return { type: err.name, message: err.message, stack: err.stack };
}

// Errors serialize to `{}` by default: expand them so stack traces reach the logs.
// (duck-typed: errors from another realm, e.g. Node core inside a VM, fail instanceof).
function isError(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value && 'stack' in value);
}

function replacer(_key: string, value: unknown): unknown {
  return isError(value) ? serializeError(value) : value;
}

/**
 * Whether an Error could be among (or inside) the values: only objects can hold
 * one. A replacer function makes JSON.stringify call back into JavaScript for
 * every key and leave its fast path, which was most of a request-log line's cost.
 */
function hasObject(fields: Fields | undefined): boolean {
  if (fields === undefined) return false;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'object' && value !== null) return true;
  }
  return false;
}

function textValue(v: unknown): string {
  if (isError(v)) return JSON.stringify(v.message);
  return typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v, replacer);
}

/**
 * A small structured logger: one JSON object per line (or `key=value` text),
 * level filtering decided once at creation so a disabled level costs a no-op call.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const format = options.format ?? 'json';
  const out = options.output === undefined || options.output === 'stdout' ? process.stdout
    : options.output === 'stderr' ? process.stderr : options.output;

  const build = (base: Fields): Logger => {
    const baseHasObject = hasObject(base);
    const write = (level: Emitting, msg: string, fields?: Fields): void => {
      const time = new Date().toISOString();
      if (format === 'json') {
        const line = { time, level, msg, ...base, ...fields };
        out.write(JSON.stringify(line, baseHasObject || hasObject(fields) ? replacer : undefined) + '\n');
      } else {
        const all = { ...base, ...fields };
        const kv = Object.keys(all).map((k) => `${k}=${textValue(all[k])}`).join(' ');
        out.write(`${time} ${level.toUpperCase()} ${msg}${kv ? ' ' + kv : ''}\n`);
      }
    };
    const noop = (): void => undefined;
    const method = (level: Emitting) => (LEVELS[level] >= threshold
      ? (msg: string, fields?: Fields) => write(level, msg, fields) : noop);
    return {
      trace: method('trace'),
      debug: method('debug'),
      info: method('info'),
      warn: method('warn'),
      error: method('error'),
      fatal: method('fatal'),
      child: (bindings) => build({ ...base, ...bindings }),
      isLevelEnabled: (level) => LEVELS[level] >= threshold,
    };
  };
  return build(options.base ?? {});
}
