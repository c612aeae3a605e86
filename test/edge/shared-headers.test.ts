import * as fs from 'fs';
import * as path from 'path';
import { EdgeConventions, SecurityHeaders } from '../../src/conventions';

/** One `export const Name = {...} as const;` block of a ConventionsFile-generated module. */
function generated(file: string, name: string): unknown {
  const text = fs.readFileSync(path.resolve(__dirname, '..', '..', file), 'utf8');
  const m = new RegExp(`export const ${name} = (\\{[\\s\\S]*?\\n\\}) as const;`).exec(text);
  if (!m) throw new Error(`${name} is missing from ${file}: add it to the ConventionsFile in .projenrc.ts and run npx projen`);
  return JSON.parse(m[1]);
}

describe('the Koa package and the edge set the same headers', () => {
  test('SecurityHeaders in the Koa package are the platform\'s (run `npx projen` after changing them)', () => {
    expect(generated('packages/koa/src/conventions.generated.ts', 'SecurityHeaders')).toEqual({ HEADERS: SecurityHeaders.HEADERS });
  });

  test('EdgeConventions in the Koa package are the platform\'s', () => {
    expect(generated('packages/koa/src/conventions.generated.ts', 'EdgeConventions')).toEqual({ ...EdgeConventions });
  });
});
