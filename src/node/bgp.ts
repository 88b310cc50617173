// The BGP service of `cidrpool node run`: keeps BIRD's configuration in step with the datastore.
// It watches pools, nodes, BGPConfiguration, BGPPeer and this node's block affinities, regenerates
// the configuration (debounced, plus a periodic resync), and reloads BIRD only when the text
// changed. By default it runs its own BIRD under supervision; with --bird-socket and --bird-config
// it drives a BIRD the user runs. Active only with the `bird` networking backend.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateBirdConfig } from '../dataplane/bird-config.js';
import { birdWatchPrefixes, readBirdInputs } from '../dataplane/bird-inputs.js';
import type { Watcher } from '../datastore/api.js';
import { CidrpoolError } from '../errors/index.js';
import {
  birdc,
  checkBirdConfig,
  reconfigureBird,
  superviseBird,
  writeConfigAtomically,
  type BirdSupervisor,
} from '../kernel/bird.js';
import type { AgentContext, AgentService, RunningService } from './types.js';

/** Where our own BIRD keeps its configuration and control socket by default (one per node). */
export const defaultBirdRunDir = (nodeName: string): string => `/var/run/cidrpool/${nodeName}`;
export const BIRD_SOCKET_NAME = 'bird.ctl';
const DEBOUNCE_MS = 200;
const RESYNC_MS = 30_000;

export type NetworkingBackend = 'bird' | 'vxlan' | 'none';

/**
 * The networking backend: --networking-backend, else CALICO_NETWORKING_BACKEND, else `vxlan`
 * (BGP is opt-in). Throws CLI_USAGE for another value.
 */
export function networkingBackend(
  flags: Readonly<Record<string, string | boolean | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): NetworkingBackend {
  const value = (flags.networkingBackend as string | undefined) ?? env.CALICO_NETWORKING_BACKEND;
  if (value === undefined || value === '') return 'vxlan';
  if (value === 'bird' || value === 'vxlan' || value === 'none') return value;
  throw new CidrpoolError(
    'CLI_USAGE',
    `networking backend "${value}" is not one of bird, vxlan, none (--networking-backend or CALICO_NETWORKING_BACKEND)`,
  );
}

/** Our own BIRD (supervised) or one the user runs. */
interface BirdTarget {
  readonly configFile: string;
  readonly socket: string;
  readonly own: boolean;
}

function birdTarget(
  nodeName: string,
  flags: Readonly<Record<string, string | boolean | undefined>>,
): BirdTarget {
  const socket = flags.birdSocket as string | undefined;
  const configFile = flags.birdConfig as string | undefined;
  if (socket && configFile) return { socket, configFile, own: false };
  if (socket || configFile) {
    throw new CidrpoolError(
      'CLI_USAGE',
      'give both --bird-socket and --bird-config to drive a BIRD you run, or neither to let the agent run its own',
    );
  }
  const dir = (flags.birdRunDir as string | undefined) ?? defaultBirdRunDir(nodeName);
  return { socket: join(dir, BIRD_SOCKET_NAME), configFile: join(dir, 'bird.conf'), own: true };
}

/**
 * A BIRD still answering on our socket was left by an agent that did not stop cleanly (SIGKILL):
 * shut it down, so ours can take the socket and the BGP port. Its kernel routes stay (persist).
 */
async function stopLeftoverBird(socket: string, log: AgentContext['log']): Promise<void> {
  try {
    await birdc(socket, ['show', 'status']);
  } catch {
    return; // nothing answers: the usual case
  }
  log('warning', 'bgp: a BIRD from an earlier run still answers; shutting it down', { socket });
  await birdc(socket, ['down']).catch(() => undefined);
}

async function startBgp(context: AgentContext): Promise<RunningService> {
  const { store, log, options } = context;
  if (networkingBackend(options.flags) !== 'bird') return { stop: async () => undefined };
  const target = birdTarget(options.nodeName, options.flags);
  if (target.own) {
    await mkdir(join(target.configFile, '..'), { recursive: true });
    await stopLeftoverBird(target.socket, log);
  }
  let supervisor: BirdSupervisor | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let again = false;
  let lastProblem = '';

  /** The text BIRD runs with, once it has taken it (started with it, or reconfigured). */
  let applied: string | undefined;

  /** One pass: read, generate, check, write, reload. Problems are logged; the next pass retries. */
  const reconcile = async (): Promise<void> => {
    try {
      const text = generateBirdConfig(await readBirdInputs(store, options.nodeName));
      if (text === applied) return;
      await checkBirdConfig(text, target.configFile);
      await writeConfigAtomically(target.configFile, text);
      if (target.own && !supervisor) {
        supervisor = superviseBird({
          configFile: target.configFile,
          socket: target.socket,
          onLog: (level, message) => log(level, message),
        });
        log('info', 'bird started', { config: target.configFile, socket: target.socket });
      } else {
        await reconfigureBird(target.socket);
        log('info', 'bird reconfigured', { config: target.configFile });
      }
      applied = text;
      lastProblem = '';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A problem that persists (e.g. the Node is not registered yet) is logged once.
      if (message !== lastProblem)
        log('warning', 'bgp: configuration not applied', { error: message });
      lastProblem = message;
    }
  };

  /** Run reconcile, never two at once; a request during a run schedules one more run. */
  const requestReconcile = (): void => {
    if (stopped) return;
    again = true;
    running = running.then(async () => {
      if (!again || stopped) return;
      again = false;
      await reconcile();
    });
  };

  let debounce: NodeJS.Timeout | undefined;
  const onChange = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(requestReconcile, DEBOUNCE_MS);
  };

  // Watch from the revision before the first read, so no change between the two is missed.
  const { revision } = await store.list(birdWatchPrefixes(options.nodeName)[0]!, {
    limit: 1,
    keysOnly: true,
  });
  const watchers: Watcher[] = birdWatchPrefixes(options.nodeName).map((prefix) =>
    store.watch(prefix, revision, onChange, (error) => {
      log('warning', 'bgp: watch failed; the periodic resync continues', {
        prefix,
        error: error.message,
      });
    }),
  );
  const resync = setInterval(requestReconcile, RESYNC_MS);
  requestReconcile();
  await running;

  return {
    async stop() {
      stopped = true;
      clearTimeout(debounce);
      clearInterval(resync);
      await Promise.all(watchers.map((w) => w.close()));
      await running;
      await supervisor?.stop();
    },
  };
}

/** The BGP service (see the file comment). */
export const bgpService: AgentService = { name: 'bgp', start: startBgp };
