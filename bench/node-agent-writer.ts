// The datastore side of scenario 8, run by the scenario inside the benchmark's network namespace
// (where its etcd listens): `seed <remote nodes> <claim nodes>` writes a VXLAN pool, the local
// node, remote nodes with VTEPs and one block per remote node; `claim` reads one line per claim
// from stdin, claims a new block for the next claim node through the IPAM engine, and prints
// `{"dst", "claimedAt"}` (epoch ms, when the claim started); `watch` prints when a plain watch
// of the blocks in another process sees each block (the datastore's raw delivery, the anchor).
import { createInterface } from 'node:readline';
import { listPages, type Datastore } from '../src/datastore/api.js';
import { DEFAULT_CONFIG_FILE, loadDatastoreConfig } from '../src/datastore/config.js';
import { blockKey, blocksPrefix, resourceKey } from '../src/datastore/keys.js';
import { openDatastore } from '../src/datastore/open.js';
import { createIpam } from '../src/ipam/index.js';

const now = (): number => performance.timeOrigin + performance.now();
export const POOL_CIDR = '10.64.0.0/12';
export const LOCAL_NODE = 'bench-local';

/** The /26 block number i of the pool, e.g. 10.64.0.64/26 for 1. */
export function blockCidr(i: number): string {
  const base = (10 << 24) | (64 << 16);
  const value = base + i * 64;
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}/26`;
}

const hostIp = (i: number) => `172.16.${(i >> 8) & 255}.${i & 255}`;

function nodeJson(name: string, ipv4Address: string, tunnel?: string): string {
  const spec: Record<string, unknown> = { bgp: { ipv4Address } };
  if (tunnel) spec.ipv4VXLANTunnelAddr = tunnel;
  return JSON.stringify({
    kind: 'Node',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name },
    spec,
  });
}

function blockJson(cidr: string, host: string): string {
  const allocations: (number | null)[] = new Array(64).fill(null);
  allocations[0] = 0;
  return JSON.stringify({
    cidr,
    affinity: `host:${host}`,
    allocations,
    unallocated: allocations.flatMap((a, i) => (a === null ? [i] : [])),
    attributes: [
      {
        handle_id: `vxlan-tunnel-addr-${host}`,
        secondary: { node: host, type: 'vxlanTunnelAddress' },
      },
    ],
    deleted: false,
  });
}

async function putAll(store: Datastore, entries: [string, string][]): Promise<void> {
  for (let i = 0; i < entries.length; i += 100) {
    const batch = entries.slice(i, i + 100);
    await store.txn(
      [],
      batch.map(([key, value]) => ({ op: 'put' as const, key, value })),
    );
  }
}

async function seed(store: Datastore, remote: number, claimers: number): Promise<void> {
  const pool = {
    kind: 'IPPool',
    apiVersion: 'projectcalico.org/v3',
    metadata: { name: 'bench-pool' },
    spec: {
      cidr: POOL_CIDR,
      blockSize: 26,
      vxlanMode: 'Always',
      ipipMode: 'Never',
      natOutgoing: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
    },
  };
  const entries: [string, string][] = [
    [resourceKey('IPPool', 'bench-pool'), JSON.stringify(pool)],
    [resourceKey('Node', LOCAL_NODE), nodeJson(LOCAL_NODE, '192.168.10.11/24', '10.79.255.0')],
  ];
  for (let i = 0; i < remote + claimers; i++) {
    const name = `node-${i}`;
    const cidr = blockCidr(i + 1);
    entries.push([
      resourceKey('Node', name),
      nodeJson(name, `${hostIp(i + 1)}/16`, cidr.split('/')[0]),
    ]);
    if (i < remote) entries.push([blockKey(4, cidr), blockJson(cidr, name)]);
  }
  await putAll(store, entries);
}

async function claim(store: Datastore, remote: number): Promise<void> {
  const ipam = createIpam(store, {
    now: () => Date.now(),
    nowNanos: () => BigInt(Date.now()) * 1_000_000n,
    random: Math.random,
  });
  let next = remote;
  for await (const _line of createInterface({ input: process.stdin })) {
    const host = `node-${next++}`;
    const cidr = blockCidr(next);
    // The block of this node's VTEP address is claimed with that address. The clock starts with
    // the claim: its first write (the block with its affinity) is what every node routes on.
    const claimedAt = now();
    await ipam.assignIp({
      ip: cidr.split('/')[0]!,
      hostname: host,
      handleId: `bench-${host}`,
      attrs: { node: host },
    });
    process.stdout.write(`${JSON.stringify({ dst: cidr, claimedAt })}\n`);
  }
}

/** Print `{"dst", "at"}` for every block write this process's watch sees (the anchor). */
async function watchBlocks(store: Datastore): Promise<void> {
  const { revision } = await store.list(blocksPrefix(), { limit: 1, keysOnly: true });
  const watcher = store.watch(blocksPrefix(), revision, (event) => {
    const cidr = event.key.slice(event.key.lastIndexOf('/') + 1).replace(/-(\d+)$/, '/$1');
    process.stdout.write(`${JSON.stringify({ dst: cidr, at: now() })}\n`);
  });
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.on('end', resolve).resume());
  await watcher.close();
}

async function main(): Promise<void> {
  const [mode, remoteText, claimersText] = process.argv.slice(2);
  const config = await loadDatastoreConfig({
    configFile: DEFAULT_CONFIG_FILE,
    env: process.env,
  });
  const store = await openDatastore(config);
  try {
    if (mode === 'seed') await seed(store, Number(remoteText), Number(claimersText));
    else if (mode === 'claim') await claim(store, Number(remoteText));
    else if (mode === 'watch') await watchBlocks(store);
    else if (mode === 'count') {
      let n = 0;
      for await (const page of listPages(store, blocksPrefix(), { limit: 1000, keysOnly: true }))
        n += page.items.length;
      process.stdout.write(`${n}\n`);
    } else throw new Error(`unknown mode ${mode}`);
  } finally {
    await store.close();
  }
}

if (process.argv[1]?.endsWith('node-agent-writer.js')) await main();
