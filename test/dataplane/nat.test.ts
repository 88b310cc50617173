// The desired NAT tables and their nft script (dataplane.md §5), without a kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredNatTables, type NatTable } from '../../src/dataplane/nat.js';
import {
  isNatTableCurrent,
  natTableListing,
  renderNatScript,
} from '../../src/dataplane/nat-script.js';
import { parseNatOptions } from '../../src/dataplane/nat-options.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import type { IPPool, IPPoolSpec, Node, NodeSpec } from '../../src/resources/types.js';

const pool = (name: string, spec: IPPoolSpec): IPPool => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec,
});
const node = (spec: NodeSpec, name = 'n1'): Node => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: { name },
  spec,
});
const [v4, v6] = [0, 1];

describe('desiredNatTables', () => {
  it('puts natOutgoing pools in the masq set and every non-LoadBalancer pool, disabled ones too, in the network set (T10, T12)', () => {
    const tables = desiredNatTables({
      pools: [
        pool('a', { cidr: '10.244.0.0/16', natOutgoing: true, vxlanMode: 'Always' }),
        pool('off', { cidr: '10.99.0.0/16', disabled: true }),
        pool('lb', { cidr: '10.96.0.0/24', allowedUses: ['LoadBalancer'], natOutgoing: true }),
        pool('v6', { cidr: 'fd00:244::/64', natOutgoing: false }),
      ],
      nodeName: 'n1',
      nodes: [],
    });
    assert.deepEqual(tables[v4], {
      family: 4,
      masqPools: ['10.96.0.0/24', '10.244.0.0/16'],
      // issue #12767: the LoadBalancer-only pool is a NAT destination like any outside address.
      networkPools: ['10.99.0.0/16', '10.244.0.0/16'],
      outgoing: {}, // masquerade, any port, pools only excluded (Felix's defaults)
      tunnels: [], // VXLAN is on, but the node has no tunnel address yet
      vxlanFilter: { port: 4789, allowedHosts: [] },
    });
    assert.deepEqual(tables[v6], {
      family: 6,
      masqPools: [],
      networkPools: ['fd00:244::/64'],
      outgoing: {},
      tunnels: [],
    });
  });

  it('keeps only the outermost of nested CIDRs (nft interval sets reject overlaps)', () => {
    const [table] = desiredNatTables({
      pools: [
        pool('inner', { cidr: '10.0.1.0/24', natOutgoing: true }),
        pool('outer', { cidr: '10.0.0.0/8', natOutgoing: true }),
        pool('bad', { cidr: 'not-a-cidr', natOutgoing: true }),
      ],
      nodeName: 'n1',
      nodes: [],
    });
    assert.deepEqual(table!.masqPools, ['10.0.0.0/8']);
  });

  it('masquerades host traffic into a tunnel once the device is enabled and the node has its address (§5.3, T13, T15)', () => {
    const pools = [
      pool('vx', { cidr: '10.244.0.0/16', vxlanMode: 'CrossSubnet' }),
      pool('ipip', { cidr: '10.10.0.0/16', ipipMode: 'Always', disabled: true }),
      pool('vx6', { cidr: 'fd00:244::/64', vxlanMode: 'Always' }),
    ];
    const tables = desiredNatTables({
      pools,
      nodeName: 'n1',
      nodes: [
        node({
          ipv4VXLANTunnelAddr: '10.244.1.0',
          ipv6VXLANTunnelAddr: 'fd00:244::1',
          bgp: { ipv4IPIPTunnelAddr: '10.10.1.1' },
        }),
      ],
      vxlanPort: 8472,
    });
    assert.deepEqual(tables[v4]!.tunnels, [
      { device: 'tunl0' },
      { device: 'vxlan.calico', udpPorts: { first: 8473, last: 65535 } },
    ]);
    assert.deepEqual(tables[v6]!.tunnels, [
      { device: 'vxlan-v6.calico', udpPorts: { first: 8473, last: 65535 } },
    ]);
    const withoutAddress = desiredNatTables({ pools, nodeName: 'n1', nodes: [node({})] });
    assert.deepEqual(
      withoutAddress.map((t) => t.tunnels),
      [[], []],
    );
  });
});

