import { Component, Project, Task } from 'projen';

export interface HelmChartOptions {
  /** Chart directory, relative to the project root. */
  readonly chartDir: string;
  /** TypeScript entry point that writes the chart into the directory given as its argument. */
  readonly generator: string;
}

/**
 * The `helm:chart` task: regenerates the committed Helm chart from the
 * constructs after every compile, so a construct change that is not
 * reflected in the chart shows up as a diff in the build.
 */
export class HelmChart extends Component {
  public readonly task: Task;

  constructor(project: Project, options: HelmChartOptions) {
    super(project);
    this.task = project.addTask('helm:chart', {
      description: `Generate the Helm chart in ${options.chartDir} from the constructs`,
      exec: `ts-node --transpile-only ${options.generator} ${options.chartDir}`,
    });
    project.postCompileTask.spawn(this.task);
  }
}
