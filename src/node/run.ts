// `cidrpool node run` after the CLI parsed its flags: choose the datastore as the CLI does, then
// run the agent with every service of services.ts in the foreground.
import { DEFAULT_CONFIG_FILE, loadDatastoreConfig } from '../datastore/config.js';
import { runAgent } from './agent.js';
import { parseAddressFlag, parseAutodetectionMethod } from './autodetect.js';
import { dataplaneSettingsFromFlags, resyncSecondsFromFlags } from './dataplane-service.js';
import { createAgentLog } from './log.js';
import { AGENT_SERVICES } from './services.js';
import type { LogLevel } from './types.js';

/** The flags as commander hands them over (long names in camelCase). */
export interface NodeRunFlags {
  readonly name: string;
  readonly ip?: string;
  readonly ip6?: string;
  readonly ipAutodetectionMethod?: string;
  readonly config?: string;
  readonly logLevel?: LogLevel;
  readonly [flag: string]: string | boolean | undefined;
}

/**
 * Check every flag before anything is written. Throws NODE_INVALID_ADDRESS,
 * NODE_INVALID_AUTODETECTION, NODE_INVALID_FLAG.
 */
export function validateNodeRunFlags(flags: NodeRunFlags): void {
  parseAddressFlag(flags.ip, 4, '--ip');
  parseAddressFlag(flags.ip6, 6, '--ip6');
  parseAutodetectionMethod(flags.ipAutodetectionMethod);
  dataplaneSettingsFromFlags(flags);
  resyncSecondsFromFlags(flags);
}

/**
 * Run the node agent until SIGTERM or SIGINT. Throws DS_CONFIG for a bad datastore config and
 * the codes of validateNodeRunFlags for a bad flag.
 */
export async function runNodeCommand(flags: NodeRunFlags): Promise<void> {
  validateNodeRunFlags(flags);
  const datastore = await loadDatastoreConfig({
    configFile: flags.config ?? DEFAULT_CONFIG_FILE,
    env: process.env,
  });
  const log = createAgentLog(flags.logLevel ?? 'info');
  await runAgent(
    {
      nodeName: flags.name,
      ipv4: flags.ip,
      ipv6: flags.ip6,
      ipAutodetectionMethod: flags.ipAutodetectionMethod,
      datastore,
      flags,
    },
    AGENT_SERVICES,
    log,
  );
}
