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
 *   slackWorkspaceId    Slack workspace ID authorized in AWS Chatbot: the warning's channel (an example when unset: synth warns)
 *   slackChannelId      Slack channel ID of the warning (an example when unset: synth warns)
 *   budgetEmails        comma-separated addresses of the critical alert (an example when unset: synth warns)
 *   scaleDownCluster    EKS cluster whose node groups tagged with this environment are scaled to zero at the
 *                       critical threshold (default: no scale-down; refused in production)
 *   monthlyBudgetUsd    monthly budget of the environment (default: CostConventions.MONTHLY_BUDGET_USD)
 *   notifyOnForecast    'true' to alert on forecasted cost too
 *   logSnapshotNamespace       namespace of the Elasticsearch cluster writing the log snapshots (default: LoggingConventions.NAMESPACE, logging)
 *   logSnapshotServiceAccounts comma-separated ServiceAccounts of its pods (default: LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT, logs-es-snapshots)
 */
import { Annotations, App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PlatformFoundationStack } from '../src';
import { Components, LoggingConventions } from '../src/conventions.generated';

/**
 * ServiceAccounts of the platform's DatabaseBackup, ApplicationBackup and
 * RestoreJob with their default names (`<postgres>-backup`, `application-backup`,
 * `<postgres>-restore`, PostgresCluster's default name being 'postgres').
 */
export const DEFAULT_BACKUP_SERVICE_ACCOUNTS = ['postgres-backup', 'application-backup', 'postgres-restore'];

/** AWS's documentation example: lets the app synthesize before a cluster exists. */
export const EXAMPLE_OIDC_PROVIDER_ARN = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

/** Placeholders that let the app synthesize before the budget's receivers are known; synth warns about each. */
export const EXAMPLE_BUDGET_RECEIVERS = {
  slackWorkspaceId: 'T00EXAMPLE0',
  slackChannelId: 'C00EXAMPLE0',
  budgetEmails: 'budget-alerts@example.com',
} as const;

/** Default Elasticsearch namespace and ServiceAccounts of the log snapshot role: the platform's LoggingStack. */
export const DEFAULT_LOG_SNAPSHOTS = { namespace: LoggingConventions.NAMESPACE, serviceAccountNames: [LoggingConventions.SNAPSHOT_SERVICE_ACCOUNT] };

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
  const receivers = Object.fromEntries(Object.entries(EXAMPLE_BUDGET_RECEIVERS).map(([key, example]) => [key, setting(key) ?? example])) as Record<keyof typeof EXAMPLE_BUDGET_RECEIVERS, string>;
  const scaleDownCluster = setting('scaleDownCluster');

  const stack = new PlatformFoundationStack(app, `RauliVisionFoundation-${environment}`, {
    env: account || region ? { account, region } : undefined,
    description: `RAULI-VISION ${environment}: backup bucket, backup jobs' and log snapshots' IRSA roles, cost budget`,
    environment,
    costCenter: setting('costCenter'),
    backupJobRole: {
      oidcProviderArn,
      namespace: setting('namespace') ?? `${Components.PART_OF}-${environment}`,
      serviceAccountNames: list(setting('serviceAccounts')) ?? DEFAULT_BACKUP_SERVICE_ACCOUNTS,
    },
    costGuardrails: {
      monthlyLimitUsd: monthlyBudgetUsd === undefined ? undefined : Number(monthlyBudgetUsd),
      warningSlackChannel: { workspaceId: receivers.slackWorkspaceId, channelId: receivers.slackChannelId },
      criticalEmailSubscribers: list(receivers.budgetEmails) ?? [],
      notifyOnForecast: setting('notifyOnForecast') === 'true',
      scaleDown: scaleDownCluster === undefined ? undefined : { clusterName: scaleDownCluster },
    },
    logSnapshots: {
      namespace: setting('logSnapshotNamespace') ?? DEFAULT_LOG_SNAPSHOTS.namespace,
      serviceAccountNames: list(setting('logSnapshotServiceAccounts')) ?? DEFAULT_LOG_SNAPSHOTS.serviceAccountNames,
    },
  });
  for (const [key, example] of Object.entries(EXAMPLE_BUDGET_RECEIVERS)) {
    if (setting(key) === undefined) {
      Annotations.of(stack).addWarningV2(`rauli-vision:example-${key}`,
        `${key} is an example (${example}): the budget alerts reach nobody. Deploy with -c rauli-vision:${key}=<value>.`);
    }
  }

  if (oidcProviderArn === EXAMPLE_OIDC_PROVIDER_ARN) {
    Annotations.of(stack).addWarningV2('rauli-vision:example-oidc-provider',
      'oidcProviderArn is an example: the backup role trusts no real cluster. Deploy with -c rauli-vision:oidcProviderArn=<the cluster\'s IAM OIDC provider ARN>.');
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return app;
}
