import { Component, github, TextFile } from 'projen';
import { TypeScriptProject } from 'projen/lib/typescript';
import { ServiceConventions } from '../conventions';
import { DEV_COMPOSE_FILE } from './dev-compose';
import { NODE_MAJOR } from './dockerfile';
import { K8S_OUTDIR, manifestFile, namespaceFor } from './k8s-app';
import { DEPLOY_BRANCHES, ServiceEnvironment, ServiceSettings } from './service-settings';

/**
 * Actions the pipelines use (the scaffold's and the platform's own deploy
 * workflow): full commit SHAs, or GitHub "immutable" releases whose tags cannot
 * be moved, never a moving tag such as `@v4` or `@master` (trivy-action's tags
 * were force-pushed in the March 2026 supply-chain attack). GitHub's own
 * actions come from projen's reviewed `ActionRefs`, so an upgrade of projen
 * moves them together with projen's own workflows; the released version each
 * other SHA points to is noted beside it.
 */
export const ACTIONS = {
  checkout: github.ActionRefs.ACTIONS_CHECKOUT, // v7.0.1
  setupNode: github.ActionRefs.ACTIONS_SETUP_NODE, // v7.0.0 (immutable release)
  uploadArtifact: github.ActionRefs.ACTIONS_UPLOAD_ARTIFACT, // v7.0.1
  downloadArtifact: github.ActionRefs.ACTIONS_DOWNLOAD_ARTIFACT, // v8.0.1
  uploadSarif: 'github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7', // v4.31.9
  trivy: 'aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25', // v0.36.0 (first release after the incident)
  setupBuildx: 'docker/setup-buildx-action@4d04d5d9486b7bd6fa91e7baf45bbb4f8b9deedd', // v4
  login: 'docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121', // v4
  metadata: 'docker/metadata-action@030e881283bb7a6894de51c315a6bfe6a94e05cf', // v6
  buildPush: 'docker/build-push-action@bcafcacb16a39f128d818304e6c9c0c18556b85f', // v7
  sonarScan: 'SonarSource/sonarqube-scan-action@fd88b7d7ccbaefd23d8f36f73b59db7a3d246602', // v6.0.0
} as const;

/**
 * Writes the environment secret `KUBE_CONFIG` (each environment has its own
 * cluster credentials) to a file only the runner's user can read, for kubectl
 * and helm; both come with the runner image, so no third-party action is needed.
 */
export const CLUSTER_CREDENTIALS_STEP: github.workflows.JobStep = {
  name: 'Cluster credentials',
  env: { KUBE_CONFIG: '${{ secrets.KUBE_CONFIG }}' },
  run: [
    'umask 077',
    'printf \'%s\' "$KUBE_CONFIG" > "$RUNNER_TEMP/kubeconfig"',
    'echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig" >> "$GITHUB_ENV"',
  ].join('\n'),
};

export const SMOKE_TEST_SCRIPT = 'scripts/smoke-test.sh';
/** Local ports the deploy jobs forward to the new pods before running the smoke tests. */
const FORWARD_HTTP_PORT = 18080;
const FORWARD_METRICS_PORT = 19090;

/**
 * The guide's pipeline as one GitHub Actions workflow: Trivy scan, build and
 * test, image build and push with metadata tags, cdk8s synth and validation,
 * deploy to staging from `develop` and production from `main`, smoke tests
 * after each deploy. Also writes the smoke-test script the deploy jobs run.
 */
