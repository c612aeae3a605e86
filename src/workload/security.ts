import { k8s } from 'cdk8s-plus-28';

/** UID and GID the platform's containers run as: high enough to never map to a host user. */
export const NON_ROOT_ID = 10001;

/**
 * Pod-level context for Pod Security Standards `restricted`. cdk8s-plus-28's
 * defaults miss seccomp and capability drops, so every workload of the
 * platform (data tier and jobs included) takes its contexts from here.
 */
export function restrictedPodSecurityContext(id: number): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: id,
    runAsGroup: id,
    fsGroup: id,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level context for Pod Security Standards `restricted`, read-only root filesystem. */
export function restrictedContainerSecurityContext(id: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: id,
    runAsGroup: id,
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
