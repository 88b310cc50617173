// One plugin call from environment and stdin to stdout and exit code, shared by cidrpool-ipam
// and cidrpool-cni (the Go skel's PluginMain): read and check CNI_* and the network config, work
// out the node and the workload once, hand the command to the plugin's handler, and turn any
// error into the CNI error JSON.
import { parseNetConf, type NetConf } from './config.js';
import type { CallContext, SessionSource } from './context.js';
import { parseCniEnv, readCommand } from './env.js';
import { formatCniError } from './error-output.js';
import { handleIdOf, identifyWorkload } from './handle.js';
import { resolveNodeName } from './nodename.js';
import { checkCommandAllowed, checkVersion, formatVersionInfo } from './versions.js';

/** What one call produced: text for stdout and the exit code. */
export interface CallOutcome {
  readonly stdout: string;
  readonly exitCode: number;
}

/** A plugin's commands; `stdin` is the network config text as given. */
export interface PluginHandlers {
  /** Returns the result text. */
  add(ctx: CallContext, stdin: string): Promise<string>;
  del(ctx: CallContext, stdin: string): Promise<void>;
  check(ctx: CallContext, stdin: string): Promise<void>;
  status(conf: NetConf, processEnv: NodeJS.ProcessEnv, stdin: string): Promise<void>;
  gc(conf: NetConf, processEnv: NodeJS.ProcessEnv, node: string, stdin: string): Promise<void>;
}

/**
 * Run one call with `processEnv` and the network config text `stdin`; never throws. Exit code 0
 * with the result (ADD) or nothing (DEL, CHECK, STATUS, GC); 1 with a CNI error on stdout.
 * `sessionSource` (the node agent's) replaces opening the datastore of the config.
 */
export async function runPluginCall(
  processEnv: NodeJS.ProcessEnv,
  stdin: () => string,
  handlers: PluginHandlers,
  sessionSource?: SessionSource,
): Promise<CallOutcome> {
  try {
    const command = readCommand(processEnv);
    if (command === 'VERSION') return { stdout: formatVersionInfo(), exitCode: 0 };
    const env = parseCniEnv(processEnv);
    const text = stdin();
    const conf = parseNetConf(text);
    checkVersion(conf.cniVersion);
    checkCommandAllowed(command, conf.cniVersion);
    const node = resolveNodeName(conf);
    if (command === 'STATUS') {
      await handlers.status(conf, processEnv, text);
      return { stdout: '', exitCode: 0 };
    }
    if (command === 'GC') {
      await handlers.gc(conf, processEnv, node, text);
      return { stdout: '', exitCode: 0 };
    }
    const workload = identifyWorkload(env, processEnv);
    const ctx: CallContext = {
      env,
      conf,
      processEnv,
      node,
      workload,
      handleId: handleIdOf(conf.name, env.containerId),
      sessionSource,
    };
    if (command === 'ADD') return { stdout: await handlers.add(ctx, text), exitCode: 0 };
    if (command === 'DEL') await handlers.del(ctx, text);
    else await handlers.check(ctx, text);
    return { stdout: '', exitCode: 0 };
  } catch (err) {
    return { stdout: formatCniError(err), exitCode: 1 };
  }
}
