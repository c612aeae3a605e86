import { DECODED_TARGET, LOG_FIELDS } from './log-fields';
import { Components } from '../conventions';

/** Inputs of {@link collectorConfig}. */
export interface CollectorConfigOptions {
  /** Environment written into `service.environment` when a line does not carry one. */
  readonly environment: string;
  /** Name of the index lifecycle policy the data stream's template points at. */
  readonly lifecyclePolicy: string;
  /** Replicas per shard of new indices (0 on a single node, where a replica could never be assigned). */
  readonly indexReplicas: number;
}

/** Host directories the collector reads: the kubelet's symlinks and the files they point at. */
export const CONTAINER_LOG_DIRS = ['/var/log/containers', '/var/log/pods'];

// add_kubernetes_metadata replaces the dots of label keys ("dedot").
const PART_OF_FIELD = `kubernetes.labels.${Components.PART_OF_LABEL.replace(/\./g, '_')}`;

/**
 * Filebeat's configuration, as data: container logs from the node, Kubernetes
 * metadata, and for the platform's pods the JSON line decoded and its keys
 * renamed by {@link LOG_FIELDS}. A line that is not a JSON object stays as it
 * was, a plain `message` (decode_json_fields leaves it alone when
 * `add_error_key` is off). The output and its credentials come from ECK
 * (`elasticsearchRef`).
 */
export function collectorConfig(options: CollectorConfigOptions): { [key: string]: any } {
  const platform = { equals: { [PART_OF_FIELD]: Components.PART_OF } };
  const decoded = (key: string) => `${DECODED_TARGET}.${key}`;
  return {
    'filebeat.inputs': [{
      'type': 'filestream',
      'id': 'kubernetes-container-logs',
      'paths': [`${CONTAINER_LOG_DIRS[0]}/*.log`],
      'prospector.scanner.symlinks': true,
      // CRI and Docker json-file framing: the log line becomes `message`, the stream a field.
      'parsers': [{ container: { stream: 'all', format: 'auto' } }],
      'processors': [{
        add_kubernetes_metadata: {
          host: '${NODE_NAME}',
          matchers: [{ logs_path: { logs_path: `${CONTAINER_LOG_DIRS[0]}/` } }],
        },
      }],
    }],
    'processors': [
      {
        decode_json_fields: {
          fields: ['message'],
          target: DECODED_TARGET,
          // Only the line itself: a message that happens to be JSON text stays text.
          max_depth: 1,
          overwrite_keys: false,
          add_error_key: false,
          when: { and: [platform, { regexp: { message: '^\\{' } }] },
        },
      },
      // The raw line is kept as event.original once its JSON has been decoded into fields.
      {
        rename: {
          fields: [{ from: 'message', to: 'event.original' }],
          ignore_missing: true,
          fail_on_error: false,
          when: { or: [{ has_fields: [decoded('msg')] }, { has_fields: [decoded('message')] }] },
        },
      },
      {
        rename: {
          fields: LOG_FIELDS.map(f => ({ from: decoded(f.key), to: f.field })),
          ignore_missing: true,
          fail_on_error: false,
        },
      },
      {
        add_fields: {
          target: '',
          fields: { 'service.environment': options.environment },
          when: { and: [platform, { not: { has_fields: ['service.environment'] } }] },
        },
      },
    ],
    'setup.ilm.enabled': true,
    'setup.ilm.policy_name': options.lifecyclePolicy,
    // The lifecycle Job owns the policy; Filebeat must not put its default back.
    'setup.ilm.overwrite': false,
    'setup.ilm.check_exists': true,
    'setup.template.settings': { 'index.number_of_replicas': options.indexReplicas },
    'monitoring.enabled': false,
  };
}
