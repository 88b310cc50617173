// Claim cost as the pool fills: the time of an AutoAssign that must claim a new block, in a /10
// pool with /26 blocks that already holds 100, 1,000, 16,000 and 64,000 blocks (of 65,536), in
// one run. The blocks are pre-filled directly as block + affinity records, starting at the
// claiming host's own search start, so every claim has to pass all of them. Calico lists every
// block per claim (O(blocks)); cidrpool's block index keeps it flat, which the ratio shows.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Datastore, TxnOperation } from '../src/datastore/api.js';
import { affinityKey, blockKey, blocksPrefix, resourceKey } from '../src/datastore/keys.js';
import { openEmbeddedStore } from '../src/datastore/embedded/index.js';
import { listAll } from '../src/datastore/api.js';
import { createIpam } from '../src/ipam/index.js';
import { newBlock, formatTime } from '../src/ipam/block.js';
import { rebuildIndexRange } from '../src/ipam/block-index.js';
import { hostBlockStartIndex } from '../src/ipam/go-random.js';
import { encodeAffinity, encodeBlock, type Block } from '../src/ipam/model.js';
import { blockAt, formatCidr, parseCidr } from '../src/net/index.js';
import type { BenchContext, BenchFigure, BenchScenario } from './types.js';

const POOL = '10.64.0.0/10';
const BLOCK_SIZE = 26;
const HOST = 'bench-claimer';
const CLAIMS = 15;

function percentile50(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** A full block owned by another host, as Calico would store it. */
function fullBlock(cidrText: string, owner: string, seq: bigint): Block {
  const b = newBlock(parseCidr(cidrText), {
    sequenceNumber: seq,
    affinity: `host:${owner}`,
    claimTime: formatTime(Date.UTC(2026, 0, 1)),
  });
  return {
    ...b,
    allocations: b.allocations.map(() => 0),
    unallocated: [],
    attributes: [{ handleId: `fill-${cidrText}`, secondary: { node: owner } }],
  };
}

async function prefill(store: Datastore, blocks: number): Promise<void> {
  const pool = parseCidr(POOL);
  const n = 1n << BigInt(BLOCK_SIZE - pool.prefix);
  const start = hostBlockStartIndex(HOST, n);
  const written: Block[] = [];
  let ops: TxnOperation[] = [];
  for (let i = 0; i < blocks; i++) {
    const cidr = formatCidr(blockAt(pool, BLOCK_SIZE, (start + BigInt(i)) % n));
    const owner = `filler-${i % 500}`;
    const b = fullBlock(cidr, owner, 1_780_000_000_000_000_000n + BigInt(i));
    written.push(b);
    ops.push({ op: 'put', key: blockKey(4, cidr), value: encodeBlock(b) });
    ops.push({ op: 'put', key: affinityKey(owner, 4, cidr), value: encodeAffinity('confirmed') });
    if (ops.length >= 1000) {
      await store.txn([], ops);
      ops = [];
    }
  }
  if (ops.length > 0) await store.txn([], ops);
  // The index a long-running cluster would already have (cold processes read it, not blocks).
  await rebuildIndexRange(store, { family: 4, base: 0n, prefix: 0 }, BLOCK_SIZE, written, true);
  const poolJson = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'bench' },
    spec: { cidr: POOL, blockSize: BLOCK_SIZE },
  };
  await store.put(resourceKey('IPPool', 'bench'), JSON.stringify(poolJson));
  const node = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name: HOST },
    spec: {},
  };
  await store.put(resourceKey('Node', HOST), JSON.stringify(node));
}

/** p50 of CLAIMS AutoAssigns of 64 addresses (each claims exactly one new block) by a cold engine. */
async function measureClaims(
  context: BenchContext,
  blocks: number,
  label = `claim-${blocks}`,
): Promise<{ claim: number; listAll: number }> {
  const dir = join(context.workDir, label);
  mkdirSync(dir, { recursive: true });
  const store = await openEmbeddedStore({ type: 'embedded', dataDir: dir, synchronous: 'normal' });
  try {
    await prefill(store, blocks);
    const times: number[] = [];
    for (let i = 0; i < CLAIMS; i++) {
      // A new engine each time: the CLI and the CNI plugin are short-lived processes.
      const ipam = createIpam(store);
      const t0 = performance.now();
      const r = await ipam.autoAssign({
        num4: 64,
        num6: 0,
        hostname: HOST,
        intendedUse: 'Workload',
        maxBlocksPerHost: 1000,
      });
      times.push(performance.now() - t0);
      if (r.ipv4.ips.length !== 64)
        throw new Error(`claim ${i} got ${r.ipv4.ips.length} addresses`);
    }
    const t0 = performance.now();
    await listAll(store, blocksPrefix(4), 1000);
    const listMs = performance.now() - t0;
    return { claim: percentile50(times), listAll: listMs };
  } finally {
    await store.close();
  }
}

export const scenario: BenchScenario = {
  title: 'Claim cost as the pool fills (/10 pool, /26 blocks)',
  async run(context: BenchContext): Promise<BenchFigure[]> {
    const full = [100, 1_000, 16_000, 64_000];
    const sizes = full.map((n, i) => (i === 0 ? n : Math.max(200, Math.round(n * context.scale))));
    const results = new Map<number, { claim: number; listAll: number }>();
    // Warm the JIT and the SQLite code paths first, so the smallest size is not penalised.
    await measureClaims(context, 100, 'warm-up');
    for (const n of sizes) {
      context.log(`claim cost: pre-filling ${n} blocks`);
      const r = await measureClaims(context, n);
      context.log(
        `claim cost: ${n} blocks -> claim p50 ${r.claim.toFixed(2)} ms; listing every block ${r.listAll.toFixed(1)} ms`,
      );
      results.set(n, r);
    }
    const base = results.get(sizes[0]!)!;
    return sizes.slice(1).map((n) => {
      const r = results.get(n)!;
      return {
        metric: `claim p50 with ${n.toLocaleString('en-US')} blocks stored`,
        value: Number(r.claim.toFixed(3)),
        unit: 'ms',
        anchor: {
          name: `claim p50 with ${sizes[0]} blocks stored`,
          value: Number(base.claim.toFixed(3)),
          unit: 'ms',
        },
        ratio: Number((r.claim / base.claim).toFixed(3)),
        ratioMeaning: `claim time at ${n} blocks / at ${sizes[0]} blocks (1.0 = flat; lower is better)`,
        notes: `Listing every block once (what Calico reads per claim) took ${r.listAll.toFixed(1)} ms at ${n} blocks; ${CLAIMS} cold-engine claims per size, each passing all pre-filled blocks.`,
      } satisfies BenchFigure;
    });
  },
};
