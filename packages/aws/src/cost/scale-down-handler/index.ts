/**
 * Entry point of the budget's scale-down Lambda function (CostGuardrails'
 * `scaleDown`): an SNS delivery of the critical budget notification scales
 * the environment's node groups to zero; `{"action": "restore"}` undoes it.
 */
// Provided by the Lambda Node.js runtime (a devDependency here, for the types).
// eslint-disable-next-line import/no-extraneous-dependencies
import { EKSClient } from '@aws-sdk/client-eks';
import { EksNodegroupApi } from './eks-nodegroups';
import { configFromEnvironment, run, RunResult } from './scale-down';

const api = new EksNodegroupApi(new EKSClient({}));

export async function handler(event: unknown): Promise<RunResult> {
  const result = await run(api, configFromEnvironment(process.env), event);
  console.log(JSON.stringify(result));
  return result;
}
