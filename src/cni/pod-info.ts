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
 * Read the namespace when `kubernetes.kubeconfig` or `policy.type: k8s` is set (for
 * namespaceSelector; calico-ipam does so for plain CNI containers too, in their namespace
 * `default`), and with `policy.type: k8s` also the pod of a Kubernetes workload (for its
 * annotations), like Calico. Configs without Kubernetes settings read nothing. The Kubernetes
 * modules are loaded only here. Throws CNI_KUBE_CONFIG, CNI_KUBE_UNAVAILABLE (retryable) or
 * CNI_KUBE_API (also for a pod or namespace that does not exist, as Calico fails then).
 */
export async function readPodInfo(ctx: CallContext): Promise<PodInfo> {
  const { conf, workload } = ctx;
  const wantNamespace = conf.policyK8s || conf.kube.kubeconfig !== undefined;
  if (!wantNamespace) return NOTHING;
  const [{ resolveKubeConnection }, { getPod, getNamespace }] = await Promise.all([
    import('./kube/connection.js'),
    import('./kube/api-reader.js'),
  ]);
  const conn = await resolveKubeConnection(conf.kube);
  const isPod = workload.orchestrator === 'k8s';
  const [pod, ns] = await Promise.all([
    conf.policyK8s && isPod ? getPod(conn, workload.namespace, workload.pod!) : undefined,
    getNamespace(conn, workload.namespace),
  ]);
  return {
    podLabels: pod?.labels,
    podAnnotations: pod?.annotations ?? {},
    // Calico's main plugin reads annotations for pods only.
    namespaceAnnotations: conf.policyK8s && isPod ? (ns.annotations ?? {}) : {},
    namespace: { name: workload.namespace, labels: ns.labels ?? {} },
  };
}
