/**
 * Helpers shared by the data-tier constructs. Not exported from the package
 * entry point.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Components } from '../conventions';
import { validateDnsLabel, validateDnsSubdomain, validateImage, validateMemory, parseQuantity, PropValidationError } from '../core/validate';
import { dnsEgressRule, namespacePeer } from '../network/peers';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../workload/security';
import { ResourceSettings, Resources, validateResources } from '../workload/settings';

/**
 * UID/GID of the official postgres and redis images (Debian variants): files
 * on their volumes are owned by it, so every data-tier container runs as it.
 */
export const DATA_UID = 999;

/** Pinned default images. */
export const IMAGES = {
  postgres: 'postgres:15.10',
  postgresExporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.16.0',
  redis: 'redis:7.4.1',
  redisExporter: 'oliver006/redis_exporter:v1.66.0',
  awsCli: 'amazon/aws-cli:2.22.10',
  archive: 'debian:12.8-slim',
};

/** Label naming a PostgreSQL pod's role. */
export const ROLE_LABEL = 'rauli-vision.com/role';

/** Where the scripts ConfigMaps are mounted. */
export const SCRIPTS_DIR = '/scripts';

/**
 * Reads a shell script shipped next to the constructs (`src/data/<area>/scripts`,
 * copied to `lib/` at build), so the Jobs run exactly the files the tests run
 * and shellcheck checks.
 */
export function readScript(area: 'backup' | 'postgres' | 'redis', name: string): string {
  return fs.readFileSync(path.join(__dirname, area, 'scripts', name), 'utf8');
}

/** Path of a script on this machine (tests run it directly). */
export function scriptPath(area: 'backup' | 'postgres' | 'redis', name: string): string {
  return path.join(__dirname, area, 'scripts', name);
}

/** Labels every pod of a data-tier instance carries. */
export function podLabels(component: string, instance: string, name: string): { [key: string]: string } {
  return {
    [Components.LABEL]: component,
    [Components.PART_OF_LABEL]: Components.PART_OF,
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': instance,
  };
}

/** Selector of every pod of an instance (servers and their jobs). */
export function instanceSelector(component: string, instance: string): { [key: string]: string } {
  return { [Components.LABEL]: component, 'app.kubernetes.io/instance': instance };
}

export function resources(r: Resources): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(r.cpuRequest), memory: k8s.Quantity.fromString(r.memoryRequest) },
    limits: { cpu: k8s.Quantity.fromString(r.cpuLimit), memory: k8s.Quantity.fromString(r.memoryLimit) },
  };
}

/** `overrides` deep-merged over the workload's `defaults`, checked, and requests within limits. */
export function checkedResources(prop: string, overrides: ResourceSettings | undefined, defaults: Resources): Resources {
  const r = validateResources(prop, overrides, defaults);
  if (parseQuantity(r.memoryRequest) > parseQuantity(r.memoryLimit)) {
    throw new Error(`Invalid ${prop}.memoryRequest: "${r.memoryRequest}". Expected at most ${prop}.memoryLimit (${r.memoryLimit}).`);
  }
  if (parseQuantity(r.cpuRequest) > parseQuantity(r.cpuLimit)) {
    throw new Error(`Invalid ${prop}.cpuRequest: "${r.cpuRequest}". Expected at most ${prop}.cpuLimit (${r.cpuLimit}).`);
  }
  return r;
}

export function checkedImage(prop: string, image: string): string {
  // Data stores and jobs always pin: a moving tag can change the on-disk format.
  return validateImage(prop, image, true);
}

export function checkedStorage(prop: string, size: string): string {
  validateMemory(prop, size);
  if (parseQuantity(size) <= 0) throw new Error(`Invalid ${prop}: "${size}". Expected a positive size such as '20Gi'.`);
  return size;
}

export const podSecurityContext = (): k8s.PodSecurityContext => restrictedPodSecurityContext(DATA_UID);
export const containerSecurityContext = (): k8s.SecurityContext => restrictedContainerSecurityContext(DATA_UID);

/** A writable scratch directory on a read-only root filesystem. */
export function emptyDir(name: string, sizeLimit: string, medium?: string): k8s.Volume {
  return { name, emptyDir: { sizeLimit: k8s.Quantity.fromString(sizeLimit), medium } };
}

export function tcpPort(port: number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) };
}

