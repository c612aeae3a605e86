/**
 * Helpers for the data-tier tests: running the shipped shell scripts exactly as
 * the pods get them (from the synthesized ConfigMaps), and the shared local
 * PostgreSQL (127.0.0.1:5432, trust auth) with per-test databases.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';

export interface RunResult { status: number | null; stdout: string; stderr: string }

export function run(command: string, args: string[], env: { [k: string]: string | undefined } = {}, cwd?: string): RunResult {
  const r = spawnSync(command, args, { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', cwd, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tempDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rv-data-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir created (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
}

/** Writes every file of the ConfigMaps in `docs` whose name ends in `.sh` into a new directory. */
export function scriptsFromConfigMaps(docs: any[], configMapName: string): string {
  const cm = docs.find(d => d.kind === 'ConfigMap' && d.metadata.name === configMapName);
  if (!cm) throw new Error(`no ConfigMap ${configMapName}`);
  const dir = tempDir('scripts');
  for (const [file, content] of Object.entries(cm.data as { [k: string]: string })) {
    if (file.endsWith('.sh')) fs.writeFileSync(path.join(dir, file), content, { mode: 0o555 });
  }
  return dir;
}

export function synth(build: (chart: Chart) => void): any[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'rauli-vision-test' });
  build(chart);
  return Testing.synth(chart);
}

export const PG = { PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres' };

export function psql(database: string, sql: string): string {
  const r = run('psql', ['--no-psqlrc', '-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', sql], PG);
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function dropDatabase(name: string): void {
  psql('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The container of a pod template (init containers included) by name. */
export function container(podSpec: any, name: string): any {
  const c = [...podSpec.initContainers ?? [], ...podSpec.containers].find((x: any) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** Plain value of an env var of a container (not secret references). */
export function envValue(c: any, name: string): string | undefined {
  return c.env?.find((e: any) => e.name === name)?.value;
}
