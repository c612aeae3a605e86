import * as path from 'path';
import { Component, github, javascript } from 'projen';
import { ACTIONS } from '../src/project-type/pipeline-workflow';

/** Where the root build collects the subpackages' tarballs; the release publishes this folder. */
export const PACKAGES_DIST = 'dist/packages';

export interface ReleasePackagesOptions {
  /** The packages released together with the root, at the root's version. */
  readonly packages: javascript.NodeProject[];
  /** Node.js version of the publishing job (npm trusted publishing needs npm 11.5.1 or later). */
  readonly nodeVersion: string;
  /** Publish through npm trusted publishing (OIDC) instead of an NPM_TOKEN secret, as the root does. */
  readonly trustedPublishing: boolean;
}

/**
 * One version for the root and its subpackages. The root's `bump` writes the
 * next version into every package.json (and `unbump` puts 0.0.0 back), the
 * root's `package` collects the subpackages' tarballs in `dist/packages`, and
 * a job next to projen's `release_npm` publishes them with the same
 * credentials, provenance and trusted publishing. A separate job, because the
 * jsii publishing job extracts and re-packs `dist/js/*.tgz` as the root package.
 */
export class ReleasePackages extends Component {
  constructor(root: javascript.NodeProject, options: ReleasePackagesOptions) {
    super(root);
    const dirs = options.packages.map(p => path.relative(root.outdir, p.outdir));
    this.syncVersions(root, dirs);
    this.collectTarballs(root, dirs);
    this.addPublishJob(root, options);
  }

  private syncVersions(root: javascript.NodeProject, dirs: string[]) {
    // npm version also updates the package's lockfile; --allow-same-version keeps a re-run harmless.
    const setVersion = (version: string) => `npm version --no-git-tag-version --allow-same-version ${version} >/dev/null`;
    const bump = root.tasks.tryFind('bump')!;
    const unbump = root.tasks.tryFind('unbump')!;
    for (const dir of dirs) {
      bump.exec(setVersion('"$(node -p "require(\'../../package.json\').version")"'), { cwd: dir });
      unbump.exec(setVersion('0.0.0'), { cwd: dir });
    }
  }

  private collectTarballs(root: javascript.NodeProject, dirs: string[]) {
    const collect = root.addTask('package:collect', {
      description: `Copy the subpackages' tarballs into ${PACKAGES_DIST}/ (the release publishes them with the root package)`,
    });
    collect.exec(`rm -rf ${PACKAGES_DIST} && mkdir -p ${PACKAGES_DIST}`);
    for (const dir of dirs) collect.exec(`cp ${dir}/dist/js/*.tgz ${PACKAGES_DIST}/`);
    root.packageTask.spawn(collect);
  }

  private addPublishJob(root: javascript.NodeProject, options: ReleasePackagesOptions) {
    const release = root.release!;
    release.addJobs({
      release_npm_packages: {
        name: 'Publish the subpackages to npm',
        needs: ['release'],
        runsOn: ['ubuntu-latest'],
        permissions: {
          contents: github.workflows.JobPermission.READ,
          // OIDC token for npm trusted publishing and provenance statements.
          idToken: github.workflows.JobPermission.WRITE,
        },
        if: "needs.release.outputs.tag_exists != 'true' && needs.release.outputs.latest_commit == github.sha",
        steps: [
          { uses: ACTIONS.setupNode, with: { 'node-version': options.nodeVersion, 'package-manager-cache': false } },
          {
            name: 'Download build artifacts',
            uses: ACTIONS.downloadArtifact,
            with: { 'artifact-ids': '${{ needs.release.outputs.artifact_id }}', 'path': 'dist' },
          },
          {
            name: 'Release',
            env: {
              NPM_DIST_TAG: 'latest',
              NPM_REGISTRY: 'registry.npmjs.org',
              ...(options.trustedPublishing ? { NPM_TRUSTED_PUBLISHER: 'true' } : { NPM_TOKEN: '${{ secrets.NPM_TOKEN }}' }),
              NPM_CONFIG_PROVENANCE: 'true',
              PUBLIB_DRYRUN: '${{ inputs.dry_run }}',
            },
            run: `npx -p publib@latest publib-npm ${PACKAGES_DIST}`,
          },
        ],
      },
    });
  }
}
