/**
 * Stand-in for Filebeat's processor pipeline: no Filebeat can run here (it
 * is not packaged for Debian and nothing may be downloaded), so the tests
 * run the collector's configuration through this interpreter of the few
 * processors and conditions it uses, written from Filebeat's reference
 * documentation: decode_json_fields, rename, add_fields; equals, regexp,
 * has_fields, and, or, not. Anything else in the configuration makes it
 * throw, so the stand-in cannot silently skip a processor it does not know.
 */
type Json = any;

const get = (event: Json, path: string): Json => path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), event);
const has = (event: Json, path: string) => get(event, path) !== undefined;
function put(event: Json, path: string, value: Json): void {
  const keys = path.split('.');
  let o = event;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {});
  o[keys[keys.length - 1]] = value;
}
function remove(event: Json, path: string): void {
  const keys = path.split('.');
  const parent = keys.length === 1 ? event : get(event, keys.slice(0, -1).join('.'));
  if (parent && typeof parent === 'object') delete parent[keys[keys.length - 1]];
}

function condition(event: Json, c: Json): boolean {
  if (c === undefined) return true;
  const [[op, arg]] = Object.entries(c) as Array<[string, Json]>;
  switch (op) {
    case 'equals': return Object.entries(arg).every(([f, v]) => get(event, f) === v);
    case 'regexp': return Object.entries(arg).every(([f, re]) => typeof get(event, f) === 'string' && new RegExp(re as string).test(get(event, f)));
    case 'has_fields': return (arg as string[]).every(f => has(event, f));
    case 'and': return (arg as Json[]).every(x => condition(event, x));
    case 'or': return (arg as Json[]).some(x => condition(event, x));
    case 'not': return !condition(event, arg);
    default: throw new Error(`stand-in: condition ${op} not implemented`);
  }
}

const PROCESSORS: { [name: string]: (event: Json, o: Json) => void } = {
  decode_json_fields(event, o) {
    for (const f of o.fields) {
      const raw = get(event, f);
      if (typeof raw !== 'string') continue;
      let parsed: Json;
      try {
        parsed = JSON.parse(raw);
      } catch {
        // add_error_key false: the field stays as it was.
        if (o.add_error_key) put(event, 'error.message', 'parse error');
        continue;
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) continue;
      // max_depth 1: string values that hold JSON themselves stay strings; nested objects are objects anyway.
      if ((o.max_depth ?? 1) !== 1) throw new Error('stand-in: only max_depth 1 is implemented');
      const value = parsed;
      const target = o.target ?? f;
      if (target === '') Object.assign(event, value); else put(event, target, value);
    }
  },
  rename(event, o) {
    for (const { from, to } of o.fields) {
      if (!has(event, from)) {
        if (!o.ignore_missing) throw new Error(`rename: ${from} missing`);
        continue;
      }
      // Filebeat refuses to overwrite an existing field; with fail_on_error false it moves on.
      if (has(event, to)) {
        if (o.fail_on_error ?? true) throw new Error(`rename: ${to} exists`);
        continue;
      }
      const v = get(event, from);
      remove(event, from);
      put(event, to, v);
    }
  },
  add_fields(event, o) {
    for (const [k, v] of Object.entries(o.fields)) put(event, o.target === '' ? k : `${o.target ?? 'fields'}.${k}`, v);
  },
};

/** Runs the global `processors` of a Filebeat configuration over one event (a deep copy). */
export function runProcessors(config: Json, input: Json): Json {
  const event = JSON.parse(JSON.stringify(input));
  for (const p of config.processors) {
    const [[name, options]] = Object.entries(p) as Array<[string, Json]>;
    const impl = PROCESSORS[name];
    if (!impl) throw new Error(`stand-in: processor ${name} not implemented`);
    if (condition(event, options.when)) impl(event, options);
  }
  return event;
}
