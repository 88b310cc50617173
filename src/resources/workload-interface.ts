// The host-side interface name of a workload, as Calico's CNI plugin chooses it and writes it in
// WorkloadEndpoint `spec.interfaceName` (shared by the CLI's `ipam assign --pod` endpoints and the
// cidrpool-cni pod plugin, so both name a pod's veth alike).

/**
 * Calico's name for a Kubernetes pod: `cali` + the first 11 hex digits of sha1(`<namespace>.<pod>`)
 * (libcalico-go VethNameForWorkload with the default FELIX_INTERFACEPREFIX).
 */
export function hostInterfaceName(namespace: string, pod: string): string {
  // Loaded on first use: the CNI plugins pay at start-up for every module they load.
  const { createHash } = process.getBuiltinModule('node:crypto');
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

/**
 * The name for any workload: the pod's name above for orchestrator `k8s`; otherwise, as Calico's
 * plugin does for plain CNI containers, `cali` + the first 11 characters of the container ID.
 */
export function hostInterfaceNameOf(workload: {
  readonly orchestrator: string;
  readonly namespace: string;
  readonly pod?: string;
  readonly containerId: string;
}): string {
  return workload.orchestrator === 'k8s' && workload.pod
    ? hostInterfaceName(workload.namespace, workload.pod)
    : `cali${workload.containerId.slice(0, 11)}`;
}