export class PipelineWorkflow extends Component {
  constructor(project: TypeScriptProject, settings: ServiceSettings) {
    super(project);
    if (!project.github) {
      throw new Error('The rauli-service pipeline needs GitHub support: do not set `github: false`');
    }

    this.writeSmokeTest(project, settings);

    const wf = new github.GithubWorkflow(project.github, 'pipeline');
    const branches = ['main', 'develop'];
    wf.on({ push: { branches }, pullRequest: { branches }, workflowDispatch: {} });

    const nodeSetup: github.workflows.JobStep[] = [
      { name: 'Checkout', uses: ACTIONS.checkout },
      { name: 'Set up Node.js', uses: ACTIONS.setupNode, with: { 'node-version': String(NODE_MAJOR), 'cache': 'npm' } },
      { name: 'Install dependencies', run: 'npm ci' },
    ];
    const read = { contents: github.workflows.JobPermission.READ };
    const runsOn = ['ubuntu-latest'];

    const jobs: Record<string, github.workflows.Job> = {
      'security-scan': {
        name: 'Vulnerability scan (Trivy)',
        runsOn,
        permissions: { ...read, securityEvents: github.workflows.JobPermission.WRITE },
        steps: [
          { name: 'Checkout', uses: ACTIONS.checkout },
          {
            name: 'Scan dependencies and configuration (SARIF report)',
            uses: ACTIONS.trivy,
            with: { 'scan-type': 'fs', 'scan-ref': '.', 'scanners': 'vuln,secret,misconfig', 'format': 'sarif', 'output': 'trivy-results.sarif' },
          },
          { name: 'Upload Trivy results', if: 'always()', uses: ACTIONS.uploadSarif, with: { sarif_file: 'trivy-results.sarif' } },
          {
            name: 'Fail on fixable critical and high vulnerabilities',
            uses: ACTIONS.trivy,
            with: { 'scan-type': 'fs', 'scan-ref': '.', 'severity': 'CRITICAL,HIGH', 'ignore-unfixed': true, 'exit-code': '1' },
          },
        ],
      },
      'build-and-test': {
        name: 'Build and test',
        runsOn,
        permissions: read,
        steps: [
          ...nodeSetup,
          { name: 'Build, lint and test (includes manifest validation)', run: 'npx projen build' },
          { name: 'Fail if generated files are out of date (run "npx projen" and commit)', run: 'git diff --exit-code' },
        ],
      },
      'compose-integration': this.composeJob(settings),
      'k8s-manifests': {
        name: 'cdk8s synth and validation',
        needs: ['build-and-test'],
        runsOn,
        permissions: read,
        env: { IMAGE_TAG: 'sha-${{ github.sha }}' },
        steps: [
          ...nodeSetup,
          { name: 'Synthesize manifests', run: 'npx projen synth:k8s' },
          { name: 'Validate manifests (schemas, Pod Security restricted, platform checks)', run: 'npx projen validate:k8s' },
          { name: 'Upload manifests', uses: ACTIONS.uploadArtifact, with: { name: 'k8s-manifests', path: K8S_OUTDIR } },
        ],
      },
      'image': {
        name: 'Build and push image',
        needs: ['security-scan', 'build-and-test', 'compose-integration'],
        if: "github.event_name == 'push'",
        runsOn,
        permissions: { ...read, packages: github.workflows.JobPermission.WRITE },
        outputs: { tag: { stepId: 'tag', outputName: 'tag' } },
        steps: [
          { name: 'Checkout', uses: ACTIONS.checkout },
          // One immutable tag per commit; the deploy jobs synthesize manifests that reference it.
          { id: 'tag', name: 'Image tag', run: 'echo "tag=sha-${GITHUB_SHA::12}" >> "$GITHUB_OUTPUT"' },
          { name: 'Set up Docker Buildx', uses: ACTIONS.setupBuildx },
          {
            name: 'Log in to the registry',
            uses: ACTIONS.login,
            with: { registry: settings.imageRegistry, username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' },
          },
          {
            id: 'meta',
            name: 'Image metadata (tags and OCI labels)',
            uses: ACTIONS.metadata,
            with: {
              images: settings.image,
              flavor: 'latest=false',
              tags: [
                'type=raw,value=${{ steps.tag.outputs.tag }}',
                'type=ref,event=branch',
                'type=semver,pattern={{version}}',
              ].join('\n'),
            },
          },
          {
            name: 'Build and push',
            uses: ACTIONS.buildPush,
            with: {
              'context': '.',
              'push': true,
              'tags': '${{ steps.meta.outputs.tags }}',
              'labels': '${{ steps.meta.outputs.labels }}',
              'cache-from': 'type=gha',
              'cache-to': 'type=gha,mode=max',
            },
          },
          {
            name: 'Scan the pushed image',
            uses: ACTIONS.trivy,
            with: {
              'image-ref': `${settings.image}:\${{ steps.tag.outputs.tag }}`,
              'severity': 'CRITICAL,HIGH',
              'ignore-unfixed': true,
              'exit-code': '1',
            },
          },
        ],
      },
    };

    for (const env of settings.environments) {
      const branch = DEPLOY_BRANCHES[env];
      if (!branch) continue; // dev runs on laptops and in docker-compose, not from CI
      jobs[`deploy-${env}`] = this.deployJob(settings, env, branch, nodeSetup);
    }
    wf.addJobs(jobs);
  }

  /**
   * The service built from this commit with the data stores of
   * docker-compose.dev.yml, then the same smoke tests as after a deploy.
   * `--wait` returns once every container with a healthcheck is healthy.
   */
  private composeJob(settings: ServiceSettings): github.workflows.Job {
    const compose = `docker compose -f ${DEV_COMPOSE_FILE}`;
    return {
      name: 'Integration tests (docker compose)',
      needs: ['build-and-test'],
      runsOn: ['ubuntu-latest'],
      permissions: { contents: github.workflows.JobPermission.READ },
      steps: [
        { name: 'Checkout', uses: ACTIONS.checkout },
        { name: 'Start the service and its data stores', run: `${compose} up --build --detach --wait --wait-timeout 180` },
        {
          name: 'Smoke tests',
          run: `./${SMOKE_TEST_SCRIPT} http://127.0.0.1:${settings.servicePort} http://127.0.0.1:${settings.metricsPort}`,
        },
        { name: 'Service logs', if: 'failure()', run: `${compose} logs --no-color` },
        { name: 'Stop', if: 'always()', run: `${compose} down --volumes` },
      ],
    };
  }

  private deployJob(settings: ServiceSettings, env: ServiceEnvironment, branch: string, nodeSetup: github.workflows.JobStep[]): github.workflows.Job {
    const ns = namespaceFor(env);
    const workload = `deployment/${settings.serviceName}`;
    return {
      name: `Deploy to ${env}`,
      needs: ['image', 'k8s-manifests'],
      if: `github.event_name == 'push' && github.ref == 'refs/heads/${branch}'`,
      runsOn: ['ubuntu-latest'],
      environment: env,
      // Written as is (projen does not rename keys inside `concurrency`).
      concurrency: { 'group': `deploy-${env}`, 'cancel-in-progress': false },
      permissions: { contents: github.workflows.JobPermission.READ },
      env: { IMAGE_TAG: '${{ needs.image.outputs.tag }}' },
      steps: [
        ...nodeSetup,
        { name: `Synthesize the ${env} manifests for this image`, run: 'npx projen synth:k8s && npx projen validate:k8s' },
        CLUSTER_CREDENTIALS_STEP,
        { name: 'Apply', run: `kubectl apply --server-side --field-manager=${settings.serviceName}-pipeline -f ${manifestFile(settings, env)}` },
        { name: 'Wait for the rollout', run: `kubectl -n ${ns} rollout status ${workload} --timeout=300s` },
        {
          name: 'Smoke tests',
          run: [
            `kubectl -n ${ns} port-forward ${workload} ${FORWARD_HTTP_PORT}:${settings.servicePort} ${FORWARD_METRICS_PORT}:${settings.metricsPort} &`,
            'trap "kill $!" EXIT',
            `./${SMOKE_TEST_SCRIPT} http://127.0.0.1:${FORWARD_HTTP_PORT} http://127.0.0.1:${FORWARD_METRICS_PORT}`,
          ].join('\n'),
        },
        {
          name: 'Roll back on failure',
          if: 'failure()',
          run: `kubectl -n ${ns} rollout undo ${workload} && kubectl -n ${ns} rollout status ${workload} --timeout=300s`,
        },
      ],
    };
  }

  private writeSmokeTest(project: TypeScriptProject, settings: ServiceSettings) {
    const script = new TextFile(project, SMOKE_TEST_SCRIPT, { executable: true, marker: true });
    const paths = [ServiceConventions.LIVENESS_PATH, ServiceConventions.READINESS_PATH, ...settings.smokeTestPaths];
    [
      '#!/usr/bin/env bash',
      `# ${script.marker}`,
      '#',
      '# Smoke tests after a deploy (and against a local `npx projen dev`):',
      `#   ${SMOKE_TEST_SCRIPT} <base-url> <metrics-url>`,
      '# Every endpoint must answer 200 within the retry budget; the first failure ends the run.',
      'set -euo pipefail',
      '',
      'base_url="${1:?usage: smoke-test.sh <base-url> <metrics-url>}"',
      'metrics_url="${2:?usage: smoke-test.sh <base-url> <metrics-url>}"',
      'attempts="${SMOKE_TEST_ATTEMPTS:-30}"',
      '',
      'check() {',
      '  local url="$1" code=000',
      '  for ((i = 1; i <= attempts; i++)); do',
      '    code="$(curl -sS -o /dev/null -w \'%{http_code}\' --max-time 5 "$url" || true)"',
      '    if [[ "$code" == 200 ]]; then',
      '      echo "ok   $url"',
      '      return 0',
      '    fi',
      '    sleep 1',
      '  done',
      '  echo "FAIL $url answered $code after $attempts attempts" >&2',
      '  return 1',
      '}',
      '',
      ...paths.map(p => `check "$base_url${p}"`),
      `check "$metrics_url${ServiceConventions.METRICS_PATH}"`,
    ].forEach(l => script.addLine(l));
  }
}
