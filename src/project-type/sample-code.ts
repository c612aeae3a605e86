import * as path from 'path';
import { Component, SampleFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';
import { SAMPLES_DIR } from './k8s-app';

/** The sample programs copied into `src/` and `test/`, by name. */
const SOURCES = ['index.ts', 'app.ts', 'routes.ts'];
const TESTS: { [target: string]: string } = { 'routes.test.ts': 'routes-test.ts' };

/**
 * The service's starting point, written once (the team owns it afterwards): a
 * Koa service built by `@rauli-vision/koa`'s `createService()`, a sample
 * route, and a test that serves real HTTP requests through every middleware.
 * The programs are real files (src/project-type/samples), type-checked and
 * linted with the platform.
 */
export class ServiceSampleCode extends Component {
  constructor(project: TypeScriptProject) {
    super(project);
    for (const file of SOURCES) {
      new SampleFile(project, `${project.srcdir}/${file}`, { sourcePath: path.join(SAMPLES_DIR, 'src', file) });
    }
    for (const [target, source] of Object.entries(TESTS)) {
      new SampleFile(project, `${project.testdir}/${target}`, { sourcePath: path.join(SAMPLES_DIR, 'test', source) });
    }
  }
}
