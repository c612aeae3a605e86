/**
 * docs/edge.md maps every statement of the guide's nginx.conf onto a field of
 * the synthesized edge. This test reads those tables and checks every row in
 * every environment, so the document and the manifests cannot drift: a field
 * that disappears or changes value fails its row.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { EdgeEnvironments } from '../../src/edge';
import { Environments } from '../../src/platform/environments';
import { RauliVisionChart } from '../../src/platform/rauli-vision-chart';
import { validateManifests } from '../../src/validation';
import { allCrdFiles } from '../support/crds';

type Json = any;
const ROOT = path.resolve(__dirname, '..', '..');
const CDN = ['173.245.48.0/20'];

interface Row { n: number; directive: string; object: string; field: string; value: string; test: string; notes: string }

/** Cells of one markdown table row (`\|` is a literal bar). */
const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map(c => c.trim().replace(/\\\|/g, '|'));
const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

function mappingRows(): Row[] {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'edge.md'), 'utf8');
  const rows: Row[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (/^\| # \| nginx.conf directive \|/.test(line)) { inTable = true; continue; }
    if (inTable && /^\|---/.test(line)) continue;
    if (inTable && line.startsWith('|')) {
      const [n, directive, object, field, value, test, notes] = cells(line);
      rows.push({ n: Number(n), directive: unquote(directive), object, field: unquote(field), value: unquote(value), test, notes });
    } else {
      inTable = false;
    }
  }
  return rows;
}

/** Statements of the guide's nginx.conf, without `;` or the opening brace. */
function guideStatements(): string[] {
  const candidates = [process.env.RAULI_VISION_GUIDE, path.resolve(ROOT, '../shared/seed/rauli-vision-deployment-guide.md'), '/work/shared/seed/rauli-vision-deployment-guide.md']
    .filter((f): f is string => !!f);
  const file = candidates.find(f => fs.existsSync(f));
  if (!file) throw new Error(`the deployment guide is not in ${candidates.join(', ')} (set RAULI_VISION_GUIDE)`);
  const block = /```nginx\n([\s\S]*?)```/.exec(fs.readFileSync(file, 'utf8'));
  if (!block) throw new Error(`${file} has no nginx block`);
  return block[1].split('\n').map(l => l.replace(/#.*$/, '').trim()).filter(l => l && l !== '}')
    .map(l => l.replace(/\s*[;{]$/, '').replace(/\s+/g, ' '));
}

/** Follows `a.b[0][key=value]["x.y"]` through a document; undefined when a step is missing. */
function at(doc: Json, field: string): Json {
  const steps = [...field.matchAll(/\.?([A-Za-z0-9_]+)|\[("[^"]+"|[^\]]+)\]/g)].map(m => m[1] ?? m[2]);
  let node = doc;
  for (const step of steps) {
    if (node === undefined || node === null) return undefined;
    const select = /^([^=]+)=(.*)$/.exec(step);
    if (select && Array.isArray(node)) {
      node = node.find(el => String(at(el, select[1])) === select[2]);
    } else if (/^\d+$/.test(step)) {
      node = node[Number(step)];
    } else {
      node = node[step.replace(/^"|"$/g, '')];
    }
  }
  return node;
}

const rows = mappingRows();

test('docs/edge.md has a mapping row for every statement of the guide\'s nginx.conf', () => {
  const documented = new Set(rows.map(r => r.directive.replace(/\s+/g, ' ')));
  const missing = guideStatements().filter(s => !documented.has(s));
  expect(missing).toEqual([]);
  expect(rows.map(r => r.n)).toEqual(rows.map((_, i) => i + 1));
});

test('a row without a field gives its reason, every other row names its test', () => {
  for (const r of rows) {
    if (r.object === '—') expect({ row: r.n, reason: r.notes.length > 10, test: r.test }).toEqual({ row: r.n, reason: true, test: 'none' });
    else expect({ row: r.n, test: r.test }).toEqual({ row: r.n, test: `mapping.test.ts row ${r.n}` });
  }
});

describe.each(Environments.NAMES)('%s', environment => {
  const routing = EdgeEnvironments.routing(environment);
  const docs: Json[] = Testing.synth(new RauliVisionChart(Testing.app(), environment, {
    environment,
    images: { frontend: 'ghcr.io/rauli-vision/frontend:1.0.0', backendGo: 'ghcr.io/rauli-vision/backend:1.0.0', backendPython: 'ghcr.io/rauli-vision/cliente-local:1.0.0' },
    edge: { ...routing, cdn: { cidrs: CDN } },
  }));

  test('the edge passes the harness against the Envoy Gateway and Gateway API CRDs', () => {
    expect(validateManifests(docs, { crdFiles: allCrdFiles(), podSecurity: false }).errors).toEqual([]);
  });

  test.each(rows.filter(r => r.object !== '—').map(r => [r.n, r.directive, r]))('row %i: %s', (_n, _d, r) => {
    const row = r as Row;
    const [kind, name] = row.object.split('/');
    const doc = docs.find(d => d.kind === kind && d.metadata.name === name);
    if (!doc) throw new Error(`row ${row.n}: ${row.object} not synthesized in ${environment}`);
    const actual = at(doc, row.field);
    if (row.value === '(absent)') {
      expect({ row: row.n, field: row.field, value: actual }).toEqual({ row: row.n, field: row.field, value: undefined });
    } else {
      const expected = JSON.parse(row.value.replace('{host}', routing.hosts![0]));
      expect({ row: row.n, field: row.field, value: actual }).toEqual({ row: row.n, field: row.field, value: expected });
    }
  });
});
