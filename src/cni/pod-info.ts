// What the Kubernetes API says about the pod: annotations and labels of the pod and namespace.
import type { NamespaceInfo } from '../ipam/types.js';
import type { CallContext } from './context.js';

/** Pod and namespace metadata, as far as it was read. */
export interface PodInfo {
  readonly podLabels?: Readonly<Record<string, string>>;
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly namespaceAnnotations: Readonly<Record<string, string>>;
  /** For namespaceSelector; undefined when the namespace was not read. */
  readonly namespace?: NamespaceInfo;
}

const NOTHING: PodInfo = { podAnnotations: {}, namespaceAnnotations: {} };

/**
 * Read the pod (with `policy.type: k8s`, for its annotations) and its namespace (also when only
 * `kubernetes.kubeconfig` is set, for namespaceSelector), like Calico. Plain CNI containers and
 * configs without Kubernetes settings read nothing. The Kubernetes modules are loaded only here.
 * Throws CNI_KUBE_CONFIG, CNI_KUBE_UNAVAILABLE (retryable) or CNI_KUBE_API.
 */
export async function readPodInfo(ctx: CallContext): Promise<PodInfo> {
  const { conf, workload } = ctx;
  const wantNamespace = conf.policyK8s || conf.kube.kubeconfig !== undefined;
  if (workload.orchestrator !== 'k8s' || !wantNamespace) return NOTHING;
  const [{ resolveKubeConnection }, { getPod, findNamespace }] = await Promise.all([
    import('./kube/connection.js'),
    import('./kube/api-reader.js'),
  ]);
  const conn = await resolveKubeConnection(conf.kube);
  const [pod, ns] = await Promise.all([
    conf.policyK8s ? getPod(conn, workload.namespace, workload.pod!) : undefined,
    findNamespace(conn, workload.namespace),
  ]);
  return {
    podLabels: pod?.labels,
    podAnnotations: pod?.annotations ?? {},
    namespaceAnnotations: conf.policyK8s ? (ns?.annotations ?? {}) : {},
    namespace: { name: workload.namespace, labels: ns?.labels ?? {} },
  };
}
