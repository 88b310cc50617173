// Scenario 5: borrowing in a sparse pool. Every /26 block of a /8 pool (262,144 blocks) is claimed
// by other hosts and full, except one that still has room (2 addresses), placed last in the
// borrower's search order. The borrower owns no block, so it must borrow. Calico borrows by one
// Get per possible block in search order (ipam-core.md §3.10, §5.1); the anchor is exactly those
// Gets, run on the same store in the same run. Two borrows are timed: the first finds the pool
// full for the first time, so it checks the block index against one listing of the pool; the
// second (within INDEX_RECHECK_MS) follows the room bitmap alone.
import { join } from 'node:path';
import { blockKey } from '../src/datastore/keys.js';
import { openEmbeddedStore } from '../src/datastore/embedded/index.js';
import { createIpam } from '../src/ipam/index.js';
import { hostBlockStartIndex } from '../src/ipam/go-random.js';
import {
  blockAt,
  blockCount,
  cidrContainsIp,
  formatCidr,
  parseCidr,
  parseIp,
} from '../src/net/index.js';
import { fillerBlock, writeBlocks, writePoolAndNode } from './prefill.js';
import { timeMs } from './support.js';
import type { BenchScenario } from './types.js';

const BLOCK_SIZE = 26;
const BORROWER = 'borrower';

export const scenario: BenchScenario = {
  title: '5. Borrowing in a sparse pool (/8, /26 blocks)',
  async run({ workDir, scale, log }) {
    // At scale < 1 the pool shrinks (a /12 at 0.1) so smoke runs stay quick.
    const poolPrefix = scale >= 1 ? 8 : 12;
    const poolText = `10.0.0.0/${poolPrefix}`;
    const pool = parseCidr(poolText);
    const n = blockCount(pool, BLOCK_SIZE);
    const start = hostBlockStartIndex(BORROWER, n);
    const order = (i: bigint): string => formatCidr(blockAt(pool, BLOCK_SIZE, (start + i) % n));
    const store = await openEmbeddedStore({
      type: 'embedded',
      dataDir: join(workDir, 'data'),
      synchronous: 'normal',
    });
    try {
      log(`writing ${n} blocks (one with room, last in the borrower's order)...`);
      const blocks = [];
      for (let i = 0n; i < n; i++) {
        blocks.push(fillerBlock(order(i), `host-${i % 1000n}`, Number(i), i === n - 1n ? 2 : 0));
      }
      await writeBlocks(store, 4, BLOCK_SIZE, blocks);
      blocks.length = 0;
      await writePoolAndNode(
        store,
        { name: 'sparse', cidr: poolText, blockSize: BLOCK_SIZE },
        BORROWER,
      );

      const expected = parseCidr(order(n - 1n));
      // A new engine per borrow: the CNI plugin is a short-lived process.
      const borrow = async (handleId: string): Promise<number> => {
        let address = '';
        const ms = await timeMs(async () => {
          const result = await createIpam(store).autoAssign({
            num4: 1,
            num6: 0,
            handleId,
            hostname: BORROWER,
            intendedUse: 'Workload',
          });
          address = result.ipv4.ips[0] ?? '';
        });
        if (!address || !cidrContainsIp(expected, parseIp(address.split('/')[0]!))) {
          throw new Error(
            `borrowed ${address || 'nothing'}, expected an address in ${formatCidr(expected)}`,
          );
        }
        log(`borrowed ${address} in ${ms.toFixed(1)} ms`);
        return ms;
      };
      const firstMs = await borrow('borrow-1');
      const steadyMs = await borrow('borrow-2');
      const calicoMs = await timeMs(async () => {
        for (let i = 0n; i < n; i++) await store.get(blockKey(4, order(i)));
      });
      log(`${n} Gets take ${calicoMs.toFixed(0)} ms`);
      const anchor = { name: "Calico's walk: one Get per block", value: calicoMs, unit: 'ms' };
      const blocksText = `${n.toLocaleString('en-US')} blocks, 1 with room`;
      return [
        {
          metric: `borrow 1 address, ${blocksText}, first time the pool is full`,
          value: firstMs,
          unit: 'ms',
          anchor,
          ratio: firstMs / calicoMs,
          ratioMeaning: 'cidrpool / Calico walk (lower is better)',
          notes: 'includes one listing of the pool that checks the block index (once a minute)',
        },
        {
          metric: `borrow 1 address, ${blocksText}, index checked within the minute`,
          value: steadyMs,
          unit: 'ms',
          anchor,
          ratio: steadyMs / calicoMs,
          ratioMeaning: 'cidrpool / Calico walk (lower is better)',
          notes: 'follows the room bitmap: reads the one block with room',
        },
      ];
    } finally {
      await store.close();
    }
  },
};
