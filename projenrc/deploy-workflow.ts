import { Component, github, javascript } from 'projen';
import { Components } from '../src/conventions';
import { EdgeEnvironments } from '../src/edge/edge-environments';
import { Environments } from '../src/platform/environments';
import { namespaceFor } from '../src/project-type/k8s-app';
import { ACTIONS, CLUSTER_CREDENTIALS_STEP } from '../src/project-type/pipeline-workflow';
import { DEPLOY_BRANCHES, ServiceEnvironment } from '../src/project-type/service-settings';

/** The generated chart the deploy jobs install. */
export const CHART_DIR = 'charts/rauli-vision';
/** Smoke tests against the public URL, through the edge (ingress or gateway, TLS included). */
export const EDGE_SMOKE_TEST = '.ci/smoke-edge.sh';

export interface DeployWorkflowOptions {
  /** Node.js version of the jobs that run projen. */
  readonly nodeVersion: string;
}

/** Name of the Helm release of one environment. */
export function releaseName(env: string): string {
  return `rauli-vision-${env}`;
}

/**
 * The platform's own deploy pipeline (.github/workflows/deploy.yml): Trivy and
 * SonarCloud, chart checks, then `develop` to staging and `main` to production
 * through GitHub environments. Production's required reviewer is a protection
 * rule of the `production` environment, configured in the repository settings:
 * the workflow only names the environment, and GitHub holds the job until a
 * reviewer approves.
 *
 * Deploys run `helm upgrade --install` of the generated chart rather than a
 * server-side apply of dist/: Helm records every revision, so a failed smoke
 * test rolls back to the exact previous release (`helm rollback`), and it
 * prunes objects a new version no longer renders, which an apply leaves behind.
 */
export class DeployWorkflow extends Component {
  constructor(root: javascript.NodeProject, options: DeployWorkflowOptions) {
    super(root);
    const wf = root.github!.addWorkflow('deploy');
    const branches = Object.values(DEPLOY_BRANCHES) as string[];
    wf.on({
      push: { branches },
      workflowDispatch: {
        inputs: {
          image_tag: { description: 'Image tag of the three services (default: the commit sha)', required: false, type: 'string' },
        },
      },
    });
    const nodeSetup: github.workflows.JobStep[] = [
      { name: 'Checkout', uses: ACTIONS.checkout },
      { name: 'Set up Node.js', uses: ACTIONS.setupNode, with: { 'node-version': options.nodeVersion, 'cache': 'npm' } },
      { name: 'Install dependencies', run: 'npm ci' },
    ];
    const jobs: Record<string, github.workflows.Job> = {
      'security-scan': this.trivyJob(),
      'sonarcloud': this.sonarJob(),
      'chart': {
        name: 'Chart and manifests',
        runsOn: ['ubuntu-latest'],
        permissions: { contents: github.workflows.JobPermission.READ },
        steps: [
          ...nodeSetup,
          { name: 'Regenerate the chart; it must match the commit', run: `npx projen helm:chart && git diff --exit-code -- ${CHART_DIR}` },
          { name: 'Lint the chart', run: `helm lint --strict ${CHART_DIR}` },
          { name: 'Synthesize and validate the manifests', run: 'npx projen synth && npx jest test/validation test/platform --coverage=false' },
        ],
      },
    };
    for (const [env, branch] of Object.entries(DEPLOY_BRANCHES) as [ServiceEnvironment, string][]) {
      jobs[`deploy-${env}`] = this.deployJob(env, branch);
    }
    wf.addJobs(jobs);
  }

  private trivyJob(): github.workflows.Job {
    const scan = { 'scan-type': 'fs', 'scan-ref': '.', 'skip-dirs': 'node_modules,packages/koa/node_modules,packages/aws/node_modules' };
    return {
      name: 'Vulnerability scan (Trivy)',
      runsOn: ['ubuntu-latest'],
      permissions: { contents: github.workflows.JobPermission.READ, securityEvents: github.workflows.JobPermission.WRITE },
      steps: [
        { name: 'Checkout', uses: ACTIONS.checkout },
        {
          name: 'Scan dependencies, secrets and configuration (SARIF report)',
          uses: ACTIONS.trivy,
          with: { ...scan, scanners: 'vuln,secret,misconfig', format: 'sarif', output: 'trivy-results.sarif' },
        },
        { name: 'Upload Trivy results', if: 'always()', uses: ACTIONS.uploadSarif, with: { sarif_file: 'trivy-results.sarif' } },
        {
          name: 'Fail on fixable critical and high vulnerabilities',
          uses: ACTIONS.trivy,
          with: { ...scan, 'severity': 'CRITICAL,HIGH', 'ignore-unfixed': true, 'exit-code': '1' },
        },
      ],
    };
  }

