import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { CostGuardrailsOptions, PlatformFoundationStack, PlatformFoundationStackProps } from '../src';

export const PACKAGE_DIR = join(__dirname, '..');
export const OIDC_PROVIDER_ARN = 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const OIDC_ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const ENV = { account: '123456789012', region: 'eu-west-1' };
/** Budget receivers: a Slack channel (format of real Chatbot ids) for the warning, an address for the critical alert. */
export const BUDGET_RECEIVERS = {
  warningSlackChannel: { workspaceId: 'T07EA123LEP', channelId: 'C01ABCDEF23' },
  criticalEmailSubscribers: ['finance@rauli-vision.com'],
};

/** The feature flags of the package's cdk.json, so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(join(PACKAGE_DIR, 'cdk.json'), 'utf8')).context;

export function newApp(opts: { featureFlags?: boolean } = {}): App {
  const flags = Object.fromEntries(Object.entries(CDK_JSON_CONTEXT).filter(([k]) => k.startsWith('@aws-cdk')));
  return new App({ context: opts.featureFlags === false ? {} : flags });
}

export function newStack(opts: { featureFlags?: boolean } = {}): Stack {
  return new Stack(newApp(opts), 'Test', { env: ENV });
}

export function foundationStack(
  props: Partial<Omit<PlatformFoundationStackProps, 'costGuardrails'>> & { costGuardrails?: Partial<CostGuardrailsOptions> } = {},
  opts: { featureFlags?: boolean; app?: App } = {},
): PlatformFoundationStack {
  return new PlatformFoundationStack(opts.app ?? newApp(opts), 'Foundation', {
    env: ENV,
    environment: 'production',
    backupJobRole: { oidcProviderArn: OIDC_PROVIDER_ARN, namespace: 'rauli-vision-production', serviceAccountNames: ['postgres-backup', 'application-backup', 'postgres-restore'] },
    ...props,
    costGuardrails: { ...BUDGET_RECEIVERS, ...props.costGuardrails },
  });
}

/** cdk-nag AwsSolutions findings left after the acknowledgements, as `rule @ construct path`. */
export function nagViolations(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(scope, { verbose: true }).validateScope(scope);
  return report.violations.flatMap(v => v.violatingResources.map(r => `${v.ruleName} @ ${(r as any).constructPath ?? r.resourceLogicalId}: ${v.description}`));
}
