/**
 * A small YAML emitter for Helm templates: plain JSON-like data plus nodes
 * that become template actions. Emitting the YAML ourselves (instead of
 * patching text after a YAML library wrote it) keeps every `{{ }}` at the
 * right indentation and every literal correctly quoted.
 */

/** A scalar rendered by a template expression, e.g. `{{ $.Values.replicaCount }}`. */
export class Expr {
  constructor(public readonly expr: string) {}
}

/** A string scalar with template expressions inside, rendered as a double-quoted string. */
export class Interpolated {
  constructor(public readonly parts: Array<string | Expr>) {}
}

/** A map entry or list item kept only when `cond` is true. */
export class If {
  constructor(public readonly cond: string, public readonly node: Node, public readonly otherwise?: Node) {}
}

/** A list item repeated for each element of `over` (inside, `.` is the element). */
export class Range {
  constructor(public readonly over: string, public readonly item: Node) {}
}

/** Map entries produced by `toYaml` of an expression (merged after the literal entries). */
export class ToYaml {
  constructor(public readonly expr: string) {}
}

export type Node = null | boolean | number | string | Expr | Interpolated | If | Range | ToYaml | Node[] | { [key: string]: Node };

/** Map key whose value (a ToYaml) is merged into its parent map. */
export const MERGE_KEY = '__helm_merge__';

/** Map entries whose key is templated: `{ [TEMPLATED_KEYS]: [[Interpolated key, value], ...] }`. */
export const TEMPLATED_KEYS = '__helm_templated_keys__';

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;

/**
 * Literal text must not start template actions: Prometheus annotations
 * (`{{ $value }}`) and Grafana legends (`{{method}}`) are kept verbatim.
 */
export function escapeBraces(text: string): string {
  return text.replace(/\{\{|\}\}/g, m => m === '{{' ? '{{ "{{" }}' : '{{ "}}" }}');
}
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;

function scalar(value: null | boolean | number | string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return PLAIN.test(value) && !RESERVED.test(value) ? value : escapeBraces(JSON.stringify(value));
}

/** A map key: a literal, or an Interpolated one such as `"<uid>.json"`. */
function keyOf(key: string | Interpolated): string {
  return typeof key === 'string' ? scalar(key) : inline(key)!;
}

function inline(node: Node): string | undefined {
  if (node instanceof Expr) return `{{ ${node.expr} }}`;
  if (node instanceof Interpolated) {
    // JSON string escaping yields a valid YAML double-quoted scalar.
    return `"${node.parts.map(p => p instanceof Expr ? `{{ ${p.expr} }}` : escapeBraces(JSON.stringify(p).slice(1, -1))).join('')}"`;
  }
  if (node === null || typeof node !== 'object') return scalar(node);
  if (Array.isArray(node) && node.length === 0) return '[]';
  if (!Array.isArray(node) && !(node instanceof If) && !(node instanceof Range) && !(node instanceof ToYaml) && Object.keys(node).length === 0) return '{}';
  return undefined;
}

const pad = (n: number) => ' '.repeat(n);

/** Lines of a map at `indent`. */
function emitMap(map: { [key: string]: Node }, indent: number): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    if (key === TEMPLATED_KEYS) {
      for (const [k, v] of value as unknown as Array<[Interpolated, Node]>) lines.push(...emitEntry(k, v, indent));
      continue;
    }
    if (key === MERGE_KEY) {
      if (!(value instanceof ToYaml)) throw new Error(`${MERGE_KEY} takes a ToYaml node`);
      lines.push(`${pad(indent)}{{- with ${value.expr} }}`, `${pad(indent)}{{- toYaml . | nindent ${indent} }}`, `${pad(indent)}{{- end }}`);
      continue;
    }
    if (value instanceof If) {
      lines.push(`${pad(indent)}{{- if ${value.cond} }}`, ...emitEntry(key, value.node, indent));
      if (value.otherwise !== undefined) lines.push(`${pad(indent)}{{- else }}`, ...emitEntry(key, value.otherwise, indent));
      lines.push(`${pad(indent)}{{- end }}`);
      continue;
    }
    lines.push(...emitEntry(key, value, indent));
  }
  return lines;
}

function emitEntry(key: string | Interpolated, value: Node, indent: number): string[] {
  const k = keyOf(key);
  if (value instanceof ToYaml) {
    return [`${pad(indent)}${k}:`, `${pad(indent + 2)}{{- toYaml ${value.expr} | nindent ${indent + 2} }}`];
  }
  const one = inline(value);
  if (one !== undefined) return [`${pad(indent)}${k}: ${one}`];
  if (Array.isArray(value)) return [`${pad(indent)}${k}:`, ...emitList(value, indent + 2)];
  return [`${pad(indent)}${k}:`, ...emitMap(value as { [key: string]: Node }, indent + 2)];
}

/** Lines of a list whose dashes sit at `indent`. */
function emitList(list: Node[], indent: number): string[] {
  const lines: string[] = [];
  for (const item of list) {
    if (item instanceof If) {
      lines.push(`${pad(indent)}{{- if ${item.cond} }}`, ...emitList([item.node], indent), `${pad(indent)}{{- end }}`);
    } else if (item instanceof Range) {
      lines.push(`${pad(indent)}{{- range ${item.over} }}`, ...emitList([item.item], indent), `${pad(indent)}{{- end }}`);
    } else if (item instanceof ToYaml) {
      lines.push(`${pad(indent)}{{- with ${item.expr} }}`, `${pad(indent)}{{- toYaml . | nindent ${indent} }}`, `${pad(indent)}{{- end }}`);
    } else {
      const one = inline(item);
      if (one !== undefined) {
        lines.push(`${pad(indent)}- ${one}`);
      } else {
        const body = Array.isArray(item) ? emitList(item, indent + 2) : emitMap(item as { [key: string]: Node }, indent + 2);
        // The dash goes on the item's first line, which must always render.
        if (body.length === 0 || body[0].trimStart().startsWith('{{')) throw new Error('the first entry of a list item must not be conditional');
        body[0] = `${pad(indent)}- ${body[0].slice(indent + 2)}`;
        lines.push(...body);
      }
    }
  }
  return lines;
}

/** One YAML document (a map) as template text. */
export function emitDocument(doc: { [key: string]: Node }): string {
  return emitMap(doc, 0).join('\n') + '\n';
}
