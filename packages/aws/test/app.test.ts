import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ts from 'typescript';
import { CDK_JSON_CONTEXT, OIDC_ISSUER, OIDC_PROVIDER_ARN, PACKAGE_DIR } from './support';
import { createFoundationApp, EXAMPLE_OIDC_PROVIDER_ARN } from '../app/foundation-app';
import { PlatformFoundationStack } from '../src';
import { BackupConventions } from '../src/conventions.generated';

const OUTPUT_KEYS = [
  BackupConventions.OUTPUT_BUCKET_NAME, BackupConventions.OUTPUT_REGION, BackupConventions.OUTPUT_ROLE_ARN,
  BackupConventions.OUTPUT_LOG_SNAPSHOT_ROLE_ARN,
];

const outdirs: string[] = [];
function tempOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rauli-aws-synth-'));
  outdirs.push(dir);
  return dir;
}
afterAll(() => outdirs.forEach(d => rmSync(d, { recursive: true, force: true })));

describe('the CDK app, in-process with cdk.json\'s context', () => {
  test('synthesizes the production stack, environment-agnostic, warning about the example OIDC provider and budget receivers', () => {
    const assembly = createFoundationApp({ context: CDK_JSON_CONTEXT, outdir: tempOutdir() }).synth();
    const stack = assembly.getStackByName('RauliVisionFoundation-production');
    expect(stack.environment).toEqual({ account: 'unknown-account', region: 'unknown-region', name: 'aws://unknown-account/unknown-region' });
    expect(Object.keys(stack.template.Outputs)).toEqual(OUTPUT_KEYS);
    expect(JSON.stringify(stack.template)).toContain(EXAMPLE_OIDC_PROVIDER_ARN);
    const warnings = stack.messages.filter(m => m.level === 'warning').map(m => String(m.entry.data));
    expect(warnings).toHaveLength(4);
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringContaining('slackWorkspaceId is an example'),
      expect.stringContaining('slackChannelId is an example'),
      expect.stringContaining('budgetEmails is an example'),
      expect.stringContaining('oidcProviderArn is an example'),
    ]));
    // Production: the critical threshold alerts, it never scales down.
    expect(Object.values<any>(stack.template.Resources).filter(r => r.Type === 'AWS::Lambda::Function')).toEqual([]);
  });

  test('the cdk-nag plugin is wired: a non-compliant resource fails the synthesis', () => {
    const app = createFoundationApp({ context: CDK_JSON_CONTEXT, outdir: tempOutdir() });
    new s3.Bucket(app.node.children.find(Stack.isStack)!, 'Careless');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1[\s\S]*Careless/);
  });
});

describe('the CDK app through the aws-cdk CLI', () => {
  test('`cdk synth` runs offline with cdk.json and context settings, and writes the cloud assembly', () => {
    const outdir = tempOutdir();
    const result = spawnSync('npx', [
      'cdk', 'synth', '--no-notices', '--no-version-reporting', '--quiet', '--output', outdir,
      '-c', 'rauli-vision:environment=staging',
      '-c', `rauli-vision:oidcProviderArn=${OIDC_PROVIDER_ARN}`,
      '-c', 'rauli-vision:account=123456789012',
      '-c', 'rauli-vision:region=eu-west-1',
      '-c', 'rauli-vision:budgetEmails=ops@rauli-vision.com, finance@rauli-vision.com',
      '-c', 'rauli-vision:slackWorkspaceId=T07EA123LEP',
      '-c', 'rauli-vision:slackChannelId=C01ABCDEF23',
      '-c', 'rauli-vision:scaleDownCluster=rauli-staging',
      '-c', 'rauli-vision:costCenter=platform',
    ], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
      // No credentials or network: no instance metadata lookups, no telemetry. The app is type-checked by the test below.
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true', TS_NODE_TRANSPILE_ONLY: 'true', AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' },
      timeout: 280_000,
    });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stderr).not.toMatch(/is an example/);

    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
    const artifact = manifest.artifacts['RauliVisionFoundation-staging'];
    expect(artifact).toMatchObject({ type: 'aws:cloudformation:stack', environment: 'aws://123456789012/eu-west-1' });
    const template = JSON.parse(readFileSync(join(outdir, artifact.properties.templateFile), 'utf8'));
    const resources = Object.values<any>(template.Resources);
    const role = resources.find(r => r.Type === 'AWS::IAM::Role' && r.Properties.AssumeRolePolicyDocument.Statement[0].Action === 'sts:AssumeRoleWithWebIdentity');
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toEqual({
      [`${OIDC_ISSUER}:sub`]: ['postgres-backup', 'application-backup', 'postgres-restore'].map(n => `system:serviceaccount:rauli-vision-staging:${n}`),
      [`${OIDC_ISSUER}:aud`]: 'sts.amazonaws.com',
    });
    const budget = resources.find(r => r.Type === 'AWS::Budgets::Budget');
    expect(budget.Properties.Budget.BudgetName).toBe('rauli-vision-staging-monthly-cost');
    expect(budget.Properties.NotificationsWithSubscribers[1].Subscribers.filter((s: any) => s.SubscriptionType === 'EMAIL').map((s: any) => s.Address))
      .toEqual(['ops@rauli-vision.com', 'finance@rauli-vision.com']);
    const slack = resources.find(r => r.Type === 'AWS::Chatbot::SlackChannelConfiguration');
    expect(slack.Properties).toMatchObject({ SlackWorkspaceId: 'T07EA123LEP', SlackChannelId: 'C01ABCDEF23' });
    const fn = resources.find(r => r.Type === 'AWS::Lambda::Function');
    expect(fn.Properties.Environment.Variables).toEqual({ CLUSTER_NAME: 'rauli-staging', SELECTOR_TAG_KEY: 'environment', SELECTOR_TAG_VALUE: 'staging' });
    expect(budget.Properties.ResourceTags).toEqual(expect.arrayContaining([{ Key: 'environment', Value: 'staging' }, { Key: 'cost-center', Value: 'platform' }]));
    expect(Object.keys(template.Outputs)).toEqual([...OUTPUT_KEYS, PlatformFoundationStack.OUTPUT_SCALE_DOWN_FUNCTION_NAME]);
    expect(template.Outputs[BackupConventions.OUTPUT_REGION].Value).toBe('eu-west-1');
  }, 300_000);

  test('app/ type-checks with the package\'s compiler options', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(PACKAGE_DIR, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: d => { throw new Error(String(d.messageText)); } })!;
    const program = ts.createProgram([join(PACKAGE_DIR, 'app/main.ts')], { ...config.options, rootDir: PACKAGE_DIR, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 120_000);
});
