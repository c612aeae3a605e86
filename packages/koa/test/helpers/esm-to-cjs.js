/* Jest transformer for ESM-only dependencies (jose 6): TypeScript's transpiler
 * rewrites import/export to CommonJS and leaves modern syntax alone (ES2022
 * target keeps class fields native; ts-jest's downlevelling breaks jose's
 * error classes). Node itself loads these packages with require(esm). */
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const out = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { allowJs: true, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, useDefineForClassFields: true, sourceMap: false },
    });
    return { code: out.outputText };
  },
  getCacheKey(source, filename) {
    return require('crypto').createHash('sha256').update(`esm-to-cjs:1:${ts.version}:${filename}:${source}`).digest('hex');
  },
};
