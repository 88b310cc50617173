// `cidrpool ipam configure --strictaffinity=… --max-blocks-per-host=…
// --kubevirt-ip-persistence=… --ip-cooldown-seconds=…` (surfaces.md §2.4, HEAD flags).
import type { Command } from 'commander';
import { CidrpoolError } from '../../errors/index.js';
import type { IpamConfig } from '../../ipam/types.js';
import { withBackend } from '../backend.js';
import { errorMessage } from '../errors.js';
import { printLines } from '../io.js';
import { addDatastoreOptions } from '../options.js';

interface ConfigureOptions {
  readonly strictaffinity?: string;
  readonly maxBlocksPerHost?: string;
  readonly kubevirtIpPersistence?: string;
  readonly ipCooldownSeconds?: string;
  readonly config?: string;
}

const MAX_BLOCKS_PER_HOST = 1_000_000;

const usage = (message: string): never => {
  throw new CidrpoolError('CLI_USAGE', message);
};

/** Go's strconv.ParseBool, which calicoctl uses for --strictaffinity. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** Go's strconv.Atoi on a 32-bit-range integer; undefined when it is not one. */
function parseInteger(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

async function runConfigure(options: ConfigureOptions): Promise<void> {
  const changes: Partial<{ -readonly [K in keyof IpamConfig]: IpamConfig[K] }> = {};
  const lines: string[] = [];
  if (
    options.strictaffinity === undefined &&
    options.maxBlocksPerHost === undefined &&
    options.kubevirtIpPersistence === undefined &&
    options.ipCooldownSeconds === undefined
  ) {
    usage('at least one configuration option must be specified');
  }
  if (options.strictaffinity !== undefined) {
    const value = parseGoBool(options.strictaffinity);
    if (value === undefined) usage('invalid value. Use true or false to set strictaffinity');
    changes.strictAffinity = value!;
    lines.push(`Successfully set StrictAffinity to: ${value}`);
  }
  if (options.maxBlocksPerHost !== undefined) {
    const value = parseInteger(options.maxBlocksPerHost);
    if (value === undefined || value < 0)
      usage('invalid value for maxblockhost. Use a valid number');
    // The IPAMConfiguration resource allows 0 to 1,000,000 (surfaces.md §1.7); checked here so
    // that the allocator's key and the resource never end up with different values.
    if (value! > MAX_BLOCKS_PER_HOST)
      usage(
        `invalid value for maxblockhost. Use a valid number from 0 to ${MAX_BLOCKS_PER_HOST}, not ${value}`,
      );
    changes.maxBlocksPerHost = value!;
    lines.push(`Successfully set MaxBlocksPerHost to: ${value}`);
  }
  if (options.kubevirtIpPersistence !== undefined) {
    const value = options.kubevirtIpPersistence;
    if (value !== 'Enabled' && value !== 'Disabled') {
      usage('invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled');
    }
    changes.kubeVirtVMAddressPersistence = value as 'Enabled' | 'Disabled';
    lines.push(`Successfully set KubeVirtVMAddressPersistence to: ${value}`);
  }
  if (options.ipCooldownSeconds !== undefined) {
    const value = parseInteger(options.ipCooldownSeconds);
    if (value === undefined || value < 0 || value > 1200) {
      usage('invalid value for --ip-cooldown-seconds. Use a number of seconds from 0 to 1200');
    }
    changes.ipCooldownSeconds = value!;
    lines.push(`Successfully set IPCooldownSeconds to: ${value}`);
  }
  await withBackend(options, async ({ ipam, client }) => {
    const current = await ipam.getConfig();
    const next: IpamConfig = { ...current, ...changes };
    try {
      await ipam.setConfig(next);
    } catch (err) {
      throw new CidrpoolError('CLI_USAGE', `error: ${errorMessage(err)}`, { cause: err });
    }
    // Keep the v3 IPAMConfiguration, when there is one, in step with what the allocator reads
    // (the client writes both keys; docs/cli.md "IPAM configuration").
    const resource = await client.find('IPAMConfiguration', 'default');
    if (resource?.kind === 'IPAMConfiguration') {
      await client.update({ ...resource, spec: { ...resource.spec, ...next } });
    }
  });
  printLines(lines);
}

/** Register `ipam configure`. */
export function addIpamConfigureCommand(ipam: Command): void {
  const command = ipam
    .command('configure')
    .description('Configure IPAM')
    .option(
      '--strictaffinity <true/false>',
      'only allocate from blocks the node owns (no borrowing)',
    )
    .option(
      '--max-blocks-per-host <number>',
      'cap on blocks per node and family (needs strict affinity); 0 = no cap',
    )
    .option(
      '--kubevirt-ip-persistence <Enabled|Disabled>',
      'keep KubeVirt VM addresses across restarts',
    )
    .option(
      '--ip-cooldown-seconds <number>',
      'seconds before a released IP can be assigned again (0-1200)',
    );
  addDatastoreOptions(command);
  command.action((options: ConfigureOptions) => runConfigure(options));
}
