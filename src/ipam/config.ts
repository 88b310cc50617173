// The IPAM configuration at /calico/ipam/v2/config (ipam-core.md §1.8).
import { IPAM_CONFIG_KEY } from '../datastore/keys.js';
import { CidrpoolError } from '../errors/index.js';
import type { IpamContext } from './context.js';
import { decodeConfig, encodeConfig } from './model.js';
import type { IpamConfig } from './types.js';

/**
 * Validate and store the configuration with an unconditional put (Calico Apply); an unchanged
 * value is not written. Throws IPAM_INVALID_CONFIG with Calico's messages.
 */
export async function setConfig(ctx: IpamContext, config: IpamConfig): Promise<void> {
  if (!config.strictAffinity && !config.autoAllocateBlocks)
    throw new CidrpoolError(
      'IPAM_INVALID_CONFIG',
      "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
    );
  if (config.maxBlocksPerHost > 0 && !config.strictAffinity)
    throw new CidrpoolError(
      'IPAM_INVALID_CONFIG',
      'MaxBlocksPerHost requires StrictAffinity to be enabled',
    );
  if (
    !Number.isInteger(config.maxBlocksPerHost) ||
    config.maxBlocksPerHost < 0 ||
    config.maxBlocksPerHost > 2 ** 31 - 1
  )
    throw new CidrpoolError(
      'IPAM_INVALID_CONFIG',
      `maxBlocksPerHost must be between 0 and 2147483647, not ${config.maxBlocksPerHost}`,
    );
  if (
    !Number.isInteger(config.ipCooldownSeconds) ||
    config.ipCooldownSeconds < 0 ||
    config.ipCooldownSeconds > 1200
  )
    throw new CidrpoolError(
      'IPAM_INVALID_CONFIG',
      `ipCooldownSeconds must be between 0 and 1200, not ${config.ipCooldownSeconds}`,
    );
  const text = encodeConfig(config);
  const stored = await ctx.store.get(IPAM_CONFIG_KEY);
  if (stored && encodeConfig(decodeConfig(stored.value, IPAM_CONFIG_KEY)) === text) return;
  await ctx.store.put(IPAM_CONFIG_KEY, text);
}
