// The invariants a chaos run must end with, read from the datastore itself (issue 15):
// no address under two handles; no successful allocation lost; no address held after its
// release succeeded; no endpoint naming an address it does not hold; handle counts equal
// block counts (and the other block invariants of test/helpers' scanInvariants).
import { listAll } from '../src/datastore/api.js';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { resourcePrefix } from '../src/datastore/keys.js';
import { isCidrpoolError } from '../src/errors/index.js';
import type { WorkloadEndpoint } from '../src/resources/types.js';
import { createTestIpam, withStore } from '../test/cni/support.js';
import { scanInvariants } from '../test/helpers/ipam-fixtures.js';

/** A workload the driver added: by the CNI plugin or by `ipam assign --pod`. */
export interface Workload {
  readonly id: string;
  readonly node: string;
  readonly via: 'cni' | 'cli';
  /** Addresses (with masks) a successful ADD answered. */
  readonly ips?: readonly string[];
}

const bare = (address: string) => address.split('/')[0]!;

/** Every violation found (empty: all hold). */
export async function checkInvariants(
  config: DatastoreConfig,
  ledger: {
    readonly live: ReadonlyMap<string, Workload>;
    readonly released: ReadonlyMap<string, Workload>;
    readonly network: string;
  },
): Promise<string[]> {
  return withStore(config, async (store) => {
    const problems = await scanInvariants(store);
    const ipam = await createTestIpam(store);
    const held = async (handle: string): Promise<string[]> => {
      try {
        return (await ipam.ipsByHandle(handle)).map(bare);
      } catch (err) {
        if (isCidrpoolError(err, 'IPAM_HANDLE_NOT_FOUND')) return [];
        throw err;
      }
    };
    // Successful allocations are all still held, each by its own handle only.
    const owner = new Map<string, string>();
    for (const w of ledger.live.values()) {
      const handle = `${ledger.network}.${w.id}`;
      const expected = (w.ips ?? []).map(bare).sort();
      const actual = (await held(handle)).sort();
      if (expected.join() !== actual.join())
        problems.push(`lost allocation: ${handle} answered [${expected}] but holds [${actual}]`);
      for (const ip of expected) {
        const other = owner.get(ip);
        if (other !== undefined) problems.push(`${ip} given to ${other} and ${handle}`);
        owner.set(ip, handle);
      }
    }
    // A release that succeeded left nothing under its handle.
    for (const w of ledger.released.values()) {
      const handle = `${ledger.network}.${w.id}`;
      const still = await held(handle);
      if (still.length > 0) problems.push(`${handle} still holds [${still}] after its release`);
    }
    // Every endpoint names only addresses its own handle holds; every live workload has one.
    const withEndpoint = new Set<string>();
    for (const kv of await listAll(store, resourcePrefix('WorkloadEndpoint'))) {
      const wep = JSON.parse(kv.value) as WorkloadEndpoint;
      const container = wep.spec.containerID ?? '';
      withEndpoint.add(container);
      for (const network of wep.spec.ipNetworks ?? []) {
        const info = await ipam.getAssignmentAttributes(bare(network));
        const expected = `${ledger.network}.${container}`;
        if (info?.handleId !== expected)
          problems.push(
            `endpoint ${wep.metadata.namespace}/${wep.metadata.name} names ${network}, held by ${info?.handleId ?? 'nobody'}`,
          );
      }
    }
    for (const w of ledger.live.values())
      if (!withEndpoint.has(w.id)) problems.push(`live workload ${w.id} has no endpoint`);
    return problems;
  });
}
