// `cidrpool node run`: open the datastore, start every service, run until SIGTERM or SIGINT, then
// stop the services in reverse order. Stopping leaves the kernel as it is (routes stay, so pods
// keep working while the agent restarts); a restarted agent removes what is no longer wanted.
import { createResourceClient } from '../client/index.js';
import { openDatastore } from '../datastore/open.js';
import { createIpam, createProcessEnvironment } from '../ipam/index.js';
import type { IpamEnvironment } from '../ipam/types.js';
import type {
  AgentContext,
  AgentLog,
  AgentService,
  NodeRunOptions,
  RunningService,
} from './types.js';

/** The clock, randomness and logger the agent's IPAM engine is given. */
export const agentEnvironment = (log: AgentLog): IpamEnvironment =>
  createProcessEnvironment((level, message, fields) =>
    log(level === 'warn' ? 'warning' : level, message, fields),
  );

/** Resolves on the first SIGTERM or SIGINT. */
function untilSignal(log: AgentLog): Promise<void> {
  return new Promise((resolve) => {
    // Signal handlers do not keep Node's event loop alive; this timer does, until a signal.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    const onSignal = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      log('info', 'stopping', { signal });
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Run the agent with `services` until a signal (or, for tests, until `stopped` resolves).
 * Throws when the datastore cannot be opened or a service fails to start; the services already
 * started are stopped first.
 */
export async function runAgent(
  options: NodeRunOptions,
  services: readonly AgentService[],
  log: AgentLog,
  stopped: Promise<void> = untilSignal(log),
): Promise<void> {
  const store = await openDatastore(options.datastore);
  const ipam = createIpam(store, agentEnvironment(log));
  const context: AgentContext = {
    options,
    store,
    ipam,
    client: createResourceClient(store, ipam),
    log,
  };
  const running: { name: string; service: RunningService }[] = [];
  try {
    for (const service of services) {
      running.push({ name: service.name, service: await service.start(context) });
      log('info', 'service started', { service: service.name });
    }
    log('info', 'node agent running', { node: options.nodeName });
    await stopped;
  } finally {
    for (const { name, service } of running.reverse()) {
      try {
        await service.stop();
      } catch (err) {
        log('error', 'service failed to stop', { service: name, error: String(err) });
      }
    }
    await store.close();
  }
}
