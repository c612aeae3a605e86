import { Component, IgnoreFile, Project, TextFile } from 'projen';
import { ServiceConventions } from '../conventions';
import { ServiceSettings } from './service-settings';
import { NON_ROOT_ID } from '../workload/security';

/**
 * Node base image of the build and runtime stages: an exact release of the
 * active LTS line (Node 20 reached end of life in April 2026), never a floating tag.
 */
export const NODE_VERSION = '24.21.0';
export const NODE_IMAGE = `node:${NODE_VERSION}-bookworm-slim`;
/** Major version of that release: the workflows set up the same line. */
export const NODE_MAJOR = Number(NODE_VERSION.split('.')[0]);

/**
 * Multi-stage Dockerfile and .dockerignore: the build stage compiles with all
 * dependencies, the runtime stage holds only production dependencies and the
 * compiled code, owned by root and run as an unprivileged user.
 */
export class ServiceDockerfile extends Component {
  constructor(project: Project, settings: ServiceSettings) {
    super(project);
    const healthUrl = `http://127.0.0.1:${settings.servicePort}${ServiceConventions.LIVENESS_PATH}`;
    const dockerfile = new TextFile(project, 'Dockerfile', { marker: true });
    const lines = [
      '# syntax=docker/dockerfile:1',
      `# ${dockerfile.marker}`,
      `ARG NODE_IMAGE=${NODE_IMAGE}`,
      '',
      '# Build: all dependencies, compile TypeScript to lib/.',
      'FROM ${NODE_IMAGE} AS build',
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'RUN npm ci --no-audit --no-fund',
      'COPY tsconfig.json ./',
      'COPY src ./src',
      'RUN npx tsc --project tsconfig.json',
      '',
      '# Production dependencies only: no compilers, test tools or cdk8s in the image.',
      'FROM ${NODE_IMAGE} AS deps',
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force',
      '',
      'FROM ${NODE_IMAGE} AS runtime',
      'ENV NODE_ENV=production',
      'WORKDIR /app',
      // Files stay owned by root: the service user can read but not modify its code.
      'COPY --from=deps /app/node_modules ./node_modules',
      'COPY --from=build /app/lib ./lib',
      'COPY package.json ./',
      // The pods' runAsUser: numeric, so Kubernetes can verify runAsNonRoot.
      `USER ${NON_ROOT_ID}:${NON_ROOT_ID}`,
      `EXPOSE ${settings.servicePort} ${settings.metricsPort}`,
      'HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \\',
      `  CMD ["node", "-e", "fetch('${healthUrl}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]`,
      'STOPSIGNAL SIGTERM',
      'CMD ["node", "lib/index.js"]',
    ];
    lines.forEach(l => dockerfile.addLine(l));

    const ignore = new IgnoreFile(project, '.dockerignore');
    // Allow-list: only what the build stage copies reaches the daemon (no .env, no node_modules).
    ignore.exclude('*');
    ignore.include('package.json', 'package-lock.json', 'tsconfig.json', 'src/**');
    // The cdk8s app runs in CI, not in the container.
    ignore.exclude('src/k8s/**');
  }
}