describe('desiredNatTables: VXLAN filter (§4.3, T17)', () => {
  it('allows VXLAN from the host of every other node with a VTEP of the family, only while VXLAN is on', () => {
    const nodes = [
      node({ bgp: { ipv4Address: '192.168.10.11/24' }, ipv4VXLANTunnelAddr: '10.244.1.0' }, 'n1'),
      node({ bgp: { ipv4Address: '192.168.20.13/24' }, ipv4VXLANTunnelAddr: '10.244.3.0' }, 'n3'),
      node({ bgp: { ipv4Address: '192.168.10.12/24' }, ipv4VXLANTunnelAddr: '10.244.2.0' }, 'n2'),
      node({ bgp: { ipv4Address: '192.168.10.14/24' } }, 'no-tunnel-yet'),
      node({ ipv4VXLANTunnelAddr: '10.244.5.0' }, 'no-bgp'),
      node(
        {
          bgp: { ipv4Address: '192.168.10.15/24', ipv6Address: 'fd00:10::15/64' },
          ipv6VXLANTunnelAddr: 'fd00:244::15',
        },
        'v6-only',
      ),
    ];
    const vxlan = pool('a', { cidr: '10.244.0.0/16', vxlanMode: 'CrossSubnet' });
    const vxlan6 = pool('b', { cidr: 'fd00:244::/64', vxlanMode: 'Always' });
    const tables = desiredNatTables({
      pools: [vxlan, vxlan6],
      nodeName: 'n1',
      nodes,
      vxlanPort: 4790,
    });
    assert.deepEqual(tables[v4]!.vxlanFilter, {
      port: 4790,
      allowedHosts: ['192.168.10.12/32', '192.168.20.13/32'],
    });
    assert.deepEqual(tables[v6]!.vxlanFilter, { port: 4790, allowedHosts: ['fd00:10::15/128'] });
    const noVxlan = desiredNatTables({
      pools: [pool('a', { cidr: '10.244.0.0/16' })],
      nodeName: 'n1',
      nodes,
    });
    assert.deepEqual(
      noVxlan.map((t) => t.vxlanFilter),
      [undefined, undefined],
    );
  });
});

describe('renderNatScript', () => {
  it('replaces both tables in one transaction, sets multi-line, masquerade only pool -> outside, VXLAN only from VTEP hosts', () => {
    const tables = desiredNatTables({
      pools: [
        pool('a', { cidr: '10.244.0.0/16', natOutgoing: true, vxlanMode: 'Always' }),
        pool('off', { cidr: '10.99.0.0/16', disabled: true }),
      ],
      nodeName: 'n1',
      nodes: [
        node({ ipv4VXLANTunnelAddr: '10.244.1.0' }),
        node({ bgp: { ipv4Address: '192.168.10.12/24' }, ipv4VXLANTunnelAddr: '10.244.2.0' }, 'n2'),
      ],
    });
    assert.equal(
      renderNatScript(tables),
      `add table ip calico
delete table ip calico
table ip calico {
	set cali40masq-ipam-pools {
		type ipv4_addr
		flags interval
		elements = {
			10.244.0.0/16,
		}
	}
	set cali40network-ip-pools {
		type ipv4_addr
		flags interval
		elements = {
			10.99.0.0/16,
			10.244.0.0/16,
		}
	}
	set cali40all-vxlan-net {
		type ipv4_addr
		flags interval
		elements = {
			192.168.10.12/32,
		}
	}
	chain nat-POSTROUTING {
		type nat hook postrouting priority srcnat + 10; policy accept;
		jump nat-cali-POSTROUTING
	}
	chain nat-cali-POSTROUTING {
		jump nat-cali-nat-outgoing
		oifname "vxlan.calico" fib saddr . oif type != local fib saddr type local meta l4proto udp masquerade to :4790-65535
		oifname "vxlan.calico" fib saddr . oif type != local fib saddr type local masquerade
	}
	chain nat-cali-nat-outgoing {
		ip saddr @cali40masq-ipam-pools ip daddr != @cali40network-ip-pools masquerade fully-random
	}
	chain filter-INPUT {
		type filter hook input priority filter; policy accept;
		udp dport 4789 ip saddr @cali40all-vxlan-net fib daddr type local accept
		udp dport 4789 fib daddr type local counter drop
	}
	chain raw-PREROUTING {
		type filter hook prerouting priority raw; policy accept;
		udp dport 4789 notrack
	}
	chain raw-OUTPUT {
		type filter hook output priority raw; policy accept;
		udp dport 4789 notrack
	}
}
add table ip6 calico
delete table ip6 calico
table ip6 calico {
	set cali60masq-ipam-pools {
		type ipv6_addr
		flags interval
	}
	set cali60network-ip-pools {
		type ipv6_addr
		flags interval
	}
	chain nat-POSTROUTING {
		type nat hook postrouting priority srcnat + 10; policy accept;
		jump nat-cali-POSTROUTING
	}
	chain nat-cali-POSTROUTING {
		jump nat-cali-nat-outgoing
	}
	chain nat-cali-nat-outgoing {
	}
}
`,
    );
  });

  it('writes an empty nat-outgoing chain when no pool has natOutgoing (T11)', () => {
    const script = renderNatScript(
      desiredNatTables({
        pools: [pool('a', { cidr: '10.244.0.0/16' })],
        nodeName: 'n1',
        nodes: [],
      }),
    );
    assert.doesNotMatch(script, /masquerade/);
    assert.match(script, /chain nat-cali-nat-outgoing {\n\t}/);
  });

  it('expected listings differ exactly when the desired content differs', () => {
    const at = (natOutgoing: boolean): NatTable =>
      desiredNatTables({
        pools: [pool('a', { cidr: '10.244.0.0/16', natOutgoing })],
        nodeName: 'n1',
        nodes: [],
      })[v4]!;
    assert.equal(natTableListing(at(true)), natTableListing(at(true)));
    assert.notEqual(natTableListing(at(true)), natTableListing(at(false)));
  });
});

