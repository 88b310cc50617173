// `cidrpool-ipam`: the CNI IPAM plugin's full entry point. It reads the CNI_* environment and
// the network config, runs one command, and prints the result or a CNI error. Only what the
// command needs is loaded (every handler is a dynamic import): a pod start waits on this.
// bin/cidrpool-ipam runs the thin entry first (thin-main.ts): when a node agent answers, the
// agent runs the call and this bundle is never loaded; otherwise the thin entry calls `main`
// here with the stdin it has read and what became of the agent.
import { CidrpoolError } from '../errors/index.js';
import type { SessionSource } from './context.js';
import { packageVersion, readStdin, writeStdout } from './process-io.js';
import { runPluginCall, type CallOutcome, type PluginHandlers } from './skel.js';
import type { FullPluginInput } from './thin-main.js';
import { SUPPORTED_VERSIONS } from './versions.js';

/** What the Go skel prints to stderr when CNI_COMMAND is not set (calico-ipam: "Calico CNI IPAM"). */
function aboutText(): string {
  return `cidrpool CNI IPAM ${packageVersion()}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`;
}

/** Each command's module is loaded only when the call is that command. */
export const ipamHandlers: PluginHandlers = {
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
 * The handlers after the agent went away during the call: DEL and CHECK run here (a repeated DEL
 * or CHECK is harmless), but the agent may have written part of the ADD, and a write it sent
 * may still land. The ADD is undone here and answered "try again" (code 11): repeating it here
 * could leave two addresses under the handle when that late write lands after our read.
 */
const afterAgentLost: PluginHandlers = {
  ...ipamHandlers,
  add: async (ctx) => {
    const [{ undoAdd }, { openCallSession, withCallLock }, { toDatastoreConfig }] =
      await Promise.all([
        import('./undo-add.js'),
        import('./session.js'),
        import('./datastore-config.js'),
      ]);
    const config = toDatastoreConfig(ctx.conf, ctx.processEnv);
    const session = await openCallSession(ctx, config);
    try {
      await withCallLock(session, ctx, config, () => undoAdd(ctx, session));
    } finally {
      await session.close().catch(() => undefined);
    }
    throw new CidrpoolError(
      'DS_UNAVAILABLE',
      'the node agent closed the connection during ADD; what it may have done is undone',
      { details: { hint: 'retry the ADD (the runtime does): it goes to the datastore directly' } },
    );
  },
};

/** After the agent took the call and did not answer in time: it undoes a late ADD itself. */
const afterAgentTimeout = (ms: number): PluginHandlers => {
  const timedOut = (command: string) => () =>
    Promise.reject(
      new CidrpoolError(
        'DS_UNAVAILABLE',
        `the node agent did not answer ${command} within ${ms} ms`,
        {
          details: { hint: 'retry the call; the agent undoes an ADD whose answer came too late' },
        },
      ),
    );
  return { ...ipamHandlers, add: timedOut('ADD'), del: timedOut('DEL'), check: timedOut('CHECK') };
};

/**
 * Run one plugin call with `processEnv` and the network config text `stdin`; never throws.
 * Exit code 0 with the result (ADD) or nothing (DEL, CHECK, STATUS, GC); 1 with a CNI error.
 * `sessionSource`: the node agent's store and engine (src/cni/in-agent.ts).
 */
export function runCall(
  processEnv: NodeJS.ProcessEnv,
  stdin: () => string,
  sessionSource?: SessionSource,
): Promise<CallOutcome> {
  return runPluginCall(processEnv, stdin, ipamHandlers, sessionSource);
}

/** The handlers for what the thin entry saw of the agent. */
function handlersFor(input: FullPluginInput | undefined): PluginHandlers {
  if (input?.agent === 'lost') return afterAgentLost;
  if (input?.agent === 'timed-out') return afterAgentTimeout(input.timeoutMs ?? 0);
  return ipamHandlers;
}

/**
 * The process entry point (bin/cidrpool-ipam, through thin-main.ts when a call was read there:
 * `input` then holds its stdin and what became of the agent).
 */
export async function main(input?: FullPluginInput): Promise<void> {
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
  const stdin = input ? () => input.stdin : readStdin;
  const outcome = await runPluginCall(process.env, stdin, handlersFor(input));
  // Exit at once: an etcd client may keep sockets open, and the runtime is waiting on us.
  writeStdout(outcome.stdout, () => process.exit(outcome.exitCode));
}
