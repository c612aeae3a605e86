/** Every shell script the data tier ships is shellcheck-clean and strict. */
import * as fs from 'fs';
import * as path from 'path';
import { listFiles, run } from './support';

const root = path.join(__dirname, '..', '..', 'src', 'data');
const scripts = listFiles(root).filter(f => f.endsWith('.sh')).map(f => path.join(root, f));

test('the data tier ships its scripts', () => {
  expect(scripts.map(s => path.basename(s)).sort()).toEqual([
    'backup-application.sh', 'backup-database.sh', 'backup-lib.sh', 'init-primary.sh',
    'redis-cluster-bootstrap.sh', 'restore-database.sh', 'start-replica.sh',
  ]);
});

test.each(scripts.map(s => [path.relative(root, s), s]))('%s passes shellcheck', (_, script) => {
  // -x follows `source`; the repository root makes the source= directives resolve.
  const r = run('shellcheck', ['--external-sources', '--severity=style', path.relative(path.join(root, '..', '..'), script)], {}, path.join(root, '..', '..'));
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test.each(scripts.map(s => [path.relative(root, s), s]))('%s runs with set -euo pipefail (or is sourced by scripts that do)', (_, script) => {
  const text = fs.readFileSync(script, 'utf8');
  expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
  if (path.basename(script) !== 'backup-lib.sh') expect(text).toMatch(/^set -euo pipefail$/m);
});