describe('Felix NAT options (§5.2, T12)', () => {
  const pools = [
    pool('a', { cidr: '10.244.0.0/16', natOutgoing: true }),
    pool('a6', { cidr: 'fd00:244::/64', natOutgoing: true }),
  ];
  const nodes = [
    node({ bgp: { ipv4Address: '192.168.10.11/24', ipv6Address: 'fd00:10::11/64' } }),
    node({ addresses: [{ address: '192.168.20.13', type: 'InternalIP' }] }, 'n3'),
  ];

  it('reads FELIX_NATOUTGOINGADDRESS, FELIX_NATPORTRANGE and FELIX_NATOUTGOINGEXCLUSIONS', () => {
    assert.deepEqual(parseNatOptions({}), { natOutgoingExclusions: 'IPPoolsOnly' });
    assert.deepEqual(
      parseNatOptions({
        FELIX_NATOUTGOINGADDRESS: '192.168.10.11',
        FELIX_NATPORTRANGE: '40000:40100',
        FELIX_NATOUTGOINGEXCLUSIONS: 'IPPoolsAndHostIPs',
      }),
      {
        natOutgoingAddress: '192.168.10.11',
        natPortRange: { first: 40000, last: 40100 },
        natOutgoingExclusions: 'IPPoolsAndHostIPs',
      },
    );
    assert.deepEqual(parseNatOptions({ FELIX_NATPORTRANGE: '5000' }).natPortRange, {
      first: 5000,
      last: 5000,
    });
  });

  it('rejects a bad value naming the variable, the value and the fix', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { FELIX_NATOUTGOINGADDRESS: 'fd00::1' },
        /^FELIX_NATOUTGOINGADDRESS: "fd00::1" is not an IPv4 address; give/,
      ],
      [
        { FELIX_NATPORTRANGE: '40100:40000' },
        /^FELIX_NATPORTRANGE: "40100:40000" is not a port range; write FIRST:LAST/,
      ],
      [{ FELIX_NATPORTRANGE: '0:10' }, /FELIX_NATPORTRANGE: "0:10"/],
      [
        { FELIX_NATOUTGOINGEXCLUSIONS: 'IPPools' },
        /^FELIX_NATOUTGOINGEXCLUSIONS: "IPPools" is not a known value; use IPPoolsOnly/,
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => parseNatOptions(env),
        (err: unknown) => isCidrpoolError(err, 'NODE_NAT_CONFIG') && message.test(err.message),
      );
    }
  });

  it('renders SNAT to natOutgoingAddress (IPv4 only), the port range for TCP and UDP first, and the host exclusion set', () => {
    const options = parseNatOptions({
      FELIX_NATOUTGOINGADDRESS: '192.168.10.11',
      FELIX_NATPORTRANGE: '40000:40100',
      FELIX_NATOUTGOINGEXCLUSIONS: 'IPPoolsAndHostIPs',
    });
    const tables = desiredNatTables({ pools, nodes, nodeName: 'n1', options });
    assert.deepEqual(tables[v4]!.outgoing, {
      snatTo: '192.168.10.11',
      ports: { first: 40000, last: 40100 },
      excludedHosts: ['192.168.10.11/32', '192.168.20.13/32'],
    });
    const script = renderNatScript(tables);
    const match =
      'ip saddr @cali40masq-ipam-pools ip daddr != @cali40network-ip-pools ip daddr != @cali40all-hosts-net';
    assert.ok(
      script.includes(`	chain nat-cali-nat-outgoing {
		${match} meta l4proto tcp snat to 192.168.10.11:40000-40100 fully-random
		${match} meta l4proto udp snat to 192.168.10.11:40000-40100 fully-random
		${match} snat to 192.168.10.11 fully-random
	}`),
      script,
    );
    assert.match(
      script,
      /set cali40all-hosts-net {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = {\n\t\t\t192\.168\.10\.11\/32,\n\t\t\t192\.168\.20\.13\/32,\n/,
    );
    // IPv6 masquerades (in range): natOutgoingAddress is an IPv4 setting.
    assert.match(
      script,
      /ip6 daddr != @cali60all-hosts-net meta l4proto tcp masquerade to :40000-40100 fully-random\n/,
    );
  });
});

