// `cidrpool-cni`: the pod plugin's entry point (CNI type `cidrpool-cni`), wiring pods as Calico's
// `calico` plugin does. Environment, config, version and error handling are the IPAM plugin's
// (../env.ts, ../config.ts, ../versions.ts, ../error-output.ts); the commands live here.
import { parseNetConf } from '../config.js';
import type { CallContext } from '../context.js';
import { parseCniEnv, readCommand } from '../env.js';
import { formatCniError } from '../error-output.js';
import { handleIdOf, identifyWorkload } from '../handle.js';
import type { CallOutcome } from '../main.js';
import { resolveNodeName } from '../nodename.js';
import { packageVersion, readStdin, writeStdout } from '../process-io.js';
import {
  checkCommandAllowed,
  checkVersion,
  formatVersionInfo,
  SUPPORTED_VERSIONS,
} from '../versions.js';
import { execIpam } from './ipam-delegate.js';

/**
 * Run one call with `processEnv` and the network config text `stdin`; never throws. Exit code 0
 * with the result (ADD) or nothing; 1 with a CNI error on stdout.
 */
export async function runPodCall(
  processEnv: NodeJS.ProcessEnv,
  stdin: () => string,
): Promise<CallOutcome> {
  try {
    const command = readCommand(processEnv);
    if (command === 'VERSION') return { stdout: formatVersionInfo(), exitCode: 0 };
    const env = parseCniEnv(processEnv);
    const text = stdin();
    const conf = parseNetConf(text);
    checkVersion(conf.cniVersion);
    checkCommandAllowed(command, conf.cniVersion);
    if (command === 'STATUS' || command === 'GC') {
      // Nothing of our own to report or collect: the IPAM plugin holds the state (CNI 1.1).
      await execIpam(command, conf.ipam.type, processEnv, text);
      return { stdout: '', exitCode: 0 };
    }
    const node = resolveNodeName(conf);
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
      const { runPodAdd } = await import('./cmd-add.js');
      return { stdout: await runPodAdd(ctx, text), exitCode: 0 };
    }
    if (command === 'DEL') {
      const { runPodDel } = await import('./cmd-del.js');
      await runPodDel(ctx, text);
      return { stdout: '', exitCode: 0 };
    }
    const { runPodCheck } = await import('./cmd-check.js');
    await runPodCheck(ctx, text);
    return { stdout: '', exitCode: 0 };
  } catch (err) {
    return { stdout: formatCniError(err), exitCode: 1 };
  }
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
