// Claim cost as the pool fills: the time of an AutoAssign that must claim a new block, in a /10
// pool with /26 blocks that already holds 100, 1,000, 16,000 and 64,000 blocks (of 65,536), in
// one run. The blocks are pre-filled directly as block + affinity records, starting at the
// claiming host's own search start, so every claim has to pass all of them. Calico lists every
// block per claim (O(blocks)); cidrpool's block index keeps it flat, which the ratio shows.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listAll, type Datastore } from '../src/datastore/api.js';
import { blocksPrefix } from '../src/datastore/keys.js';
import { openEmbeddedStore } from '../src/datastore/embedded/index.js';
import { createIpam } from '../src/ipam/index.js';
import { hostBlockStartIndex } from '../src/ipam/go-random.js';
import { blockAt, blockCount, formatCidr, parseCidr } from '../src/net/index.js';
import { fillerBlock, writeBlocks, writePoolAndNode } from './prefill.js';
import { percentile } from './support.js';
import type { BenchContext, BenchFigure, BenchScenario } from './types.js';

const POOL = '10.64.0.0/10';
const BLOCK_SIZE = 26;
const HOST = 'bench-claimer';
const CLAIMS = 15;

async function prefill(store: Datastore, blocks: number): Promise<void> {
  const pool = parseCidr(POOL);
  const n = blockCount(pool, BLOCK_SIZE);
  const start = hostBlockStartIndex(HOST, n);
  const written = Array.from({ length: blocks }, (_, i) =>
    fillerBlock(
      formatCidr(blockAt(pool, BLOCK_SIZE, (start + BigInt(i)) % n)),
      `filler-${i % 500}`,
      i,
    ),
  );
  await writeBlocks(store, 4, BLOCK_SIZE, written);
  await writePoolAndNode(store, { name: 'bench', cidr: POOL, blockSize: BLOCK_SIZE }, HOST);
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
    return { claim: percentile(times, 50), listAll: listMs };
  } finally {
    await store.close();
  }
}

export const scenario: BenchScenario = {
  title: '4. Claim cost as the pool fills (/10 pool, /26 blocks)',
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
