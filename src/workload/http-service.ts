import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Components, Durations, RuntimeDefaults, ServiceConventions } from '../conventions';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, NON_ROOT_ID } from './security';
import {
  AutoscalingSettings, DEFAULT_RESOURCES, HttpServiceSettings, Resources, DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP,
  ScalingBehavior, validateAutoscaling, validateResources,
} from './settings';
import { PropValidationError, validateDnsLabel, validateHttpPath, validateImage, validateInteger, validateOneOf } from '../core/validate';

const GRACE_ENV = 'TERMINATION_GRACE_PERIOD';
const DRAIN_ENV = 'SHUTDOWN_DRAIN_DELAY';

/** An environment variable read from a key of a Secret. */
export interface SecretEnvVar {
  /** Variable name inside the container. */
  readonly name: string;
  /** Secret holding the value. */
  readonly secretName: string;
  /** Key of the value inside the Secret. */
  readonly key: string;
}

/** HTTP paths Kubernetes checks a service's health on. */
export interface HttpProbes {
  /**
   * Liveness (and startup) path: the process is alive.
   * @default ServiceConventions.LIVENESS_PATH
   */
  readonly livenessPath?: string;
  /**
   * Readiness path: the dependencies answer.
   * @default ServiceConventions.READINESS_PATH
   */
  readonly readinessPath?: string;
}

export interface HttpServiceProps extends HttpServiceSettings {
  /** Object name; a DNS-1123 label. */
  readonly name: string;
  /** Value of the `app.kubernetes.io/component` label that NetworkPolicies select on, e.g. `Components.BACKEND_GO`. */
  readonly component: string;
  /** Container image with a version tag or digest, e.g. `ghcr.io/rauli-vision/backend:1.4.2`. */
  readonly image: string;
  /**
   * Refuse untagged and `:latest` images. Presets turn it on for staging and production.
   * @default true
   */
  readonly strictImages?: boolean;
  /**
   * Port the application listens on.
   * @default ServiceConventions.HTTP_PORT
   */
  readonly port?: number;
  /**
   * Port the Service exposes for HTTP.
   * @default HttpService.DEFAULT_SERVICE_PORT (80)
   */
  readonly servicePort?: number;
  /**
   * Expose the Prometheus metrics port (named `ServiceConventions.METRICS_PORT_NAME`).
   * @default true
   */
  readonly metrics?: boolean;
  /**
   * Port of the metrics server inside the container (and on the Service).
   * @default ServiceConventions.METRICS_PORT
   */
  readonly metricsPort?: number;
  /**
   * HTTP paths of the health checks.
   * @default - `ServiceConventions.LIVENESS_PATH` and `ServiceConventions.READINESS_PATH`
   */
  readonly probes?: HttpProbes;
  /**
   * ConfigMap whose keys become environment variables (envFrom).
   * @default - none
   */
  readonly configMapName?: string;
  /**
   * Environment variables read from Secrets; values never appear in the manifest.
   * @default - none
   */
  readonly secretEnv?: SecretEnvVar[];
  /**
   * Plain environment variables.
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * Pull policy. Pinned images make `IfNotPresent` safe and spare the registry.
   * @default 'IfNotPresent'
   */
  readonly imagePullPolicy?: string;
  /**
   * Seconds Kubernetes waits after SIGTERM; the Koa package drains and exits before it.
   * @default RuntimeDefaults.TERMINATION_GRACE_SECONDS
   */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Extra labels for every object of this service.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}


/** HttpServiceProps after validation, with every default applied. */
interface ResolvedHttpService {
  readonly image: string;
  readonly replicas: number;
  readonly autoscaling?: AutoscalingSettings;
  readonly resources: Resources;
  readonly port: number;
  readonly metricsPort?: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly minReadySeconds: number;
  readonly pullPolicy: string;
  readonly grace: number;
  readonly livenessPath: string;
  readonly readinessPath: string;
}

