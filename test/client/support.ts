// Shared set-up of the client tests: a fresh embedded store in a temp dir, a fixed clock and uids.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResourceClient, type ResourceClient } from '../../src/client/index.js';
import type { Datastore } from '../../src/datastore/api.js';
import { openEmbeddedStore } from '../../src/datastore/embedded/index.js';
import type { Ipam } from '../../src/ipam/types.js';
import { API_VERSION_V3, type IPPool, type IPPoolSpec } from '../../src/resources/types.js';

export const NOW = Date.UTC(2026, 10, 21, 6, 30, 15, 123);
export const NOW_TEXT = '2026-11-21T06:30:15Z';

export interface Harness {
  readonly store: Datastore;
  readonly client: ResourceClient;
  close(): Promise<void>;
}

/**
 * A client over a fresh embedded store; uids are `uid-1`, `uid-2`, ... `ipam` may be a factory
 * that gets the store (for the real engine).
 */
export async function openHarness(
  ipamOrFactory: Ipam | ((store: Datastore) => Ipam),
): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cidrpool-client-'));
  const store = await openEmbeddedStore({ type: 'embedded', dataDir });
  const ipam = typeof ipamOrFactory === 'function' ? ipamOrFactory(store) : ipamOrFactory;
  let uids = 0;
  const client = createResourceClient(store, ipam, {
    now: () => NOW,
    newUid: () => `uid-${++uids}`,
    poolDeletePauseMs: 0,
  });
  return {
    store,
    client,
    async close() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const pool = (
  name: string,
  spec: Partial<IPPoolSpec>,
  labels?: Record<string, string>,
): IPPool => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPPool',
  metadata: labels ? { name, labels } : { name },
  spec: spec as IPPoolSpec,
});

/**
 * A stand-in for the IPAM engine that implements only releasePoolAffinities and records each
 * call (with what `observe` reports at that moment). Every other method throws.
 */
export function recordingIpam(observe: () => Promise<unknown> = async () => undefined): {
  ipam: Ipam;
  calls: { cidr: string; observed: unknown }[];
} {
  const calls: { cidr: string; observed: unknown }[] = [];
  const ipam = new Proxy({} as Ipam, {
    get(_target, prop) {
      if (prop === 'releasePoolAffinities') {
        return async (cidr: string) => {
          calls.push({ cidr, observed: await observe() });
        };
      }
      if (prop === 'then') return undefined;
      return () => {
        throw new Error(`recordingIpam: ${String(prop)} is not implemented`);
      };
    },
  });
  return { ipam, calls };
}
