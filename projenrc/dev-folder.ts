import { posix } from 'path';
import { JsonFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';

/**
 * A folder of TypeScript that runs in development only (benchmarks, an app,
 * an example service) and sits outside test/: the dev tsconfig type-checks
 * it, ESLint lints it like the tests (devDependencies allowed) and the
 * package leaves it out. ESLint's project service takes a file's nearest
 * tsconfig.json, and the package's own covers src/ only, so the folder gets
 * one that extends the dev tsconfig.
 */
export class DevFolder {
  constructor(project: TypeScriptProject, folder: string) {
    const devTsconfig = project.tsconfigDev.fileName;
    project.tsconfigDev.addInclude(`${posix.relative(posix.dirname(devTsconfig), folder)}/**/*.ts`);
    new JsonFile(project, `${folder}/tsconfig.json`, {
      obj: { extends: posix.relative(folder, devTsconfig), include: ['**/*.ts'] },
    });
    project.eslint?.addLintPattern(folder);
    project.eslint?.allowDevDeps(`${folder}/**`);
    project.addPackageIgnore(`/${folder}/`);
  }
}