/**
 * One HTTP service: Deployment, Service, ServiceAccount, and where they make
 * sense a PodDisruptionBudget and a HorizontalPodAutoscaler. Secure by
 * default: Pod Security Standards `restricted`, no service-account token,
 * read-only root filesystem, pinned images.
 */
export class HttpService extends Construct {
  /** Port a Service exposes for HTTP unless `servicePort` says otherwise. */
  public static readonly DEFAULT_SERVICE_PORT = 80;

  /** Name shared by the Deployment, Service and ServiceAccount. */
  public readonly name: string;
  /** Value of the component label on every object of this service. */
  public readonly component: string;
  /** Labels the Service and the PodDisruptionBudget select pods by. */
  public readonly selector: { [key: string]: string };
  /** Labels on every pod (selector plus component and part-of). */
  public readonly podLabels: { [key: string]: string };
  /** The Deployment, for escape hatches. */
  public readonly deployment: k8s.KubeDeployment;
  /** The Service. */
  public readonly service: k8s.KubeService;
  /** The HorizontalPodAutoscaler, when autoscaling is set. */
  public readonly autoscaler?: k8s.KubeHorizontalPodAutoscalerV2;
  /** The PodDisruptionBudget, when more than one replica runs. */
  public readonly disruptionBudget?: k8s.KubePodDisruptionBudget;
  /** Port the Service exposes for HTTP. */
  public readonly servicePort: number;
  /** Port the application container listens on (what NetworkPolicies open). */
  public readonly containerPort: number;
  /** Port of the metrics server, when metrics are exposed. */
  public readonly metricsPort?: number;
  /** Most replicas this service runs: the autoscaler's maximum, or the fixed count. */
  public readonly maxReplicas: number;

  private readonly labels: { [key: string]: string };