describe('isNatTableCurrent', () => {
  const [table4, table6] = desiredNatTables({
    pools: [
      pool('a', { cidr: '10.244.0.0/16', natOutgoing: true, vxlanMode: 'Always' }),
      pool('b', { cidr: '10.245.0.0/16' }),
      pool('off', { cidr: '10.99.0.0/16', disabled: true }),
      pool('a6', { cidr: 'fd00:0:0:1::/64', natOutgoing: true }),
      pool('b6', { cidr: 'fd00:244::/64' }),
    ],
    nodeName: 'n1',
    nodes: [
      node({ ipv4VXLANTunnelAddr: '10.244.1.0' }),
      node({ bgp: { ipv4Address: '192.168.10.12/24' }, ipv4VXLANTunnelAddr: '10.244.2.0' }, 'n2'),
    ],
  });
  // `nft list table ip calico` (nft 1.0.6) after the table's script was applied, counter moved.
  const listed4 = `table ip calico {
	set cali40masq-ipam-pools {
		type ipv4_addr
		flags interval
		elements = { 10.244.0.0/16 }
	}

	set cali40network-ip-pools {
		type ipv4_addr
		flags interval
		elements = { 10.99.0.0/16, 10.244.0.0/16,
			     10.245.0.0/16 }
	}

	set cali40all-vxlan-net {
		type ipv4_addr
		flags interval
		elements = { 192.168.10.12 }
	}

	chain nat-POSTROUTING {
		type nat hook postrouting priority srcnat + 10; policy accept;
		jump nat-cali-POSTROUTING
	}

	chain nat-cali-POSTROUTING {
		jump nat-cali-nat-outgoing
		oifname "vxlan.calico" fib saddr . oif type != local fib saddr type local meta l4proto udp masquerade to :4790-65535
		oifname "vxlan.calico" fib saddr . oif type != local fib saddr type local masquerade
	}

	chain nat-cali-nat-outgoing {
		ip saddr @cali40masq-ipam-pools ip daddr != @cali40network-ip-pools masquerade fully-random
	}

	chain filter-INPUT {
		type filter hook input priority filter; policy accept;
		udp dport 4789 ip saddr @cali40all-vxlan-net fib daddr type local accept
		udp dport 4789 fib daddr type local counter packets 12 bytes 600 drop
	}

	chain raw-PREROUTING {
		type filter hook prerouting priority raw; policy accept;
		udp dport 4789 notrack
	}

	chain raw-OUTPUT {
		type filter hook output priority raw; policy accept;
		udp dport 4789 notrack
	}
}
`;
  const listed6 = `table ip6 calico {
	set cali60masq-ipam-pools {
		type ipv6_addr
		flags interval
		elements = { fd00:0:0:1::/64 }
	}

	set cali60network-ip-pools {
		type ipv6_addr
		flags interval
		elements = { fd00:0:0:1::/64,
			     fd00:244::/64 }
	}

	chain nat-POSTROUTING {
		type nat hook postrouting priority srcnat + 10; policy accept;
		jump nat-cali-POSTROUTING
	}

	chain nat-cali-POSTROUTING {
		jump nat-cali-nat-outgoing
	}

	chain nat-cali-nat-outgoing {
		ip6 saddr @cali60masq-ipam-pools ip6 daddr != @cali60network-ip-pools masquerade fully-random
	}
}
`;

  it('takes the table as nft lists it (wrapped elements, bare host addresses, counter values) as current', () => {
    assert.equal(isNatTableCurrent(listed4, table4!), true);
    assert.equal(isNatTableCurrent(listed6, table6!), true);
  });

  it('rewrites a missing, flushed, extended or out-of-date table', () => {
    assert.equal(isNatTableCurrent(undefined, table4!), false);
    const flushed = listed4.replace(/\t\tip saddr @cali40masq-ipam-pools .*\n/, '');
    assert.equal(isNatTableCurrent(flushed, table4!), false);
    const extended = listed4.replace('\t\tjump nat-cali-nat-outgoing\n', '$&\t\taccept\n');
    assert.equal(isNatTableCurrent(extended, table4!), false);
    assert.equal(isNatTableCurrent(listed4, { ...table4!, masqPools: [] }), false);
    assert.equal(isNatTableCurrent(listed6, table4!), false);
  });
});
