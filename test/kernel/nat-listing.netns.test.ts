// The agent decides whether to rewrite its NAT tables by comparing `nft list table` with the
// listing it derives from the desired tables (nat-script.ts natTableListing). Against the real
// nft, every form the agent writes must list exactly as derived; otherwise it would rewrite its
// tables at every pass.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { desiredNatTables, natNames, type NatInputs } from '../../src/dataplane/nat.js';
import { isNatTableCurrent, renderNatScript } from '../../src/dataplane/nat-script.js';
import type { IPPool, IPPoolSpec, Node, NodeSpec } from '../../src/resources/types.js';
import { execIn, NetnsScope, netnsSkipReason } from '../helpers/netns.js';

const pool = (name: string, spec: IPPoolSpec): IPPool => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec,
});
const node = (name: string, spec: NodeSpec): Node => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: { name },
  spec,
});

const pools = [
  pool('a', { cidr: '10.244.0.0/16', natOutgoing: true, vxlanMode: 'Always', ipipMode: 'Always' }),
  pool('b', { cidr: '10.245.0.0/16', natOutgoing: true }),
  pool('split-1', { cidr: '10.0.0.0/25' }),
  pool('split-2', { cidr: '10.0.0.128/25' }),
  pool('off', { cidr: '10.99.0.0/16', disabled: true }),
  pool('lb', { cidr: '10.96.0.0/24', allowedUses: ['LoadBalancer'] }),
  pool('v6', { cidr: 'fd00:244::/64', natOutgoing: true, vxlanMode: 'Always' }),
  pool('v6-wide', { cidr: 'fd01::/32' }),
  pool('v6-zeros', { cidr: 'fd00:0:0:1::/64', natOutgoing: true }),
];
const nodes = [
  node('n1', {
    bgp: {
      ipv4Address: '192.168.10.11/24',
      ipv6Address: 'fd00:10::11/64',
      ipv4IPIPTunnelAddr: '10.244.1.1',
    },
    ipv4VXLANTunnelAddr: '10.244.1.0',
    ipv6VXLANTunnelAddr: 'fd00:244::1',
  }),
  node('n2', {
    bgp: { ipv4Address: '192.168.10.12/24', ipv6Address: 'fd00:10::12/64' },
    ipv4VXLANTunnelAddr: '10.244.2.0',
    ipv6VXLANTunnelAddr: 'fd00:244::2',
  }),
  node('n3', { bgp: { ipv4Address: '192.168.20.13/24' }, ipv4VXLANTunnelAddr: '10.244.3.0' }),
];

const cases: Record<string, NatInputs> = {
  'no pools at all (empty sets and chains)': { pools: [], nodes: [], nodeName: 'n1' },
  'tunnels, VXLAN filter, nested and adjacent CIDRs, host addresses': {
    pools,
    nodes,
    nodeName: 'n1',
  },
  'every Felix NAT option': {
    pools,
    nodes,
    nodeName: 'n1',
    options: {
      natOutgoingAddress: '192.168.10.11',
      natPortRange: { first: 40000, last: 40100 },
      natOutgoingExclusions: 'IPPoolsAndHostIPs',
    },
  },
  'a single port': {
    pools,
    nodes,
    nodeName: 'n2',
    options: { natPortRange: { first: 5000, last: 5000 }, natOutgoingExclusions: 'IPPoolsOnly' },
  },
};

describe(
  'the NAT tables list as the agent expects (nft 1.0.6)',
  { skip: netnsSkipReason() },
  () => {
    const scope = new NetnsScope('cpcl-nft');
    const netns = scope.create();
    after(() => scope.cleanup());

    for (const [name, inputs] of Object.entries(cases)) {
      it(name, async () => {
        const tables = desiredNatTables(inputs);
        const applied = await execIn(netns, 'nft', ['-f', '-'], { stdin: renderNatScript(tables) });
        assert.equal(applied.code, 0, applied.stderr);
        for (const table of tables) {
          const names = natNames(table.family);
          const listed = await execIn(netns, 'nft', [
            'list',
            'table',
            names.nftFamily,
            names.table,
          ]);
          assert.equal(listed.code, 0, listed.stderr);
          assert.ok(isNatTableCurrent(listed.stdout, table), `kernel listing:\n${listed.stdout}`);
        }
      });
    }
  },
);
