import type { ErrorSpec } from '../types.js';

/**
 * Error codes raised by src/cni (the `cidrpool-ipam` plugin). Every code starts with CNI_.
 *
 * cniCode follows the CNI spec's well-known codes where one fits (1 incompatible version,
 * 4 invalid environment, 6 decoding, 7 invalid network config, 11 try again later); codes of
 * our own are >= 100.
 */
export const CNI_CODES = {
  CNI_INCOMPATIBLE_VERSION: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 1,
    summary:
      'The cniVersion is not one the plugin supports, or the command is not allowed for that version (CHECK before 0.4.0).',
  },
  CNI_INVALID_ENV: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 4,
    summary:
      'A required CNI_* environment variable is missing or malformed (CNI_COMMAND, CNI_CONTAINERID, CNI_IFNAME, CNI_ARGS).',
  },
  CNI_DECODE: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 6,
    summary: 'The network configuration on stdin is not a JSON object.',
  },
  CNI_INVALID_CONFIG: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'A network configuration key has a wrong type or value (e.g. ipam.assign_ipv4 given as a JSON boolean).',
  },
  CNI_KUBE_CONFIG: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 7,
    summary:
      'The Kubernetes connection settings (kubernetes.kubeconfig, k8s_api_root, tokens, certificates) cannot be used.',
  },
  CNI_KUBE_UNAVAILABLE: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary: 'The Kubernetes API server could not be reached or did not answer in time.',
  },
  CNI_KUBE_API: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'The Kubernetes API answered a pod or namespace read with an error status (e.g. 403, or 404 for the pod).',
  },
  CNI_BAD_ANNOTATION: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'A cni.projectcalico.org annotation (ipv4pools, ipv6pools, ipFamilies, ipAddrs) on the pod or namespace is malformed.',
  },
  CNI_ASSIGN_FAILED: {
    category: 'exhausted',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'Fewer addresses than requested could be assigned (pool full, block limit, strict affinity); nothing is kept.',
  },
  CNI_CHECK_FAILED: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'CHECK found that the addresses held under the handle differ from the prevResult, or that none are held.',
  },
  CNI_LOCK_TIMEOUT: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 11,
    summary:
      'The per-node IPAM lock file stayed held by a live process for longer than the wait limit.',
  },
  CNI_IPAM_PLUGIN_NOT_FOUND: {
    category: 'validation',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'cidrpool-cni: the IPAM plugin named in ipam.type is not an executable file in any folder of CNI_PATH.',
  },
  CNI_IPAM_PLUGIN_FAILED: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      "cidrpool-cni: the delegated IPAM plugin failed; its CNI error (code, msg, details) is passed on as the plugin's own.",
  },
  CNI_IPAM_RESULT_INVALID: {
    category: 'internal',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'cidrpool-cni: the IPAM plugin exited 0 but printed no usable result (not JSON, or no IP addresses).',
  },
  CNI_ALREADY_ADDED: {
    category: 'conflict',
    retryable: false,
    exitCode: 1,
    cniCode: 999,
    summary:
      'cidrpool-cni: ADD for a container and interface that already have a WorkloadEndpoint (ADD twice without DEL); nothing is changed.',
  },
  CNI_NOT_READY: {
    category: 'unavailable',
    retryable: true,
    exitCode: 1,
    cniCode: 50,
    summary: 'STATUS: the datastore cannot be used, so the plugin cannot serve ADD.',
  },
} as const satisfies Record<string, ErrorSpec>;
