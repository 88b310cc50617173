// Everything a command handler needs to know about the call, computed once in skel.ts.
import type { DatastoreConfig } from '../datastore/config-types.js';
import type { NetConf } from './config.js';
import type { CniEnv } from './env.js';
import type { Workload } from './handle.js';
import type { Session } from './session.js';

/**
 * Where a call's store and engine come from when not from the datastore config itself: the node
 * agent runs the plugin's commands over its own cache (src/cni/in-agent.ts).
 */
export type SessionSource = (ctx: CallContext, config: DatastoreConfig) => Promise<Session>;

/** One plugin call: environment, network config, node and workload. */
export interface CallContext {
  readonly env: CniEnv;
  readonly conf: NetConf;
  readonly processEnv: NodeJS.ProcessEnv;
  readonly node: string;
  readonly workload: Workload;
  /** `<network>.<containerID>` */
  readonly handleId: string;
  /** Unset in the plugin process: the call opens the datastore its config names. */
  readonly sessionSource?: SessionSource;
}
