import { Tags } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Components } from '../conventions.generated';
import { validateTagValue } from '../core/aws-validate';

/** Values of the cost-allocation tags. */
export interface CostAllocationTagsProps {
  /** Environment the resources belong to, e.g. `production`. */
  readonly environment: string;

  /**
   * Project the resources belong to.
   *
   * @default Components.PART_OF ('rauli-vision')
   */
  readonly project?: string;

  /**
   * Cost center the spend is charged to.
   *
   * @default - no cost-center tag
   */
  readonly costCenter?: string;
}

/**
 * Cost-allocation tags (`project`, `environment`, `cost-center`) on every
 * taggable resource under a scope, so Cost Explorer and the budget reports can
 * split the bill. Activate the keys once per payer account (Billing console,
 * Cost allocation tags) for them to show up in cost reports.
 */
export class CostAllocationTags {
  /** Tag key naming the project. */
  public static readonly PROJECT_KEY = 'project';
  /** Tag key naming the environment. */
  public static readonly ENVIRONMENT_KEY = 'environment';
  /** Tag key naming the cost center. */
  public static readonly COST_CENTER_KEY = 'cost-center';

  /** Tags every taggable resource in `scope` (and below it, including resources added later). */
  public static apply(scope: IConstruct, props: CostAllocationTagsProps): void {
    const tags: Array<[string, string | undefined]> = [
      [CostAllocationTags.PROJECT_KEY, props.project ?? Components.PART_OF],
      [CostAllocationTags.ENVIRONMENT_KEY, props.environment],
      [CostAllocationTags.COST_CENTER_KEY, props.costCenter],
    ];
    for (const [key, value] of tags) {
      if (value === undefined) continue;
      Tags.of(scope).add(key, validateTagValue(key === CostAllocationTags.COST_CENTER_KEY ? 'costCenter' : key, value));
    }
  }

  private constructor() {}
}
