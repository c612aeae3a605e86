import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parse, parseAllDocuments } from 'yaml';
import { emitDocument, escapeBraces, Expr, If, Interpolated, Range } from '../../src/helm/template-yaml';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';
import { helmTemplate } from '../support/helm';

/** A throw-away chart with these values and templates. */
function withChart<T>(values: string, templates: { [file: string]: string }, use: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emit-'));
  try {
    fs.mkdirSync(path.join(dir, 'templates'));
    fs.writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 0.1.0\n');
    fs.writeFileSync(path.join(dir, 'values.yaml'), values);
    for (const [file, text] of Object.entries(templates)) fs.writeFileSync(path.join(dir, 'templates', file), text);
    return use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('emitDocument', () => {
  test('every synthesized production object renders back to itself through helm', () => {
    const chart = new RauliVisionChart(Testing.app(), 'p', {
      environment: 'production',
      images: { frontend: 'ghcr.io/x/frontend:1.0', backendGo: 'ghcr.io/x/backend:1.0', backendPython: 'ghcr.io/x/py:1.0' },
      edge: {},
      backup: { storage: { bucketName: 'rauli-vision-backups' } },
    });
    const docs = Testing.synth(chart);
    // Scripts, alert annotations and dashboards are full of `{{`, `}}`, quotes and newlines.
    expect(docs.some(d => JSON.stringify(d).includes('{{'))).toBe(true);
    const rendered = withChart('', Object.fromEntries(docs.map((d, i) => [`doc-${i}.yaml`, emitDocument(d)])), dir => parseAllDocuments(helmTemplate(dir, [])));
    // Helm orders objects by kind.
    const byId = (list: any[]) => [...list].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    expect(byId(rendered.map(d => d.toJSON()))).toEqual(byId(docs));
  });

  test('quotes what YAML would otherwise read as another type', () => {
    const doc = { a: 'yes', b: 'null', c: '1.0', d: '0x10', e: '', f: '- x', g: 'a: b', h: '#c', i: '*', j: 'on', k: '~' };
    expect(parse(emitDocument(doc))).toEqual(doc);
  });

  test('literal braces are escaped, expressions are not', () => {
    expect(escapeBraces('{{ $value }} and }}')).toBe('{{ "{{" }} $value {{ "}}" }} and {{ "}}" }}');
    const text = emitDocument({ description: '{{ $labels.service }} failed', num: new Expr('$.Values.n'), s: new Interpolated(['x-', new Expr('.Release.Name')]) });
    expect(text).toBe('description: "{{ "{{" }} $labels.service {{ "}}" }} failed"\nnum: {{ $.Values.n }}\ns: "x-{{ .Release.Name }}"\n');
  });

  test('conditional entries and ranged list items render as Helm renders them', () => {
    const cm = emitDocument({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
      data: { always: 'x', maybe: new If('$.Values.enabled', 'yes', 'no') },
      list: [new Range('$.Values.items', { name: new Expr('.name | quote'), fixed: 1 }), { name: 'last', fixed: 2 }],
    });
    withChart('enabled: true\nitems: [{name: a}, {name: b}]\n', { 'cm.yaml': cm }, dir => {
      const on = parse(helmTemplate(dir, []));
      expect(on.data).toEqual({ always: 'x', maybe: 'yes' });
      expect(on.list).toEqual([{ name: 'a', fixed: 1 }, { name: 'b', fixed: 1 }, { name: 'last', fixed: 2 }]);
      const off = parse(helmTemplate(dir, ['--set', 'enabled=false', '--set', 'items=null']));
      expect(off.data.maybe).toBe('no');
      expect(off.list).toEqual([{ name: 'last', fixed: 2 }]);
    });
  });

  test('a list item cannot start with a conditional entry (its dash would vanish with it)', () => {
    expect(() => emitDocument({ list: [{ a: new If('x', 1), b: 2 }] })).toThrow(/first entry of a list item/);
  });
});
