// BGPConfiguration and BGPPeer through the CLI, on the embedded store and on a real etcd at
// Calico's keys: aliases, tables as calicoctl prints them (golden), YAML round trip, validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertGolden, sandboxForSuite, type Sandbox } from './support.js';

const CONFIG = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  asNumber: 63400
  serviceClusterIPs:
  - cidr: 10.96.0.0/12
  listenPort: 179
  bindMode: NodeIP
  communities:
  - name: bgp-large-community
    value: 63400:300:100
  prefixAdvertisements:
  - cidr: 172.218.4.0/26
    communities:
    - bgp-large-community
    - 63400:120
`;

const PEERS = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor-rack1
spec:
  peerIP: 192.168.10.1
  asNumber: 65000
  nodeSelector: rack == 'r1'
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rr-clients
spec:
  peerSelector: has(route-reflector)
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: node1-special
spec:
  node: node1
  peerIP: "[fd00::1]:1790"
  asNumber: 65001
  keepOriginalNextHop: true
`;

const NODE = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node1
spec:
  bgp:
    ipv4Address: 192.168.10.11/24
`;

async function exerciseKinds(sb: Sandbox): Promise<void> {
  assert.equal(
    await sb.ok(['create', '-f', sb.write('config.yaml', CONFIG)]),
    "Successfully created 1 'BGPConfiguration' resource(s)\n",
  );
  assert.equal(
    await sb.ok(['apply', '-f', sb.write('peers.yaml', PEERS)]),
    "Successfully applied 3 'BGPPeer' resource(s)\n",
  );
  await sb.ok(['apply', '-f', sb.write('node.yaml', NODE)]);
  for (const alias of ['bgpconfig', 'BGPConfigurations']) {
    assertGolden('get-bgpconfig.txt', await sb.ok(['get', alias]));
  }
  for (const alias of ['bgpp', 'BPS']) {
    assertGolden('get-bgppeers.txt', await sb.ok(['get', alias, '-o', 'wide']));
  }
  assert.equal(await sb.ok(['get', 'ippools', '-o', 'go-template={{config "asnumber"}}']), '63400');
  // A node without its own AS shows the global one in parentheses.
  assert.match(
    await sb.ok(['get', 'nodes', '-o', 'wide']),
    /node1 +\(63400\) +192\.168\.10\.11\/24/,
  );
  const yaml = await sb.ok(['get', 'bgpconfig', 'default', '-o', 'yaml']);
  assert.match(yaml, /asNumber: 63400\n/);
  assert.match(yaml, /serviceClusterIPs:\n {2}- cidr: 10\.96\.0\.0\/12\n/);
  assert.match(yaml, /communities:\n {2}- name: bgp-large-community\n {4}value: 63400:300:100\n/);
  // Mesh off, then the field change shows in the table.
  await sb.ok(['apply', '-f', '-'], {
    input: CONFIG.replace('nodeToNodeMeshEnabled: true', 'nodeToNodeMeshEnabled: false'),
  });
  assert.match(await sb.ok(['get', 'bgpconfig']), /default +Info +false +63400/);
  assert.equal(
    await sb.ok(['delete', 'bgppeer', 'rr-clients']),
    "Successfully deleted 1 'BGPPeer' resource(s)\n",
  );
  assert.doesNotMatch(await sb.ok(['get', 'bgppeers']), /rr-clients/);
}

describe('BGP resources on the embedded store', () => {
  const sb = sandboxForSuite();

  it('creates, lists, applies and deletes BGPConfiguration and BGPPeer', async () => {
    await exerciseKinds(sb);
    // Without a BGPConfiguration the global AS is 64512.
    await sb.ok(['delete', 'bgpconfig', 'default']);
    assert.match(await sb.ok(['get', 'nodes', '-o', 'wide']), /node1 +\(64512\)/);
  });

  it('rejects bad BGP resources naming the field, the value and the fix', async () => {
    const bad = `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: bad
spec:
  node: node1
  nodeSelector: all()
  peerIP: 10.0.0.300
  peerSelector: has(x)
  asNumber: 65000
`;
    const run = await sb.run(['create', '-f', sb.write('bad.yaml', bad)]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /spec\.peerIP = '10\.0\.0\.300' \(must be an IP address with an optional port/,
    );
    assert.match(
      run.stderr,
      /spec\.nodeSelector = 'all\(\)' \(node and nodeSelector cannot both be set/,
    );
    assert.match(
      run.stderr,
      /spec\.asNumber = '65000' \(asNumber must be empty when peerSelector is set/,
    );
    const badConfig = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Loud
  asNumber: -1
  communities:
  - name: big
    value: 70000:1
`;
    const config = await sb.run(['create', '-f', sb.write('badc.yaml', badConfig)]);
    assert.equal(config.code, 1);
    assert.match(config.stderr, /spec\.asNumber/);

    const level = await sb.run(['create', '-f', '-'], {
      input: badConfig.replace('  asNumber: -1\n', ''),
    });
    assert.match(
      level.stderr,
      /spec\.logSeverityScreen = 'Loud' \(must be a log level; one of Trace/,
    );
    // Calico's community rules: 16-bit parts in a standard community, and only used ones.
    assert.match(
      level.stderr,
      /spec\.communities\[0\]\.value = '70000:1' \(invalid community value, expected 16 bit value/,
    );
    assert.match(
      level.stderr,
      /spec\.communities = 'big' \(communities are defined but not used in Spec\.PrefixAdvertisement\[\]\./,
    );
    assert.equal(
      await sb.ok(['get', 'bgppeers', '-o', 'yaml']).then((y) => y.includes('bad')),
      false,
    );
  });
});

describe('BGP resources on etcd', () => {
  const sb = sandboxForSuite({ etcd: true });

  it('stores them at Calico keys with the same CLI results', async () => {
    await exerciseKinds(sb);
    const keys = (
      await sb.etcd.etcdctl([
        'get',
        '--prefix',
        '--keys-only',
        '/calico/resources/v3/projectcalico.org/bgp',
      ])
    )
      .toString()
      .split('\n')
      .filter(Boolean);
    assert.deepEqual(keys, [
      '/calico/resources/v3/projectcalico.org/bgpconfigurations/default',
      '/calico/resources/v3/projectcalico.org/bgppeers/node1-special',
      '/calico/resources/v3/projectcalico.org/bgppeers/tor-rack1',
    ]);
  });
});
