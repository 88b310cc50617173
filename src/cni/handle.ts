// The handle and attributes an allocation is recorded under (ipam-core.md §3.12).
import type { Workload } from '../client/workload-endpoint.js';
import type { CniEnv } from './env.js';

export type { Workload } from '../client/workload-endpoint.js';

/**
 * `K8S_POD_NAMESPACE` plus `K8S_POD_NAME` mean a Kubernetes pod; otherwise the orchestrator is
 * `cni` and the namespace `default` (or the test-only `CNI_TEST_NAMESPACE`, as in Calico).
 */
export function identifyWorkload(env: CniEnv, processEnv: NodeJS.ProcessEnv): Workload {
  const { podNamespace, podName } = env.args;
  if (podNamespace && podName) {
    return {
      orchestrator: 'k8s',
      namespace: podNamespace,
      pod: podName,
      containerId: env.containerId,
    };
  }
  return {
    orchestrator: 'cni',
    namespace: processEnv.CNI_TEST_NAMESPACE || 'default',
    containerId: env.containerId,
  };
}

/** `<network name>.<CNI_CONTAINERID>`, e.g. `k8s-pod-network.3f9c...`. */
export const handleIdOf = (network: string, containerId: string): string =>
  `${network}.${containerId}`;

/** The pre-v3 handle that DEL also releases: `<namespace>.<pod>` for k8s, else the container ID. */
export const legacyHandleIdOf = (workload: Workload): string =>
  workload.orchestrator === 'k8s' ? `${workload.namespace}.${workload.pod}` : workload.containerId;

/**
 * Go's `time.Time.String()` of a UTC time: `2026-01-02 03:04:05.123456789 +0000 UTC`, with
 * trailing zeros of the fraction dropped (and the `.` when the fraction is zero).
 */
export function formatGoTime(epochNanos: bigint): string {
  const ms = Number(epochNanos / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.123Z
  const fraction = (epochNanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''} +0000 UTC`;
}

/** The allocation attributes Calico's CNI plugin stores: node, timestamp, and pod/namespace. */
export function buildAttributes(
  workload: Workload,
  node: string,
  epochNanos: bigint,
): Record<string, string> {
  const attrs: Record<string, string> = { node, timestamp: formatGoTime(epochNanos) };
  if (workload.orchestrator === 'k8s') {
    attrs.namespace = workload.namespace;
    attrs.pod = workload.pod!;
  }
  return attrs;
}
