/**
 * The package's CDK app: one PlatformFoundationStack per invocation, for the
 * environment named in context. Synthesizes offline (`npx cdk synth`, or
 * `npx projen synth`): without `rauli-vision:account`/`rauli-vision:region`
 * the stack is environment-agnostic and needs no AWS credentials. cdk-nag's
 * AwsSolutions pack runs as a validation plugin, so any unacknowledged
 * finding fails the synthesis.
 *
 * Settings (all `-c rauli-vision:<key>=<value>` or cdk.json context):
 *   environment         dev | staging | production (cdk.json: production)
 *   oidcProviderArn     the EKS cluster's IAM OIDC provider ARN (an example when unset: synth warns)
 *   namespace           namespace of the backup jobs (default: rauli-vision-<environment>, RauliVisionChart's default)
 *   serviceAccounts     comma-separated ServiceAccounts of the backup jobs (default: the platform's
 *                       defaults postgres-backup, application-backup, postgres-restore)
 *   account, region     deploy target (default: environment-agnostic)
 *   costCenter          value of the cost-center tag (default: none)
 *   budgetEmails        comma-separated budget alert addresses (default: none, SNS topic only)
 *   monthlyBudgetUsd    monthly budget (default: CostConventions.MONTHLY_BUDGET_USD)
 *   notifyOnForecast    'true' to alert on forecasted cost too
 */
import { Annotations, App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PlatformFoundationStack } from '../src';
import { Components } from '../src/conventions.generated';

/**
 * ServiceAccounts of the platform's DatabaseBackup, ApplicationBackup and
 * RestoreJob with their default names (`<postgres>-backup`, `application-backup`,
 * `<postgres>-restore`, PostgresCluster's default name being 'postgres').
 */
export const DEFAULT_BACKUP_SERVICE_ACCOUNTS = ['postgres-backup', 'application-backup', 'postgres-restore'];

/** AWS's documentation example: lets the app synthesize before a cluster exists. */
export const EXAMPLE_OIDC_PROVIDER_ARN = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

/** The app with its stack and the cdk-nag plugin, not yet synthesized (tests build it in-process). */
export function createFoundationApp(props?: AppProps): App {
  const app = new App(props);
  const setting = (key: string): string | undefined => {
    const value = app.node.tryGetContext(`rauli-vision:${key}`);
    return value === undefined || value === null || String(value).trim() === '' ? undefined : String(value).trim();
  };

  const list = (value: string | undefined): string[] | undefined => value?.split(',').map(e => e.trim()).filter(e => e !== '');

  const environment = setting('environment') ?? 'production';
  const account = setting('account');
  const region = setting('region');
  const oidcProviderArn = setting('oidcProviderArn') ?? EXAMPLE_OIDC_PROVIDER_ARN;
  const monthlyBudgetUsd = setting('monthlyBudgetUsd');

  const stack = new PlatformFoundationStack(app, `RauliVisionFoundation-${environment}`, {
    env: account || region ? { account, region } : undefined,
    description: `RAULI-VISION ${environment}: backup bucket, backup jobs' IRSA role, cost budget`,
    environment,
    costCenter: setting('costCenter'),
    backupJobRole: {
      oidcProviderArn,
      namespace: setting('namespace') ?? `${Components.PART_OF}-${environment}`,
      serviceAccountNames: list(setting('serviceAccounts')) ?? DEFAULT_BACKUP_SERVICE_ACCOUNTS,
    },
    costGuardrails: {
      monthlyLimitUsd: monthlyBudgetUsd === undefined ? undefined : Number(monthlyBudgetUsd),
      emailSubscribers: list(setting('budgetEmails')),
      notifyOnForecast: setting('notifyOnForecast') === 'true',
    },
  });

  if (oidcProviderArn === EXAMPLE_OIDC_PROVIDER_ARN) {
    Annotations.of(stack).addWarningV2('rauli-vision:example-oidc-provider',
      'oidcProviderArn is an example: the backup role trusts no real cluster. Deploy with -c rauli-vision:oidcProviderArn=<the cluster\'s IAM OIDC provider ARN>.');
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return app;
}
