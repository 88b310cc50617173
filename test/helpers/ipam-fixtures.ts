// Fixtures for IPAM tests: a fresh embedded store, Calico resources written as plain JSON at
// their keys, a deterministic environment, and a scan of the invariants of docs/design/ipam.md.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { listAll, type Datastore } from '../../src/datastore/api.js';
import {
  blocksPrefix,
  HANDLES_PREFIX,
  resourceKey,
  affinityTypePrefix,
  parseAffinityKey,
} from '../../src/datastore/keys.js';
import { openEmbeddedStore } from '../../src/datastore/embedded/index.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { createIpam } from '../../src/ipam/index.js';
import type { Ipam, IpamEnvironment } from '../../src/ipam/types.js';
import { decodeBlock, decodeHandle } from '../../src/ipam/model.js';
import { checkBlockInvariants, ordinalToIp, blockCidr } from '../../src/ipam/block.js';
import { createReservations } from '../../src/ipam/reservations.js';
import { formatIp, cidrContainsIp } from '../../src/net/index.js';
import type { IPPoolSpec } from '../../src/resources/types.js';
import { startEtcd, type EtcdCluster } from './etcd-cluster.js';

export interface TempStore {
  readonly store: Datastore;
  readonly dir: string;
  close(): Promise<void>;
}

/** A fresh embedded store in a temporary folder; close() removes it. */
export async function openTempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'cidrpool-ipam-'));
  const store = await openEmbeddedStore({ type: 'embedded', dataDir: dir });
  return {
    store,
    dir,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A manual clock and seeded randomness (mulberry32). */
export function testEnvironment(
  seed = 1,
  startMs = Date.UTC(2026, 0, 1),
): IpamEnvironment & {
  advance(ms: number): void;
} {
  let now = startMs;
  let nanos = 0n;
  let s = seed >>> 0;
  return {
    now: () => now,
    nowNanos: () => BigInt(now) * 1_000_000n + nanos++,
    random: () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Write an IPPool as Calico stores it (v3 JSON at its resource key). */
/** An AutoAssign request for `num4` IPv4 workload addresses on `hostname` (plus `extra`). */
export const v4Request = (hostname: string, num4: number, extra: object = {}) => ({
  num4,
  num6: 0,
  hostname,
  intendedUse: 'Workload' as const,
  attrs: { node: hostname },
  ...extra,
});

export async function putPool(
  store: Datastore,
  name: string,
  spec: Partial<IPPoolSpec> & { cidr: string },
): Promise<void> {
  const pool = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name, creationTimestamp: null },
    spec,
  };
  await store.put(resourceKey('IPPool', name), JSON.stringify(pool));
}

export async function deletePool(store: Datastore, name: string): Promise<void> {
  await store.delete(resourceKey('IPPool', name));
}

export async function putNode(
  store: Datastore,
  name: string,
  labels: Record<string, string> = {},
  spec: object = {},
): Promise<void> {
  const node = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name, labels },
    spec,
  };
  await store.put(resourceKey('Node', name), JSON.stringify(node));
}

export async function putReservation(
  store: Datastore,
  name: string,
  reservedCIDRs: string[],
): Promise<void> {
  const r = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPReservation',
    metadata: { name },
    spec: { reservedCIDRs },
  };
  await store.put(resourceKey('IPReservation', name), JSON.stringify(r));
}

export async function putWorkloadEndpoint(
  store: Datastore,
  namespace: string,
  name: string,
  ipNetworks: string[],
): Promise<void> {
  const w = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace },
    spec: { ipNetworks },
  };
  await store.put(resourceKey('WorkloadEndpoint', name, namespace), JSON.stringify(w));
}

/**
 * Scan the datastore and return every broken invariant: block invariants (§2.1), an address
 * held twice, an allocation inside a reservation (when `reservedNeverAllocated`), handle counts
 * different from a scan of the blocks, an affine block whose affinity object is missing or
 * another host's, or a block owned by a host without an affinity.
 */
