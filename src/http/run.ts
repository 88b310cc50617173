// `cidrpool dashboard` after the CLI parsed its flags: choose the datastore as the CLI does, build
// the live model, serve it until SIGINT or SIGTERM.
import { DEFAULT_CONFIG_FILE, loadDatastoreConfig } from '../datastore/config.js';
import { openDatastore } from '../datastore/open.js';
import { CidrpoolError } from '../errors/index.js';
import { createIpam } from '../ipam/index.js';
import { DEFAULT_LISTEN, parseListen, readTokenFile } from './access.js';
import { startCheckWorker } from './check-worker.js';
import { defaultStateDir, forecastStateFile } from './forecast-state.js';
import { LiveModel } from './live-model.js';
import { startDashboardServer, type DashboardServer } from './server.js';

/** The flags as commander hands them over. */
export interface DashboardFlags {
  readonly listen?: string;
  readonly tokenFile?: string;
  readonly config?: string;
  /** Where the forecast keeps its samples across restarts. */
  readonly stateDir?: string;
}

/** A running dashboard: its URL, and how to stop it (server, watch, datastore). */
export interface RunningDashboard {
  readonly url: string;
  readonly live: LiveModel;
  readonly server: DashboardServer;
  stop(): Promise<void>;
}

/**
 * Check the flags, open the datastore, build the first snapshot and listen. Throws HTTP_LISTEN
 * (bad address, non-loopback without --token-file, port in use), HTTP_TOKEN_FILE, HTTP_STATE_DIR,
 * DS_CONFIG and DS_UNAVAILABLE.
 */
export async function startDashboard(
  flags: DashboardFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningDashboard> {
  const listen = parseListen(flags.listen ?? DEFAULT_LISTEN);
  if (!listen.loopback && flags.tokenFile === undefined) {
    throw new CidrpoolError(
      'HTTP_LISTEN',
      `--listen ${flags.listen} is not a loopback address: anyone who reaches it could read every pool, node and pod; add --token-file FILE (a bearer token the page asks for), or listen on ${DEFAULT_LISTEN}`,
    );
  }
  const token = flags.tokenFile !== undefined ? await readTokenFile(flags.tokenFile) : undefined;
  const config = await loadDatastoreConfig({
    configFile: flags.config ?? DEFAULT_CONFIG_FILE,
    env,
  });
  const stateFile = forecastStateFile(flags.stateDir ?? defaultStateDir(env), config, env);
  const store = await openDatastore(config);
  const checker = startCheckWorker(config);
  const live = new LiveModel(store, createIpam(store), {
    stateFile,
    checker,
    log: (message) => process.stderr.write(`${message}\n`),
  });
  try {
    await live.start();
    const server = await startDashboardServer({ listen, token, store, live });
    return {
      url: server.url,
      live,
      server,
      async stop() {
        await server.close();
        await live.close();
        await checker.close();
        await store.close();
      },
    };
  } catch (err) {
    await live.close();
    await checker.close();
    await store.close();
    throw err;
  }
}

/** Serve until SIGINT or SIGTERM, then stop cleanly. */
export async function runDashboardCommand(flags: DashboardFlags): Promise<void> {
  const dashboard = await startDashboard(flags);
  process.stdout.write(
    `cidrpool dashboard: serving ${dashboard.url} (read-only${flags.tokenFile ? ', bearer token required' : ''}); Ctrl-C stops it\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await dashboard.stop();
}
