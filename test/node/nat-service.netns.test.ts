// The NAT service against a real nft in a test namespace, with a hand edit made right after the
// agent's own write, the window in which an agent that reads its write back would take the edit
// for its own and never repair it (a CI flake of nat.netns.test.ts). No timing: the edit is made
// inside the adapter's applyScript, before the service sees the write complete.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { encodeResource } from '../../src/client/stored-form.js';
import type { Datastore } from '../../src/datastore/api.js';
import { resourceKey } from '../../src/datastore/keys.js';
import { openDatastore } from '../../src/datastore/open.js';
import type { Nft } from '../../src/kernel/nft.js';
import { startNatService } from '../../src/node/nat-service.js';
import type { AgentContext, AgentLog } from '../../src/node/types.js';
import type { IPPool } from '../../src/resources/types.js';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';

const pool = (name: string, cidr: string): IPPool => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr, natOutgoing: true },
});

async function putPool(store: Datastore, resource: IPPool): Promise<void> {
  await store.put(resourceKey('IPPool', resource.metadata.name), encodeResource(resource, {}));
}

/** The slice of an agent context the NAT service reads; no FelixConfiguration is stored. */
const agentContext = (store: Datastore, log: AgentLog, flags: Record<string, unknown>) =>
  ({
    store,
    log,
    options: { nodeName: 'n1', flags },
    client: { find: async () => undefined },
  }) as unknown as AgentContext;

/** Poll `check` every 20 ms until true; fail after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await delay(20);
  }
}

describe(
  'NAT service: a hand edit right after the agent writes',
  { skip: netnsSkipReason() },
  () => {
    const scope = new NetnsScope('cpcl-nats');
    const dir = mkdtempSync(join(tmpdir(), 'cpcl-nats-'));
    after(() => {
      scope.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('is repaired at the next event, not adopted', async () => {
      const netns = scope.create();
      const nft = (args: string[], stdin?: string) => execIn(netns, 'nft', args, { stdin });
      // Writes started and writes done: the kernel may show a write before its count is done.
      let started = 0;
      let writes = 0;
      // The real nft of the namespace; the first write is followed, before it returns, by someone
      // else flushing the nat-outgoing chain.
      const adapter: Nft = {
        async listTable(family, name) {
          const result = await nft(['list', 'table', family, name]);
          return result.code === 0 ? result.stdout : undefined;
        },
        async applyScript(script) {
          started += 1;
          const result = await nft(['-f', '-'], script);
          assert.equal(result.code, 0, result.stderr);
          writes += 1;
          if (writes === 1) {
            const flushed = await nft(['flush', 'chain', 'ip', 'calico', 'nat-cali-nat-outgoing']);
            assert.equal(flushed.code, 0, flushed.stderr);
          }
        },
      };
      const masquerades = async () =>
        (await nft(['list', 'chain', 'ip', 'calico', 'nat-cali-nat-outgoing'])).stdout.includes(
          'masquerade',
        );

      const store = await openDatastore({ type: 'embedded', dataDir: join(dir, 'data') });
      const lines: string[] = [];
      const log: AgentLog = (level, message) => lines.push(`${level} ${message}`);
      await putPool(store, pool('a', '10.244.0.0/16'));
      const context = agentContext(store, log, {});
      const service = await startNatService(context, {
        nft: adapter,
        natOptions: { natOutgoingExclusions: 'IPPoolsOnly' },
      });
      try {
        assert.equal(writes, 1);
        assert.equal(await masquerades(), false, 'the hand edit took effect');
        // An event that does not change the desired tables: the service compares the kernel anyway.
        await putPool(store, {
          ...pool('a', '10.244.0.0/16'),
          metadata: { name: 'a', labels: { x: 'y' } },
        });
        await until('the flushed chain to be rewritten', async () => writes === 2);
        assert.equal(await masquerades(), true);
        assert.ok(lines.includes('warning nat tables written'), lines.join('\n'));
        // And now the kernel is as desired: a further event writes nothing.
        await putPool(store, pool('b', '10.245.0.0/16'));
        await until('the new pool to be written', async () => writes === 3);
        await putPool(store, {
          ...pool('b', '10.245.0.0/16'),
          metadata: { name: 'b', labels: { x: 'y' } },
        });
        await putPool(store, pool('c', '10.246.0.0/16'));
        await until('the third pool to be written', async () =>
          (await nft(['list', 'set', 'ip', 'calico', 'cali40masq-ipam-pools'])).stdout.includes(
            '10.246.0.0/16',
          ),
        );
        assert.equal(started, 4, 'the label alone wrote nothing');
      } finally {
        await service.stop();
        await store.close();
      }
    });

    it('guards and avoids the VXLAN port of --vxlan-port', async () => {
      const netns = scope.create();
      const nft = (args: string[], stdin?: string) => execIn(netns, 'nft', args, { stdin });
      const adapter: Nft = {
        async listTable(family, name) {
          const result = await nft(['list', 'table', family, name]);
          return result.code === 0 ? result.stdout : undefined;
        },
        async applyScript(script) {
          const result = await nft(['-f', '-'], script);
          assert.equal(result.code, 0, result.stderr);
        },
      };
      const store = await openDatastore({ type: 'embedded', dataDir: join(dir, 'data-port') });
      await putPool(store, {
        ...pool('v', '10.248.0.0/16'),
        spec: { cidr: '10.248.0.0/16', natOutgoing: true, vxlanMode: 'Always' },
      });
      await store.put(
        resourceKey('Node', 'n1'),
        encodeResource(
          {
            apiVersion: 'projectcalico.org/v3',
            kind: 'Node',
            metadata: { name: 'n1' },
            spec: { ipv4VXLANTunnelAddr: '10.248.0.1' },
          },
          {},
        ),
      );
      const log: AgentLog = () => undefined;
      const service = await startNatService(agentContext(store, log, { vxlanPort: '4790' }), {
        nft: adapter,
        natOptions: { natOutgoingExclusions: 'IPPoolsOnly' },
      });
      try {
        const table = (await nft(['list', 'table', 'ip', 'calico'])).stdout;
        assert.match(table, /udp dport 4790/, table);
        assert.doesNotMatch(table, /4789/, table);
      } finally {
        await service.stop();
        await store.close();
      }
    });
  },
);
