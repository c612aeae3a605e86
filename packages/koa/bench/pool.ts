/* Pools several `npx projen bench` runs written with BENCH_RATIOS_FILE:
 * for each ratio (the control included), every run's median, the median of the runs, and the median
 * and quartiles of all their rounds together.
 *
 *   node -r ./bench/transpile.js bench/pool.ts run1.json run2.json ...
 */
import { readFileSync } from 'node:fs';
import { median, quantile } from './server';

type Run = { [variant: string]: { vsBare: number[]; vsDeferred?: number[] } };

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')) as Run);
const rows: [string, (r: Run) => number[] | undefined][] = [
  ['this stack behind the edge / deferred bare Koa', (r) => r['this stack behind the edge']?.vsDeferred],
  ['this stack / deferred bare Koa', (r) => r['this stack']?.vsDeferred],
  ['this stack behind the edge / bare Koa', (r) => r['this stack behind the edge']?.vsBare],
  ['this stack / bare Koa', (r) => r['this stack']?.vsBare],
  ['Redis down behind the edge / bare Koa', (r) => r['Redis down behind the edge']?.vsBare],
  ['Redis down / bare Koa', (r) => r['Redis down']?.vsBare],
  ['cache hit / bare Koa', (r) => r['cache hit']?.vsBare],
  ['deferred bare Koa / bare Koa', (r) => r['deferred bare Koa']?.vsBare],
  ['peer stack / bare Koa', (r) => r['peer stack']?.vsBare],
  ['node:http / bare Koa', (r) => r['node:http']?.vsBare],
  ['control: bare Koa, second process / bare Koa', (r) => r['bare Koa, second process']?.vsBare],
];
const lines = [
  `| CPU per request | each run's median (${runs.length} runs) | median of the runs | all rounds pooled: median (quartiles) |`,
  '|---|---|---|---|',
];
for (const [name, of] of rows) {
  const perRun = runs.map(of).filter((xs): xs is number[] => xs !== undefined && xs.length > 0);
  if (perRun.length === 0) continue;
  const medians = perRun.map(median).sort((a, b) => a - b);
  const all = perRun.flat();
  lines.push(`| ${name} | ${medians.map((m) => m.toFixed(2)).join(', ')} | ${median(medians).toFixed(2)} | ${median(all).toFixed(2)} (${quantile(all, 0.25).toFixed(2)} – ${quantile(all, 0.75).toFixed(2)}) |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
