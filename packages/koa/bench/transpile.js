/* Loads the benchmark server's .ts files with TypeScript's transpileModule.
 * Not ts-node: its register hook loads node:domain (through its REPL), which
 * then wraps every EventEmitter and nextTick of the measured server. */
const { readFileSync } = require('node:fs');
const ts = require('typescript');

const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
require.extensions['.ts'] = (module, filename) => {
  module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions }).outputText, filename);
};
