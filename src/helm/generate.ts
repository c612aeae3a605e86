/**
 * `npx projen helm:chart`: writes charts/rauli-vision from the constructs.
 * Usage: ts-node src/helm/generate.ts [outdir]
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateChart } from './chart-generator';

const root = path.resolve(__dirname, '..', '..');
const outdir = path.resolve(root, process.argv[2] ?? 'charts/rauli-vision');
const version: string = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const files = generateChart({ outdir, version });
console.log(`helm chart: ${files.length} files written to ${path.relative(root, outdir)}`);