/**
 * The ingress rule admitting the client components on `port`, or none without
 * clients (an `In` expression with no values is invalid). Clients in another
 * namespace than the server's are selected in theirs: a bare podSelector only
 * matches pods of the policy's own namespace.
 */
export function clientIngress(
  components: string[], port: number, clientNamespace: string | undefined, serverNamespace: string | undefined,
): k8s.NetworkPolicyIngressRule[] {
  if (components.length === 0) return [];
  const podSelector = { matchExpressions: [{ key: Components.LABEL, operator: 'In', values: components }] };
  const elsewhere = clientNamespace !== undefined && clientNamespace !== serverNamespace;
  const peer = elsewhere ? { ...namespacePeer(clientNamespace), podSelector } : { podSelector };
  return [{ from: [peer], ports: [tcpPort(port)] }];
}

/**
 * DNS for pods whose NetworkPolicy restricts egress: the constructs stay
 * usable without the platform's namespace-wide DNS policy.
 */
export const dnsEgress = dnsEgressRule;

export function secretEnv(name: string, secretName: string, key: string): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

export function execProbe(command: string[], periodSeconds: number, failureThreshold: number, timeoutSeconds = 5): k8s.Probe {
  return { exec: { command }, periodSeconds, failureThreshold, timeoutSeconds };
}

/** Soft anti-affinity: spread an instance's pods over nodes when the cluster can. */
export function spreadOverNodes(selector: { [key: string]: string }): k8s.Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [{
        weight: 100,
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } },
      }],
    },
  };
}

/** Zone spread that never blocks scheduling (single-zone clusters included). */
export function zoneSpread(selector: { [key: string]: string }): k8s.TopologySpreadConstraint[] {
  return [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } }];
}

/** `<service>` in the chart's namespace, fully qualified when the namespace is known. */
export function serviceHost(scope: Construct, service: string, namespace?: string): string {
  const ns = namespace ?? Chart.of(scope).namespace;
  return ns ? `${service}.${ns}.svc.cluster.local` : service;
}

export function namespaceOf(scope: Construct, namespace?: string): string | undefined {
  return namespace ?? Chart.of(scope).namespace;
}

/** The props of a data-tier server that say where it runs, who may connect and who scrapes it. */
export interface ServerAccessProps {
  readonly namespace?: string;
  readonly clientComponents?: string[];
  readonly clientNamespace?: string;
  readonly monitoringNamespace?: string;
}

/** {@link ServerAccessProps} checked, with the defaults every server documents filled in. */
export interface ServerAccess {
  /** The server's namespace: the prop, else the chart's. */
  readonly namespace?: string;
  /** The prop, else the platform's two backends. */
  readonly clientComponents: string[];
  /** The prop, else `monitoring`. */
  readonly monitoringNamespace: string;
}

export function checkedServerAccess(scope: Construct, props: ServerAccessProps): ServerAccess {
  const clientComponents = (props.clientComponents ?? [Components.BACKEND_GO, Components.BACKEND_PYTHON])
    .map((c, i) => validateDnsLabel(`clientComponents[${i}]`, c));
  const monitoringNamespace = validateDnsLabel('monitoringNamespace', props.monitoringNamespace ?? 'monitoring');
  const namespace = namespaceOf(scope, props.namespace);
  if (namespace !== undefined) validateDnsLabel('namespace', namespace);
  if (props.clientNamespace !== undefined) validateDnsLabel('clientNamespace', props.clientNamespace);
  return { namespace, clientComponents, monitoringNamespace };
}

/**
 * The credentials Secret of a server: `existingSecret`, else
 * `<name>-credentials`, which `generateCredentials` emits (never both).
 */
export function credentialsSecretName(props: { readonly existingSecret?: string; readonly generateCredentials?: boolean }, name: string): string {
  if (props.generateCredentials && props.existingSecret) {
    throw new PropValidationError('generateCredentials', true, 'false when existingSecret is set (the Secret is either generated or existing)');
  }
  return validateDnsSubdomain('existingSecret', props.existingSecret ?? `${name}-credentials`);
}

export function validatePgIdentifier(prop: string, value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
    throw new PropValidationError(prop, value, 'a lower-case PostgreSQL identifier: letters, digits and _, starting with a letter or _, at most 63 characters');
  }
  return value;
}

/** Resources of each step of the backup and restore jobs; within the platform LimitRange. */
export const JOB_STEP_RESOURCES: Resources = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' };