export async function scanInvariants(
  store: Datastore,
  options: { reserved?: string[]; nowMs?: number } = {},
): Promise<string[]> {
  const problems: string[] = [];
  const held = new Map<string, string>();
  const counts = new Map<string, Map<string, number>>();
  const owners = new Map<string, string>();
  const reservations = createReservations(options.reserved ?? []);
  for (const kv of await listAll(store, blocksPrefix())) {
    const b = decodeBlock(kv.value, kv.key);
    for (const p of checkBlockInvariants(b, options.nowMs ?? Date.now() + 10 ** 12))
      problems.push(`${b.cidr}: ${p}`);
    if (b.affinity) owners.set(b.cidr, b.affinity);
    b.allocations.forEach((idx, o) => {
      if (idx === null) return;
      const ip = formatIp(ordinalToIp(b, o));
      if (held.has(ip)) problems.push(`${ip} held twice (${held.get(ip)} and ${b.cidr})`);
      held.set(ip, b.cidr);
      const attr = b.attributes[idx];
      if (attr?.releasedAt === undefined && reservations.matchesIp(ordinalToIp(b, o)))
        problems.push(`${ip} is reserved but allocated`);
      const h = attr?.handleId;
      if (h !== undefined && h !== 'windows-reserved-ipam-handle') {
        const m = counts.get(h) ?? new Map<string, number>();
        m.set(b.cidr, (m.get(b.cidr) ?? 0) + 1);
        counts.set(h, m);
      }
    });
    void blockCidr(b);
  }
  const handles = await listAll(store, HANDLES_PREFIX);
  const seen = new Set<string>();
  for (const kv of handles) {
    const id = kv.key.slice(HANDLES_PREFIX.length);
    seen.add(id);
    const stored = decodeHandle(kv.value, kv.key).block;
    const scanned = counts.get(id) ?? new Map<string, number>();
    const keys = new Set([...Object.keys(stored), ...scanned.keys()]);
    for (const k of keys)
      if ((stored[k] ?? 0) !== (scanned.get(k) ?? 0))
        problems.push(
          `handle ${id} counts ${stored[k] ?? 0} in ${k}, blocks hold ${scanned.get(k) ?? 0}`,
        );
  }
  for (const id of counts.keys()) if (!seen.has(id)) problems.push(`handle ${id} is missing`);
  const affinities = [
    ...(await listAll(store, affinityTypePrefix('host'))),
    ...(await listAll(store, affinityTypePrefix('virtual'))),
  ];
  const affineByCidr = new Map<string, string[]>();
  for (const kv of affinities) {
    const a = parseAffinityKey(kv.key);
    if (!a) continue;
    const list = affineByCidr.get(a.cidr) ?? [];
    list.push(`${a.type}:${a.host}`);
    affineByCidr.set(a.cidr, list);
  }
  for (const [cidr, owner] of owners) {
    const list = affineByCidr.get(cidr) ?? [];
    if (list.length !== 1 || list[0] !== owner)
      problems.push(`block ${cidr} owned by ${owner} has affinities [${list.join(', ')}]`);
  }
  for (const [cidr, list] of affineByCidr)
    if (!owners.has(cidr))
      problems.push(`affinity [${list.join(', ')}] for ${cidr} without an owned block`);
  return problems;
}

/** Every allocated address (cooling-down ones included), for set comparisons in tests. */
export async function allocatedAddresses(store: Datastore): Promise<Set<string>> {
  const out = new Set<string>();
  for (const kv of await listAll(store, blocksPrefix())) {
    const b = decodeBlock(kv.value, kv.key);
    b.allocations.forEach((idx, o) => {
      if (idx !== null) out.add(formatIp(ordinalToIp(b, o)));
    });
  }
  return out;
}

export { cidrContainsIp };

export type IpamTestEnvironment = ReturnType<typeof testEnvironment>;
export type IpamTestBody = (t: TempStore, env: IpamTestEnvironment, ipam: Ipam) => Promise<void>;

/**
 * The same test body on every backend (STYLE.md): returns `both(name, body)`, which registers the
 * body once on the embedded store and once on a real etcd (started once for the calling file,
 * emptied before each test), and checks the invariants after it. Call at a test file's top level.
 */
export function defineOnBothStores(): (name: string, body: IpamTestBody) => void {
  let etcd: EtcdCluster | undefined;
  after(async () => {
    await etcd?.stop();
  });
  const open = async (backend: 'embedded' | 'etcd'): Promise<TempStore> => {
    if (backend === 'embedded') return openTempStore();
    etcd ??= await startEtcd({ members: 1 });
    const store = await openEtcdStore({ type: 'etcdv3', endpoints: etcd.endpoints });
    const all = await listAll(store, '/');
    for (let i = 0; i < all.length; i += 100)
      await store.txn(
        [],
        all.slice(i, i + 100).map((kv) => ({ op: 'delete' as const, key: kv.key })),
      );
    return { store, dir: '', close: () => store.close() };
  };
  return (name, body) => {
    for (const backend of ['embedded', 'etcd'] as const) {
      test(`${name} [${backend}]`, async () => {
        const t = await open(backend);
        const env = testEnvironment();
        try {
          await body(t, env, createIpam(t.store, env));
          assert.deepEqual(await scanInvariants(t.store, { nowMs: env.now() }), []);
        } finally {
          await t.close();
        }
      });
    }
  };
}
