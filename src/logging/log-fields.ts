/**
 * How a line of the services' JSON logs (`@rauli-vision/koa`'s logger and
 * request logger) becomes fields in Elasticsearch: the key in the line, and
 * the field it is renamed to (ECS where ECS has one). The collector's
 * processors are generated from this table, and a test feeds it the lines the
 * Koa logger really writes.
 */
export interface LogFieldMapping {
  /** Key in the JSON line (dotted for nested keys such as `err.message`). */
  readonly key: string;
  /** Field in the indexed document. */
  readonly field: string;
}

/** Where the decoded JSON object lands before its keys are renamed. */
export const DECODED_TARGET = 'rauli';

export const LOG_FIELDS: readonly LogFieldMapping[] = [
  { key: 'time', field: 'event.created' },
  { key: 'level', field: 'log.level' },
  // The Koa logger writes `msg`; other loggers (and the guide's) write `message`.
  { key: 'msg', field: 'message' },
  { key: 'message', field: 'message' },
  { key: 'service', field: 'service.name' },
  { key: 'environment', field: 'service.environment' },
  { key: 'requestId', field: 'http.request.id' },
  { key: 'method', field: 'http.request.method' },
  { key: 'path', field: 'url.path' },
  // The matched route template (OpenTelemetry's name; ECS has none).
  { key: 'route', field: 'http.route' },
  { key: 'status', field: 'http.response.status_code' },
  // Milliseconds: ECS's event.duration is in nanoseconds, so the unit stays in the name.
  { key: 'durationMs', field: 'http.response.duration_ms' },
  { key: 'err.type', field: 'error.type' },
  { key: 'err.message', field: 'error.message' },
  { key: 'err.stack', field: 'error.stack_trace' },
];
