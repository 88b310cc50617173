// Everything a command handler needs to know about the call, computed once in main.ts.
import type { NetConf } from './config.js';
import type { CniEnv } from './env.js';
import type { Workload } from './handle.js';

/** One plugin call: environment, network config, node and workload. */
export interface CallContext {
  readonly env: CniEnv;
  readonly conf: NetConf;
  readonly processEnv: NodeJS.ProcessEnv;
  readonly node: string;
  readonly workload: Workload;
  /** `<network>.<containerID>` */
  readonly handleId: string;
}
