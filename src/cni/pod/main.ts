// `cidrpool-cni`: the pod plugin's entry point (CNI type `cidrpool-cni`), wiring pods as Calico's
// `calico` plugin does. Environment, config, version and error handling are the IPAM plugin's
// (../env.ts, ../config.ts, ../versions.ts, ../error-output.ts); the commands live here.
import { packageVersion, readStdin, writeStdout } from '../process-io.js';
import { runPluginCall, type CallOutcome, type PluginHandlers } from '../skel.js';
import { SUPPORTED_VERSIONS } from '../versions.js';
import { execIpam } from './ipam-delegate.js';

/** ADD, DEL and CHECK load their modules on demand; STATUS and GC are the IPAM plugin's. */
const handlers: PluginHandlers = {
  add: async (ctx, stdin) => (await import('./cmd-add.js')).runPodAdd(ctx, stdin),
  del: async (ctx, stdin) => (await import('./cmd-del.js')).runPodDel(ctx, stdin),
  check: async (ctx, stdin) => (await import('./cmd-check.js')).runPodCheck(ctx, stdin),
  // Nothing of our own to report or collect: the IPAM plugin holds the state (CNI 1.1).
  status: async (conf, processEnv, stdin) => {
    await execIpam('STATUS', conf.ipam.type, processEnv, stdin);
  },
  gc: async (conf, processEnv, _node, stdin) => {
    await execIpam('GC', conf.ipam.type, processEnv, stdin);
  },
};

/**
 * Run one call with `processEnv` and the network config text `stdin`; never throws. Exit code 0
 * with the result (ADD) or nothing; 1 with a CNI error on stdout.
 */
export function runPodCall(
  processEnv: NodeJS.ProcessEnv,
  stdin: () => string,
): Promise<CallOutcome> {
  return runPluginCall(processEnv, stdin, handlers);
}

/** The process entry point (bin/cidrpool-cni). */
export async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('-v') || args.includes('--v') || args.includes('--version')) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (!process.env.CNI_COMMAND) {
    // What the Go skel prints without CNI_COMMAND (calico: "Calico CNI plugin <version>").
    process.stderr.write(
      `cidrpool CNI plugin ${packageVersion()}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`,
    );
    return;
  }
  const outcome = await runPodCall(process.env, readStdin);
  // Exit at once: an etcd client may keep sockets open, and the runtime is waiting on us.
  writeStdout(outcome.stdout, () => process.exit(outcome.exitCode));
}
