// `cidrpool-ipam`: the CNI IPAM plugin's entry point. It reads the CNI_* environment and the
// network config, runs one command, and prints the result or a CNI error. Only what the
// command needs is loaded (every handler is a dynamic import): a pod start waits on this.
import { packageVersion, readStdin, writeStdout } from './process-io.js';
import { runPluginCall, type CallOutcome, type PluginHandlers } from './skel.js';
import { SUPPORTED_VERSIONS } from './versions.js';

/** What the Go skel prints to stderr when CNI_COMMAND is not set (calico-ipam: "Calico CNI IPAM"). */
function aboutText(): string {
  return `cidrpool CNI IPAM ${packageVersion()}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`;
}

/** Each command's module is loaded only when the call is that command. */
const handlers: PluginHandlers = {
  add: async (ctx) => (await import('./cmd-add.js')).runAdd(ctx),
  del: async (ctx) => (await import('./cmd-del.js')).runDel(ctx),
  check: async (ctx) => (await import('./cmd-check.js')).runCheck(ctx),
  status: async (conf, processEnv) =>
    (await import('./cmd-status-gc.js')).runStatus(conf, processEnv),
  gc: async (conf, processEnv, node) => {
    await (await import('./cmd-status-gc.js')).runGc(conf, processEnv, node);
  },
};

/**
 * Run one plugin call with `processEnv` and the network config text `stdin`; never throws.
 * Exit code 0 with the result (ADD) or nothing (DEL, CHECK, STATUS, GC); 1 with a CNI error.
 */
export function runCall(processEnv: NodeJS.ProcessEnv, stdin: () => string): Promise<CallOutcome> {
  return runPluginCall(processEnv, stdin, handlers);
}

/** The process entry point (bin/cidrpool-ipam). */
export async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // calico-ipam's -v prints the bare version to stdout (Go's flag package also takes --v).
  if (args.includes('-v') || args.includes('--v') || args.includes('--version')) {
    process.stdout.write(`${packageVersion()}\n`);
    process.exitCode = 0;
    return;
  }
  if (args.includes('-upgrade') || args.includes('--upgrade')) {
    // calico-ipam migrates host-local allocations here; saying nothing would look like success.
    process.stderr.write(
      'cidrpool-ipam: -upgrade (migrating host-local allocations to Calico IPAM) is not implemented; assign the existing addresses with `cidrpool ipam assign` or CNI_ARGS IP=<addr>\n',
    );
    process.exitCode = 1;
    return;
  }
  if (!process.env.CNI_COMMAND) {
    process.stderr.write(aboutText());
    process.exitCode = 0;
    return;
  }
  const outcome = await runCall(process.env, readStdin);
  // Exit at once: an etcd client may keep sockets open, and the runtime is waiting on us.
  writeStdout(outcome.stdout, () => process.exit(outcome.exitCode));
}
