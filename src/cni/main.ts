// `cidrpool-ipam`: the CNI IPAM plugin's entry point. It reads the CNI_* environment and the
// network config, runs one command, and prints the result or a CNI error. Only what the
// command needs is loaded (every handler is a dynamic import): a pod start waits on this.
import { parseNetConf } from './config.js';
import type { CallContext } from './context.js';
import { parseCniEnv, readCommand } from './env.js';
import { formatCniError } from './error-output.js';
import { handleIdOf, identifyWorkload } from './handle.js';
import { resolveNodeName } from './nodename.js';
import { packageVersion, readStdin, writeStdout } from './process-io.js';
import {
  checkCommandAllowed,
  checkVersion,
  formatVersionInfo,
  SUPPORTED_VERSIONS,
} from './versions.js';

/** What one call produced: text for stdout and the exit code. */
export interface CallOutcome {
  readonly stdout: string;
  readonly exitCode: number;
}

/** What the Go skel prints to stderr when CNI_COMMAND is not set (calico-ipam: "Calico CNI IPAM"). */
function aboutText(): string {
  return `cidrpool CNI IPAM ${packageVersion()}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`;
}

/**
 * Run one plugin call with `processEnv` and the network config text `stdin`; never throws.
 * Exit code 0 with the result (ADD) or nothing (DEL, CHECK, STATUS, GC); 1 with a CNI error.
 */
export async function runCall(
  processEnv: NodeJS.ProcessEnv,
  stdin: () => string,
): Promise<CallOutcome> {
  try {
    const command = readCommand(processEnv);
    if (command === 'VERSION') return { stdout: formatVersionInfo(), exitCode: 0 };
    const env = parseCniEnv(processEnv);
    const conf = parseNetConf(stdin());
    checkVersion(conf.cniVersion);
    checkCommandAllowed(command, conf.cniVersion);
    const node = resolveNodeName(conf);
    if (command === 'STATUS' || command === 'GC') {
      const { runStatus, runGc } = await import('./cmd-status-gc.js');
      if (command === 'STATUS') await runStatus(conf, processEnv);
      else await runGc(conf, processEnv, node);
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
    };
    if (command === 'ADD') {
      const { runAdd } = await import('./cmd-add.js');
      return { stdout: await runAdd(ctx), exitCode: 0 };
    }
    if (command === 'DEL') {
      const { runDel } = await import('./cmd-del.js');
      await runDel(ctx);
      return { stdout: '', exitCode: 0 };
    }
    const { runCheck } = await import('./cmd-check.js');
    await runCheck(ctx);
    return { stdout: '', exitCode: 0 };
  } catch (err) {
    return { stdout: formatCniError(err), exitCode: 1 };
  }
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