  constructor(scope: Construct, id: string, props: HttpServiceProps) {
    super(scope, id);
    this.name = validateDnsLabel('name', props.name);
    this.component = validateDnsLabel('component', props.component);
    const r = resolveProps(props);
    this.servicePort = validateInteger('servicePort', props.servicePort ?? HttpService.DEFAULT_SERVICE_PORT, 1, 65535);
    this.containerPort = r.port;
    this.metricsPort = r.metricsPort;
    this.maxReplicas = r.autoscaling ? r.autoscaling.maxReplicas : r.replicas;

    const instance = Chart.of(this).labels['app.kubernetes.io/instance'] ?? Components.PART_OF;
    this.selector = { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/instance': instance };
    this.labels = {
      ...props.labels,
      ...this.selector,
      [Components.LABEL]: this.component,
      [Components.PART_OF_LABEL]: Components.PART_OF,
      'app.kubernetes.io/managed-by': 'cdk8s',
    };
    this.podLabels = { ...this.labels, 'app.kubernetes.io/version': versionLabel(r.image) };

    this.addServiceAccount();
    this.deployment = this.addDeployment(r, props);
    this.service = this.addService(r);
    if (r.autoscaling) this.autoscaler = this.addAutoscaler(r.autoscaling);
    this.disruptionBudget = this.addDisruptionBudget(r.autoscaling ? r.autoscaling.minReplicas : r.replicas);
  }

  /** The in-cluster URL of this service's HTTP port. */
  public get url(): string {
    return `http://${this.name}:${this.servicePort}`;
  }

  private addServiceAccount(): k8s.KubeServiceAccount {
    return new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.name, labels: this.labels },
      automountServiceAccountToken: false,
    });
  }

  private addDeployment(r: ResolvedHttpService, props: HttpServiceProps): k8s.KubeDeployment {
    return new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name: this.name, labels: this.labels },
      spec: {
        // With an autoscaler the replica count belongs to it: a fixed value here
        // would be reset on every apply.
        replicas: r.autoscaling ? undefined : r.replicas,
        revisionHistoryLimit: 5,
        minReadySeconds: r.minReadySeconds,
        selector: { matchLabels: this.selector },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(r.maxSurge), maxUnavailable: k8s.IntOrString.fromNumber(r.maxUnavailable) },
        },
        template: {
          metadata: { labels: this.podLabels },
          spec: {
            serviceAccountName: this.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: r.grace,
            securityContext: restrictedPodSecurityContext(NON_ROOT_ID),
            topologySpreadConstraints: this.spreadConstraints(),
            containers: [this.container(r, props)],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }],
          },
        },
      },
    });
  }

  private spreadConstraints(): k8s.TopologySpreadConstraint[] {
    return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map(topologyKey => ({
      topologyKey,
      maxSkew: 1,
      // Soft: a lost zone or a small cluster must not block scheduling.
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: this.selector },
      matchLabelKeys: ['pod-template-hash'],
    }));
  }

  private container(r: ResolvedHttpService, props: HttpServiceProps): k8s.Container {
    const ports: k8s.ContainerPort[] = [{ name: ServiceConventions.HTTP_PORT_NAME, containerPort: r.port, protocol: 'TCP' }];
    if (r.metricsPort) ports.push({ name: ServiceConventions.METRICS_PORT_NAME, containerPort: r.metricsPort, protocol: 'TCP' });
    const env: k8s.EnvVar[] = [
      ...Object.entries(props.env ?? {}).map(([name, value]) => ({ name, value })),
      // The process reads the table's default when unset: write the grace period only where it differs.
      ...(r.grace !== RuntimeDefaults.TERMINATION_GRACE_SECONDS ? [{ name: GRACE_ENV, value: `${r.grace}s` }] : []),
      ...(props.secretEnv ?? []).map(s => ({ name: s.name, valueFrom: { secretKeyRef: { name: s.secretName, key: s.key } } })),
    ];
    const httpGet = (path: string) => ({ path, port: k8s.IntOrString.fromString(ServiceConventions.HTTP_PORT_NAME) });
    return {
      name: this.name,
      image: r.image,
      imagePullPolicy: r.pullPolicy,
      ports,
      envFrom: props.configMapName ? [{ configMapRef: { name: props.configMapName } }] : undefined,
      env: env.length ? env : undefined,
      resources: {
        requests: { cpu: k8s.Quantity.fromString(r.resources.cpuRequest), memory: k8s.Quantity.fromString(r.resources.memoryRequest) },
        limits: { cpu: k8s.Quantity.fromString(r.resources.cpuLimit), memory: k8s.Quantity.fromString(r.resources.memoryLimit) },
      },
      // Startup covers slow boots so liveness can stay strict afterwards.
      startupProbe: { httpGet: httpGet(r.livenessPath), periodSeconds: 2, failureThreshold: 30 },
      livenessProbe: { httpGet: httpGet(r.livenessPath), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      // Two failed checks (6 s) remove a draining pod from the endpoints
      // well inside the Koa package's drain delay.
      readinessProbe: { httpGet: httpGet(r.readinessPath), periodSeconds: 3, timeoutSeconds: 2, failureThreshold: 2 },
      securityContext: restrictedContainerSecurityContext(NON_ROOT_ID),
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    };
  }

  private addService(r: ResolvedHttpService): k8s.KubeService {
    const port = (name: string, number: number): k8s.ServicePort => ({
      name, port: number, targetPort: k8s.IntOrString.fromString(name), protocol: 'TCP',
    });
    const ports = [port(ServiceConventions.HTTP_PORT_NAME, this.servicePort)];
    if (r.metricsPort) ports.push(port(ServiceConventions.METRICS_PORT_NAME, r.metricsPort));
    return new k8s.KubeService(this, 'Service', {
      metadata: { name: this.name, labels: this.labels },
      spec: { type: 'ClusterIP', selector: this.selector, ports },
    });
  }

  private addAutoscaler(a: AutoscalingSettings): k8s.KubeHorizontalPodAutoscalerV2 {
    const utilization = (name: string, averageUtilization: number) => ({
      type: 'Resource', resource: { name, target: { type: 'Utilization', averageUtilization } },
    });
    const rules = (b: ScalingBehavior) => ({
      stabilizationWindowSeconds: b.stabilizationWindowSeconds,
      policies: [{ type: 'Percent', value: b.percent, periodSeconds: b.periodSeconds }],
    });
    return new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
      metadata: { name: this.name, labels: this.labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        metrics: [utilization('cpu', a.cpuUtilization ?? 70), utilization('memory', a.memoryUtilization ?? 80)],
        behavior: { scaleUp: rules(a.scaleUp ?? DEFAULT_SCALE_UP), scaleDown: rules(a.scaleDown ?? DEFAULT_SCALE_DOWN) },
      },
    });
  }

  /** Only where a voluntary eviction could otherwise take the last replica. */
  private addDisruptionBudget(guaranteedReplicas: number): k8s.KubePodDisruptionBudget | undefined {
    if (guaranteedReplicas <= 1) return undefined;
    return new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: this.name, labels: this.labels },
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: this.selector } },
    });
  }
}

