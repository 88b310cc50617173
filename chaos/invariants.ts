// The invariants a chaos run must end with, read from the datastore itself (issue 15):
// no address under two handles; no successful allocation lost; no address held after its
// release succeeded; no endpoint naming an address it does not hold; handle counts equal
// block counts (and the other block invariants of test/helpers' scanInvariants). One scan of
// the blocks answers for every handle, so the check stays fast after millions of allocations.
import { listAll } from '../src/datastore/api.js';
import type { DatastoreConfig } from '../src/datastore/config-types.js';
import { blocksPrefix, HANDLES_PREFIX, resourcePrefix } from '../src/datastore/keys.js';
import { ordinalToIp } from '../src/ipam/block.js';
import { decodeBlock } from '../src/ipam/model.js';
import { formatIp } from '../src/net/index.js';
import type { WorkloadEndpoint } from '../src/resources/types.js';
import { withStore } from '../test/cni/support.js';
import { scanInvariants } from '../test/helpers/ipam-fixtures.js';
import type { Workload } from './ledger.js';

const bare = (address: string) => address.split('/')[0]!;

/** What the driver knows for sure: the live workloads and the handles released. */
export interface InvariantLedger {
  readonly network: string;
  readonly live: ReadonlyMap<string, Workload>;
  readonly released: ReadonlySet<string>;
}

/** Every violation found (empty: all hold). */
export async function checkInvariants(
  config: DatastoreConfig,
  ledger: InvariantLedger,
): Promise<string[]> {
  return withStore(config, async (store) => {
    const problems = await scanInvariants(store);
    // Who holds each address, and what each handle holds (cooling-down addresses have no handle).
    const holder = new Map<string, string>();
    const holds = new Map<string, string[]>();
    for (const kv of await listAll(store, blocksPrefix())) {
      const b = decodeBlock(kv.value, kv.key);
      b.allocations.forEach((idx, o) => {
        const handle = idx === null ? undefined : b.attributes[idx]?.handleId;
        if (handle === undefined) return;
        const ip = formatIp(ordinalToIp(b, o));
        holder.set(ip, handle);
        holds.set(handle, [...(holds.get(handle) ?? []), ip]);
      });
    }
    // Successful allocations are all still held, each by its own handle only.
    const owner = new Map<string, string>();
    for (const w of ledger.live.values()) {
      const expected = (w.ips ?? []).map(bare).sort();
      const actual = [...(holds.get(w.handle) ?? [])].sort();
      if (expected.join() !== actual.join())
        problems.push(`lost allocation: ${w.handle} answered [${expected}] but holds [${actual}]`);
      for (const ip of expected) {
        const other = owner.get(ip);
        if (other !== undefined) problems.push(`${ip} given to ${other} and ${w.handle}`);
        owner.set(ip, w.handle);
      }
    }
    // A release that succeeded left nothing under its handle: no address, no handle object.
    const handleObjects = new Set(
      (await listAll(store, HANDLES_PREFIX)).map((kv) => kv.key.slice(HANDLES_PREFIX.length)),
    );
    for (const handle of ledger.released) {
      const still = holds.get(handle);
      if (still) problems.push(`${handle} still holds [${still}] after its release`);
      else if (handleObjects.has(handle))
        problems.push(`${handle} still has its handle object after its release`);
    }
    // Every endpoint names only addresses its own handle holds; every live workload has one.
    const withEndpoint = new Set<string>();
    for (const kv of await listAll(store, resourcePrefix('WorkloadEndpoint'))) {
      const wep = JSON.parse(kv.value) as WorkloadEndpoint;
      const container = wep.spec.containerID ?? '';
      withEndpoint.add(container);
      const expected = `${ledger.network}.${container}`;
      for (const network of wep.spec.ipNetworks ?? []) {
        const handle = holder.get(bare(network));
        if (handle !== expected)
          problems.push(
            `endpoint ${wep.metadata.namespace}/${wep.metadata.name} names ${network}, held by ${handle ?? 'nobody'}`,
          );
      }
    }
    for (const w of ledger.live.values())
      if (w.endpoint && !withEndpoint.has(w.id))
        problems.push(`live workload ${w.id} has no endpoint`);
    return problems;
  });
}
