import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { AlertRules, AlertRulesProps } from '../../src/observability';

/** Namespace the promtool unit tests' series live in. */
export const TEST_NAMESPACE = 'rauli-vision';
/** The log pipeline the unit tests' series describe (as the logging stack names it; test/logging checks that). */
export const LOG_PIPELINE = {
  namespace: 'logging',
  elasticsearchStatefulSets: 'logs-es-.*',
  elasticsearchVolumeClaims: 'elasticsearch-data-logs-es-.*',
  kibanaDeployment: 'logs-kb',
  collectorDaemonSet: 'logs-beat-filebeat',
  setupJob: 'logs-lifecycle',
};
/** Directory of the promtool unit-test files kept in the repo. */
export const RULE_TESTS_DIR = path.join(__dirname, 'rules');
/** File name the unit-test files list under `rule_files`. */
export const RULES_FILE = 'rules.yml';

/** Synthesizes an AlertRules construct and returns its PrometheusRule manifest; `null`: a chart without namespace. */
export function synthPrometheusRule(props: AlertRulesProps = {}, namespace: string | null = TEST_NAMESPACE): any {
  const chart = new Chart(Testing.app(), 'test', { namespace: namespace ?? undefined });
  new AlertRules(chart, 'rules', props);
  const docs = Testing.synth(chart);
  return docs.find(d => d.kind === 'PrometheusRule');
}

/** Runs promtool, returning its output; throws with the output on failure. */
export function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (e: any) {
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * Writes the PrometheusRule's spec as a Prometheus rules file into a fresh
 * temp dir, next to copies of the repo's unit-test files.
 */
export function prepareRulesDir(rule: any): { dir: string; testFiles: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rauli-rules-'));
  fs.writeFileSync(path.join(dir, RULES_FILE), YAML.stringify(rule.spec));
  const testFiles = fs.readdirSync(RULE_TESTS_DIR).filter(f => f.endsWith('.test.yml')).sort();
  for (const f of testFiles) fs.copyFileSync(path.join(RULE_TESTS_DIR, f), path.join(dir, f));
  return { dir, testFiles };
}
