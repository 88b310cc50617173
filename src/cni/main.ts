// `cidrpool-ipam`: the CNI IPAM plugin's entry point. It reads the CNI_* environment and the
// network config, runs one command, and prints the result or a CNI error. Only what the
// command needs is loaded (every handler is a dynamic import): a pod start waits on this.
import { readFileSync, writeSync } from 'node:fs';
import { parseNetConf } from './config.js';
import type { CallContext } from './context.js';
import { parseCniEnv, readCommand } from './env.js';
import { formatCniError } from './error-output.js';
import { handleIdOf, identifyWorkload } from './handle.js';
import { resolveNodeName } from './nodename.js';
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

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    // EAGAIN: stdin is a non-blocking terminal; EOF-less input is not a network config anyway.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return '';
    throw err;
  }
}

function packageVersion(): string {
  let version = 'unknown';
  // The package root is two folders up from the bundle (dist/cni/plugin.js), three from tsc's
  // output (dist/src/cni/main.js).
  for (const up of ['../../', '../../../']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8'));
      if ((pkg as { name?: string }).name !== 'cidrpool') continue;
      version = (pkg as { version?: string }).version ?? version;
      break;
    } catch {
      // Not fatal: the version is only informative here.
    }
  }
  return version;
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

/**
 * Write `text` to stdout, then call `done`. Synchronous writes to fd 1 (a pipe or file from the
 * runtime): process.stdout would first build its stream (~1 ms of loading per call), and DEL,
 * CHECK, STATUS and GC print nothing. A non-blocking pipe that is full (EAGAIN) gets the rest
 * through process.stdout; a reader gone (EPIPE) leaves nothing more to tell.
 */
function writeStdout(text: string, done: () => void): void {
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
      process.stdout.write(rest, done);
      return;
    }
  }
  done();
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
