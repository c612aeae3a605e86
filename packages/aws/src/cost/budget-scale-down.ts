import { createHash } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { CostAllocationTags } from './cost-allocation-tags';
import { CostConventions } from '../conventions.generated';
import { ENV, STATE_TAG_KEY } from './scale-down-handler/scale-down';
import { unlessToken } from '../core/aws-validate';
import { acknowledgeWildcardResources } from '../core/nag';
import { PropValidationError } from '../core/validate.generated';

/** What the budget's critical notification scales down. */
export interface BudgetScaleDownOptions {
  /**
   * Name of the EKS cluster whose managed node groups are scaled down. Only
   * node groups tagged with the budget's `environment` cost-allocation tag
   * are touched (the same tag the budget's cost filter counts).
   */
  readonly clusterName: string;

  /**
   * How long the function's log (what it scaled down, from which sizes) is kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Properties of a BudgetScaleDown. */
export interface BudgetScaleDownProps extends BudgetScaleDownOptions {
  /** The topic the critical budget notification is published on: each message scales down. */
  readonly topic: sns.ITopic;

  /**
   * The environment whose node groups are scaled down (value of their
   * `environment` tag). Never one of `CostConventions.SCALE_DOWN_PROTECTED_ENVIRONMENTS`.
   */
  readonly environment: string;
}

/**
 * The guide's `scale_down_resources`, reversible: a Lambda function, triggered
 * by the critical budget notification, that sets the environment's EKS
 * managed node groups to minSize 0, desiredSize 0 and maxSize 1 (pods go
 * Pending, the EC2 instances are terminated; an autoscaler could start one
 * node per group at most), saving each group's previous sizes in a tag
 * on the group. Invoking it with `{"action": "restore"}` puts the sizes back.
 * It may only change node groups carrying the environment's tag, and only
 * write its own state tag.
 */
export class BudgetScaleDown extends Construct {
  /** Name of the EKS cluster's node group tag holding the sizes to restore. */
  public static readonly STATE_TAG_KEY = STATE_TAG_KEY;
  /** Event that undoes the scale-down (`aws lambda invoke --payload`). */
  public static readonly RESTORE_EVENT = '{"action":"restore"}';

  /** The function. */
  public readonly function: lambda.IFunction;
  /** Name of the function (what `aws lambda invoke` takes to restore). */
  public readonly functionName: string;

  constructor(scope: Construct, id: string, props: BudgetScaleDownProps) {
    super(scope, id);
    unlessToken(props.clusterName, v => {
      if (!/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(v)) {
        throw new PropValidationError('scaleDown.clusterName', v, 'an EKS cluster name: 1 to 100 letters, digits, - and _, starting with a letter or digit');
      }
    });
    unlessToken(props.environment, v => {
      if ((CostConventions.SCALE_DOWN_PROTECTED_ENVIRONMENTS as readonly string[]).includes(v)) {
        throw new PropValidationError('scaleDown', `environment ${v}`,
          `no scale-down in ${CostConventions.SCALE_DOWN_PROTECTED_ENVIRONMENTS.join(', ')}: scaling it to zero is an outage, which costs more than the overrun (leave scaleDown unset there)`);
      }
    });

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR });
    const role = this.createRole(props, logGroup);
    const fn = new lambda.Function(this, 'Resource', {
      description: `RAULI-VISION budget action: scales the ${props.environment} node groups of ${props.clusterName} to zero ({"action":"restore"} undoes it)`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: handlerCode(),
      role,
      logGroup,
      timeout: Duration.minutes(2),
      memorySize: 256,
      // A failed run is retried by Lambda (twice); the saved-size tag makes retries safe.
      retryAttempts: 2,
      environment: {
        [ENV.clusterName]: props.clusterName,
        [ENV.selectorTagKey]: CostAllocationTags.ENVIRONMENT_KEY,
        [ENV.selectorTagValue]: props.environment,
      },
    });
    props.topic.addSubscription(new subscriptions.LambdaSubscription(fn));
    this.function = fn;
    this.functionName = fn.functionName;
  }

  private createRole(props: BudgetScaleDownProps, logGroup: logs.ILogGroup): iam.Role {
    const { partition, region, account } = Stack.of(this);
    const cluster = `arn:${partition}:eks:${region}:${account}:cluster/${props.clusterName}`;
    const nodegroups = `arn:${partition}:eks:${region}:${account}:nodegroup/${props.clusterName}/*/*`;
    const environmentTag = { [`aws:ResourceTag/${CostAllocationTags.ENVIRONMENT_KEY}`]: props.environment };
    const statements = [
      new iam.PolicyStatement({ sid: 'WriteOwnLog', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      new iam.PolicyStatement({ sid: 'ListNodegroups', actions: ['eks:ListNodegroups'], resources: [cluster] }),
      new iam.PolicyStatement({ sid: 'DescribeNodegroups', actions: ['eks:DescribeNodegroup'], resources: [nodegroups] }),
      new iam.PolicyStatement({
        sid: 'ScaleEnvironmentNodegroups',
        actions: ['eks:UpdateNodegroupConfig'],
        resources: [nodegroups],
        conditions: { StringEquals: environmentTag },
      }),
      new iam.PolicyStatement({
        sid: 'SaveSizesInStateTag',
        actions: ['eks:TagResource', 'eks:UntagResource'],
        resources: [nodegroups],
        conditions: { 'StringEquals': environmentTag, 'ForAllValues:StringEquals': { 'aws:TagKeys': [STATE_TAG_KEY] } },
      }),
    ];
    const role = new iam.Role(this, 'Role', {
      description: `RAULI-VISION budget scale-down of the ${props.environment} node groups`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: { ScaleDown: new iam.PolicyDocument({ statements }) },
    });
    acknowledgeWildcardResources(role, [nodegroups],
      'Node group ARNs end in a generated id, and node groups come and go with the cluster; the pattern is limited to this one cluster, and changes are further limited to node groups tagged with this environment and to the function\'s own state tag.');
    return role;
  }
}

/**
 * The handler's code. In the compiled package (lib/) it is the JavaScript jsii
 * wrote next to this file. Run from the TypeScript sources (the tests, the app
 * under ts-node), the sources are transpiled here, so even a deployment from
 * the sources ships JavaScript.
 */
function handlerCode(): lambda.Code {
  const dir = join(__dirname, 'scale-down-handler');
  if (existsSync(join(dir, 'index.js'))) return lambda.Code.fromAsset(dir, { exclude: ['*.ts'] });
  return lambda.Code.fromAsset(transpile(dir));
}

function transpile(dir: string): string {
  // Only reached from the TypeScript sources, where the compiler is installed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
  const ts: typeof import('typescript') = require('typescript');
  const sources = readdirSync(dir).filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  const hash = createHash('sha256');
  sources.forEach(f => hash.update(f).update(readFileSync(join(dir, f))));
  const out = join(tmpdir(), `rauli-vision-scale-down-${hash.digest('hex').slice(0, 16)}`);
  mkdirSync(out, { recursive: true });
  for (const f of sources) {
    const { outputText } = ts.transpileModule(readFileSync(join(dir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: f,
    });
    writeFileSync(join(out, f.replace(/\.ts$/, '.js')), outputText);
  }
  return out;
}
