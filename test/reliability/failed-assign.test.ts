// Issue 15, item 1: a multi-address `ipam assign` that fails part-way keeps nothing, and the
// node can allocate again afterwards (spawned CLI on the embedded store).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxForSuite } from '../cli/support.js';

const SETUP = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: small-blocks
spec:
  cidr: 10.80.0.0/20
  blockSize: 28
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec: {}
`;

describe('a failed multi-address assign', () => {
  const sb = sandboxForSuite({ setup: SETUP });

  it('fails at the block limit and leaves no address, handle or problem behind', async () => {
    const failed = await sb.run(['ipam', 'assign', '--node', 'node-1', '--ipv4', '400']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /limit of 20 blocks reached for this node/);
    const check = await sb.ok(['ipam', 'check']);
    assert.match(check, /IPAM blocks record 0 allocations\./);
    assert.match(check, /Check complete; found 0 problems\./);
    // The node is not stuck: a request that fits still succeeds (a pod, so its addresses are in use).
    const ok = await sb.ok(['ipam', 'assign', '--node', 'node-1', '--pod', 'p1', '--ipv4', '2']);
    assert.equal(ok.trim().split('\n').length, 2);
  });

  it('fails on a shortfall and keeps nothing', async () => {
    const failed = await sb.run([
      'ipam',
      'assign',
      '--node',
      'node-1',
      '--ipv4',
      '1',
      '--ipv6',
      '1',
    ]);
    assert.equal(failed.code, 1);
    const check = await sb.ok(['ipam', 'check']);
    assert.match(check, /IPAM blocks record 2 allocations\./);
    assert.match(check, /Check complete; found 0 problems\./);
  });
});
