/* Loads app/main.ts and the src/ files it imports for `cdk8s synth`, with no
 * type-checking: the build does that (`npx projen typecheck`, in `test`).
 * sucrase strips the types (no TypeScript compiler to load: ts-node spent
 * 3.5 s of a 6 s synth compiling), and the JavaScript it makes is kept in
 * node_modules/.cache by a hash of the source, so a synth after the first
 * loads neither sucrase nor re-transpiles unchanged files. No source maps:
 * sucrase keeps every line where it was, so stack traces still point at the
 * right .ts line. */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const OPTIONS = { transforms: ['typescript', 'imports'], disableESTransforms: true };
const CACHE = path.join(__dirname, '..', 'node_modules', '.cache', 'rauli-synth');
let sucrase;

function transpile(source, filename) {
  const key = crypto.createHash('sha1').update(`${require('sucrase/package.json').version}\0${JSON.stringify(OPTIONS)}\0${filename}\0`).update(source).digest('hex');
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    sucrase ??= require('sucrase');
    const code = sucrase.transform(source, { ...OPTIONS, filePath: filename }).code;
    try {
      fs.mkdirSync(CACHE, { recursive: true });
      fs.writeFileSync(`${cached}.${process.pid}`, code);
      fs.renameSync(`${cached}.${process.pid}`, cached); // atomic: parallel synths never read half a file
    } catch {
      // A read-only tree only loses the cache.
    }
    return code;
  }
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
