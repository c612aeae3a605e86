/* Benchmark (not a test): `cdk8s synth` of the three environments against a
 * bare cdk8s app that emits the same objects, side by side.
 *
 * The bare app is plain JavaScript written into a temporary folder: it reads
 * this synth's own output once as JSON and re-emits every object as an
 * `ApiObject`, one chart per environment, so it is the least any cdk8s app
 * producing these manifests costs (cdk8s itself, its YAML output, node). The
 * run first checks it emits exactly the same objects.
 *
 * Both go through the same command line, `cdk8s synth --app ...` (what
 * `npx projen synth` runs), in a new random order each round; each round's
 * ratio of wall time, of CPU time (user + sys of the whole process tree) and
 * of peak memory (the largest process's maxrss, /usr/bin/time -v) is kept, and
 * the medians and quartiles of the ratios are printed. The same pair also
 * runs as the app's process alone (without the CLI, whose own start-up both
 * share). The host is shared, so wall time is the noisier figure.
 *
 *   npx projen bench:synth          (BENCH_ROUNDS=10)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.join(__dirname, '..');
const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 10);
const CDK8S_CLI = path.join(ROOT, 'node_modules', '.bin', 'cdk8s');
// The app command of cdk8s.yaml, the one `npx projen synth` runs.
const APP = /^app:\s*(.+)$/m.exec(fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8'))![1].trim();

function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`${name}: '${raw}' is not a positive integer\n`);
    process.exit(2);
  }
  return n;
}

interface Run {
  readonly wallS: number;
  readonly cpuS: number;
  readonly maxRssMb: number;
}

/**
 * One synth of `app` into a fresh folder, timed by GNU time: through
 * `cdk8s synth` (`viaCli`), or the app's process alone (the CLI runs it with
 * CDK8S_OUTDIR set, through a shell).
 */
function synth(app: string, outdir: string, viaCli: boolean): Run {
  fs.rmSync(outdir, { recursive: true, force: true });
  const report = path.join(os.tmpdir(), `bench-synth-${process.pid}.time`);
  const command = viaCli ? [CDK8S_CLI, 'synth', '--check-upgrade', 'false', '--app', app, '--output', outdir] : ['sh', '-c', app];
  execFileSync('/usr/bin/time', ['-v', '-o', report, ...command], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, CDK8S_OUTDIR: outdir } });
  const text = fs.readFileSync(report, 'utf8');
  const field = (label: string) => /: (.+)$/.exec(text.split('\n').find((l) => l.trim().startsWith(label))!)![1];
  const [h, m, s] = ['0', '0', ...field('Elapsed (wall clock) time').split(':')].slice(-3).map(Number);
  return {
    wallS: h * 3600 + m * 60 + s,
    cpuS: Number(field('User time (seconds)')) + Number(field('System time (seconds)')),
    maxRssMb: Number(field('Maximum resident set size (kbytes)')) / 1024,
  };
}

const MANIFEST = /\.k8s\.yaml$/;

/** What a synth wrote into `dir`: the objects of every manifest file, and the text of the other files (Helm values written beside them). */
function output(dir: string): { objects: Record<string, unknown[]>; files: Record<string, string> } {
  const objects: Record<string, unknown[]> = {};
  const files: Record<string, string> = {};
  for (const file of fs.readdirSync(dir).sort()) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    if (MANIFEST.test(file)) objects[file] = parseAllDocuments(text).map((d) => d.toJSON()).filter((d) => d !== null);
    else files[file] = text;
  }
  return { objects, files };
}

/** Writes the bare app (and its data) into `dir`; returns its command line. */
function writeBareApp(dir: string, reference: ReturnType<typeof output>): string {
  const charts = Object.fromEntries(Object.entries(reference.objects).map(([file, docs]) => [file.replace(MANIFEST, ''), docs]));
  fs.writeFileSync(path.join(dir, 'objects.json'), JSON.stringify({ charts, files: reference.files }));
  fs.writeFileSync(path.join(dir, 'main.js'), `
const fs = require('fs');
const path = require('path');
const { ApiObject, App, Chart, YamlOutputType } = require(${JSON.stringify(require.resolve('cdk8s', { paths: [ROOT] }))});
const { charts, files } = require('./objects.json');
const app = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART });
for (const [name, docs] of Object.entries(charts)) {
  const chart = new Chart(app, name);
  docs.forEach((doc, i) => new ApiObject(chart, 'o' + i, doc));
}
app.synth();
for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(app.outdir, file), text);
`);
  return `node ${path.join(dir, 'main.js')}`;
}

const median = (xs: readonly number[]) => quantile(xs, 0.5);
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
}

function main(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  try {
    const ourOut = path.join(work, 'ours');
    const bareOut = path.join(work, 'bare');
    synth(APP, ourOut, true);
    const reference = output(ourOut);
    const bareApp = writeBareApp(work, reference);
    synth(bareApp, bareOut, true);
    if (JSON.stringify(output(bareOut)) !== JSON.stringify(reference)) {
      throw new Error('the bare app does not emit the same objects and files as the platform app');
    }
    const count = Object.values(reference.objects).reduce((n, docs) => n + docs.length, 0);
    const variants = [
      { name: 'this app', app: APP, out: ourOut, viaCli: true },
      { name: 'bare cdk8s app', app: bareApp, out: bareOut, viaCli: true },
      { name: 'this app alone', app: APP, out: ourOut, viaCli: false },
      { name: 'bare app alone', app: bareApp, out: bareOut, viaCli: false },
    ];
    const runs = new Map<string, Run[]>(variants.map((v) => [v.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of [...variants].sort(() => Math.random() - 0.5)) {
        const run = synth(v.app, v.out, v.viaCli);
        runs.get(v.name)!.push(run);
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${v.name.padEnd(14)} ${run.wallS.toFixed(2)} s wall, ${run.cpuS.toFixed(2)} s CPU, ${run.maxRssMb.toFixed(0)} MB\n`);
      }
    }
    const cell = (xs: number[]) => `${median(xs).toFixed(2)} (${quantile(xs, 0.25).toFixed(2)} – ${quantile(xs, 0.75).toFixed(2)})`;
    const rows = (ours: Run[], bare: Run[], label: string) => {
      const ratio = (f: (r: Run) => number) => ours.map((o, i) => f(o) / f(bare[i]));
      return [
        `| this app${label} | ${cell(ours.map((r) => r.wallS))} | ${cell(ours.map((r) => r.cpuS))} | ${cell(ours.map((r) => r.maxRssMb))} |`,
        `| bare cdk8s app${label} | ${cell(bare.map((r) => r.wallS))} | ${cell(bare.map((r) => r.cpuS))} | ${cell(bare.map((r) => r.maxRssMb))} |`,
        `| **ratio**${label} (per round) | **${cell(ratio((r) => r.wallS))}** | **${cell(ratio((r) => r.cpuS))}** | ${cell(ratio((r) => r.maxRssMb))} |`,
      ];
    };
    const lines = [
      `${Object.keys(reference.objects).length} charts, ${count} objects, ${Object.keys(reference.files).length} values files; ${ROUNDS} rounds, random order per round; medians (quartiles); app: \`${APP}\`; ${new Date().toISOString()}, Node ${process.version}, load average at end ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
      '',
      '| | wall s | CPU s (user + sys) | peak memory MB |',
      '|---|---|---|---|',
      ...rows(runs.get('this app')!, runs.get('bare cdk8s app')!, ', `cdk8s synth`'),
      ...rows(runs.get('this app alone')!, runs.get('bare app alone')!, ', app process alone'),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
