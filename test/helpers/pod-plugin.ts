// Running the real bin/cidrpool-cni the way a container runtime on a node does: inside the node's
// network namespace, with the pod's namespace as CNI_NETNS and bin/ (cidrpool-ipam) plus Debian's
// plugins in CNI_PATH. For any test that needs wired pods (the pod plugin's own tests, the node
// agent's multi-node tests).
import { fileURLToPath } from 'node:url';
import { execIn, NetnsScope, type ExecResult } from './netns.js';

/** The repository root (this file runs as dist/test/helpers/pod-plugin.js). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const POD_PLUGIN = `${ROOT}bin/cidrpool-cni`;

export interface PodPluginCall {
  /** ADD, DEL, CHECK, ... */
  readonly command: string;
  /** The node's namespace (a name under /run/netns): where the plugin runs. */
  readonly node: string;
  /** The pod's namespace (a name under /run/netns). */
  readonly pod: string;
  readonly containerId: string;
  /** The network config (JSON-encoded here). */
  readonly config: unknown;
  /** CNI_ARGS, e.g. `K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p` or `IP=10.0.0.7`. */
  readonly args?: string;
  readonly ifName?: string;
  /** Another plugin to run the same way (e.g. /usr/lib/cni/ptp, for comparison). */
  readonly program?: string;
}

/**
 * Run the pod plugin once, in a clean environment (no NODE_EXTRA_CA_CERTS); never throws for a
 * failed call (see code and stdout).
 */
export function runPodPlugin(call: PodPluginCall): Promise<ExecResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: NetnsScope.pathOf(call.pod),
    CNI_IFNAME: call.ifName ?? 'eth0',
    CNI_PATH: `${ROOT}bin:/usr/lib/cni`,
  };
  if (call.args !== undefined) env.CNI_ARGS = call.args;
  return execIn(call.node, call.program ?? POD_PLUGIN, [], {
    env,
    stdin: JSON.stringify(call.config),
    timeoutMs: 60_000,
  });
}