/** Validates the props and applies the defaults. */
function resolveProps(props: HttpServiceProps): ResolvedHttpService {
  const maxSurge = validateInteger('maxSurge', props.maxSurge ?? 1, 0, 100);
  const maxUnavailable = validateInteger('maxUnavailable', props.maxUnavailable ?? 0, 0, 100);
  if (maxSurge === 0 && maxUnavailable === 0) {
    throw new Error('Invalid maxSurge/maxUnavailable: both are 0, so a rolling update could never make progress. Set one of them to at least 1.');
  }
  return {
    image: validateImage('image', props.image, props.strictImages ?? true),
    replicas: validateInteger('replicas', props.replicas ?? 1, 0, 1000),
    autoscaling: props.autoscaling ? validateAutoscaling('autoscaling', props.autoscaling) : undefined,
    resources: validateResources('resources', props.resources, DEFAULT_RESOURCES),
    port: validateInteger('port', props.port ?? ServiceConventions.HTTP_PORT, 1024, 65535),
    metricsPort: (props.metrics ?? true) ? validateInteger('metricsPort', props.metricsPort ?? ServiceConventions.METRICS_PORT, 1024, 65535) : undefined,
    maxSurge,
    maxUnavailable,
    minReadySeconds: validateInteger('minReadySeconds', props.minReadySeconds ?? 0, 0, 3600),
    pullPolicy: validateOneOf('imagePullPolicy', props.imagePullPolicy ?? 'IfNotPresent', ['IfNotPresent', 'Always', 'Never']),
    grace: validateGrace(props),
    livenessPath: validateHttpPath('probes.livenessPath', props.probes?.livenessPath ?? ServiceConventions.LIVENESS_PATH),
    readinessPath: validateHttpPath('probes.readinessPath', props.probes?.readinessPath ?? ServiceConventions.READINESS_PATH),
  };
}

/**
 * The pod's grace period, which the process learns as TERMINATION_GRACE_PERIOD:
 * it must outlive the drain delay, or Kubernetes kills the pod mid-drain.
 */
function validateGrace(props: HttpServiceProps): number {
  const grace = validateInteger('terminationGracePeriodSeconds', props.terminationGracePeriodSeconds ?? RuntimeDefaults.TERMINATION_GRACE_SECONDS, 1, 3600);
  if (props.env?.[GRACE_ENV] !== undefined) {
    throw new PropValidationError(`env.${GRACE_ENV}`, props.env[GRACE_ENV], 'no value: it follows terminationGracePeriodSeconds');
  }
  const drain = props.env?.[DRAIN_ENV];
  const drainSeconds = drain === undefined ? RuntimeDefaults.SHUTDOWN_DRAIN_SECONDS : Durations.parseMilliseconds(`env.${DRAIN_ENV}`, drain) / 1000;
  if (grace <= drainSeconds) {
    throw new PropValidationError('terminationGracePeriodSeconds', grace, `more seconds than the drain delay (${DRAIN_ENV}: ${drainSeconds} s), or the pod is killed mid-drain`);
  }
  return grace;
}

/** The image's tag (or the start of its digest) as a label value. */
function versionLabel(image: string): string {
  const tag = image.includes('@') ? image.split('@')[1].slice(0, 19) : image.split(':').pop()!;
  return tag.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63);
}