  /** Runs the analysis when the SONAR_TOKEN secret exists, and says so in the run summary when it does not. */
  private sonarJob(): github.workflows.Job {
    return {
      name: 'SonarCloud analysis',
      runsOn: ['ubuntu-latest'],
      permissions: { contents: github.workflows.JobPermission.READ },
      env: { SONAR_TOKEN: '${{ secrets.SONAR_TOKEN }}' },
      steps: [
        {
          id: 'token',
          name: 'Is SONAR_TOKEN set?',
          run: [
            'if [ -n "$SONAR_TOKEN" ]; then echo "enabled=true" >> "$GITHUB_OUTPUT"; exit 0; fi',
            'echo "enabled=false" >> "$GITHUB_OUTPUT"',
            'msg="SonarCloud analysis skipped: the SONAR_TOKEN secret is not set"',
            'echo "::notice::$msg"',
            'echo "$msg" >> "$GITHUB_STEP_SUMMARY"',
          ].join('\n'),
        },
        // Full history: SonarCloud attributes new issues to commits by blame.
        { name: 'Checkout', if: "steps.token.outputs.enabled == 'true'", uses: ACTIONS.checkout, with: { 'fetch-depth': 0 } },
        {
          name: 'SonarCloud scan',
          if: "steps.token.outputs.enabled == 'true'",
          uses: ACTIONS.sonarScan,
          env: { SONAR_HOST_URL: 'https://sonarcloud.io' },
          with: {
            args: [
              '-Dsonar.organization=${{ github.repository_owner }}',
              '-Dsonar.projectKey=${{ github.repository_owner }}_${{ github.event.repository.name }}',
              '-Dsonar.sources=src,packages/koa/src,packages/aws/src',
              '-Dsonar.tests=test,packages/koa/test,packages/aws/test',
            ].join('\n'),
          },
        },
      ],
    };
  }

  private deployJob(env: ServiceEnvironment, branch: string): github.workflows.Job {
    const ns = namespaceFor(env);
    const release = releaseName(env);
    const preset = Environments.preset(env);
    const publicUrl = `https://${EdgeEnvironments.routing(env).hosts![0]}`;
    const valuesFile = env === 'production' ? [] : [`-f ${CHART_DIR}/values-${env}.yaml`];
    const deployments = [Components.FRONTEND, Components.BACKEND_GO, Components.BACKEND_PYTHON];
    return {
      name: `Deploy to ${env}`,
      needs: ['security-scan', 'sonarcloud', 'chart'],
      if: `github.ref == 'refs/heads/${branch}'`,
      runsOn: ['ubuntu-latest'],
      environment: { name: env, url: publicUrl },
      // Written as is (projen does not rename keys inside `concurrency`).
      concurrency: { 'group': `deploy-${env}`, 'cancel-in-progress': false },
      permissions: { contents: github.workflows.JobPermission.READ },
      env: { IMAGE_TAG: '${{ inputs.image_tag || github.sha }}', RELEASE: release, NAMESPACE: ns },
      steps: [
        { name: 'Checkout', uses: ACTIONS.checkout },
        CLUSTER_CREDENTIALS_STEP,
        {
          id: 'previous',
          name: 'Record the revision to roll back to',
          // No release yet (first install) is not an error: the rollback step then has nothing to go back to.
          run: [
            'set -euo pipefail',
            'revision="$(helm history "$RELEASE" -n "$NAMESPACE" --max 1 -o json 2>/dev/null | jq -r \'.[0].revision // empty\' || true)"',
            'echo "revision=$revision" >> "$GITHUB_OUTPUT"',
          ].join('\n'),
        },
        {
          id: 'deploy',
          name: 'helm upgrade --install',
          run: [
            `helm upgrade --install "$RELEASE" ${CHART_DIR} ${[...valuesFile, '--namespace "$NAMESPACE" --create-namespace'].join(' ')} \\`,
            `  --set image.tag="$IMAGE_TAG" --set environment=${env} --set services.backend-go.replicaCount=${preset.backendGo.replicas ?? 1} \\`,
            '  --history-max 10 --wait --timeout 10m',
          ].join('\n'),
        },
        {
          name: 'Wait for the rollout',
          run: deployments.map(d => `kubectl -n "$NAMESPACE" rollout status deployment/${d} --timeout=300s`).join('\n'),
        },
        { name: 'Smoke tests through the edge', run: `${EDGE_SMOKE_TEST} ${publicUrl}` },
        {
          name: 'Roll back on failure',
          if: "failure() && steps.deploy.outcome != 'skipped'",
          env: { PREVIOUS: '${{ steps.previous.outputs.revision }}' },
          run: [
            'if [ -z "$PREVIOUS" ]; then echo "::error::first release of $RELEASE failed; nothing to roll back to"; exit 1; fi',
            'helm rollback "$RELEASE" "$PREVIOUS" -n "$NAMESPACE" --wait --timeout 10m',
            `${EDGE_SMOKE_TEST} ${publicUrl}`,
          ].join('\n'),
        },
      ],
    };
  }
}
