// The CLI on a real etcd (started by the test on a loopback port): the datastore chosen through
// the environment and through a CalicoAPIConfig file (-c), as calicoctl users do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxForSuite } from './support.js';

const POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
---
apiVersion: v1
kind: ipPool
metadata:
  cidr: 10.1.0.0/16
spec:
  nat-outgoing: true
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node1
spec: {}
`;

describe('cidrpool on etcd', () => {
  const sb = sandboxForSuite({ etcd: true });

  it('creates, lists and assigns through the environment', async () => {
    assert.equal(
      await sb.ok(['create', '-f', sb.write('pools.yaml', POOLS)]),
      'Successfully created 3 resource(s)\n',
    );
    const wide = await sb.ok(['get', 'ippool', '-o', 'wide']);
    assert.match(wide, /^NAME +CIDR +NAT +IPIPMODE/);
    assert.match(wide, /\n10-1-0-0-16 +10\.1\.0\.0\/16 +true +Never /);
    const ip = await sb.ok([
      'ipam',
      'assign',
      '--node',
      'node1',
      '--pod',
      'web-1',
      '--pool',
      'default-ipv4-ippool',
    ]);
    assert.match(ip, /^192\.168\.\d+\.\d+\/26\n$/);
    assert.match(await sb.ok(['get', 'wep', '-A']), /default +web-1 +node1 +192\.168\./);
    assert.match(
      await sb.ok(['ipam', 'show', '--show-blocks']),
      /\| Block +\| 192\.168\.\d+\.\d+\/26 \|/,
    );
    // Calico's key layout, so calicoctl would see the same data.
    const keys = (
      await sb.etcd.etcdctl([
        'get',
        '--prefix',
        '--keys-only',
        '/calico/resources/v3/projectcalico.org/ippools/',
      ])
    ).toString();
    assert.match(keys, /\/calico\/resources\/v3\/projectcalico\.org\/ippools\/default-ipv4-ippool/);
  });

  it('reads the datastore from a CalicoAPIConfig file with -c', async () => {
    const config = sb.write(
      'calicoctl.cfg',
      `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${sb.etcd.endpoints.join(',')}\n`,
    );
    const res = await sb.run(['get', 'pools', '-c', config], {
      env: { DATASTORE_TYPE: 'embedded' },
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /default-ipv4-ippool/);
    const missing = await sb.run(['get', 'pools', '-c', `${sb.dir}/nope.cfg`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr + missing.stdout, /Error reading config file: .*nope\.cfg/);
  });

  it('checks and deletes cleanly', async () => {
    assert.match(await sb.ok(['ipam', 'check']), /Check complete; found 0 problems\.\n$/);
    assert.equal(
      await sb.ok(['delete', 'pool', '10-1-0-0-16']),
      "Successfully deleted 1 'IPPool' resource(s)\n",
    );
  });
});
