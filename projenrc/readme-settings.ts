import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { RuntimeSettings } from '../src/conventions/runtime-settings';

/**
 * Writes the table of runtime settings into both READMEs between their
 * markers (`npx projen readme:settings`); the packages' tests fail when a
 * README and the table disagree.
 */
export const START = '<!-- runtime-settings:start -->';
export const END = '<!-- runtime-settings:end -->';

export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README lacks the markers ${START} ... ${END}`);
  return `${readme.slice(0, start + START.length)}\n${RuntimeSettings.markdownTable()}\n${readme.slice(end)}`;
}

if (require.main === module) {
  for (const file of ['README.md', 'packages/koa/README.md']) {
    const path = join(__dirname, '..', file);
    writeFileSync(path, withSettingsTable(readFileSync(path, 'utf8')));
  }
}
