// The IPPool rules that need the datastore (ipam-core.md §1.3 rules 19-21, §1.4), through the real
// CLI on both datastores: overlap, block-size conflict, immutable fields, deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DATASTORES, type Sandbox, type StoreSandbox } from '../cli/support.js';

const pool = (name: string, spec: string): string =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n${spec
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}\n`;

const NODE = 'apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: rules-node\n';

for (const store of DATASTORES) {
  describe(`IPPool datastore rules through the CLI (${store.name})`, () => {
    let opened: StoreSandbox;
    let sb: Sandbox;
    before(async () => {
      opened = await store.open();
      sb = opened.sb;
      await sb.ok(['create', '-f', sb.write('node.yaml', NODE)]);
    });
    after(async () => {
      sb.cleanup();
      await opened.stop();
    });

    const create = (file: string, text: string) => sb.run(['create', '-f', sb.write(file, text)]);

    it('refuses a pool that overlaps another (IPv4 and IPv6, disabled pools included)', async () => {
      await sb.ok([
        'create',
        '-f',
        sb.write('a.yaml', pool('a', 'cidr: 10.20.0.0/16\ndisabled: true')),
      ]);
      await sb.ok(['create', '-f', sb.write('a6.yaml', pool('a6', 'cidr: fd20::/48'))]);
      const cases: [string, string, string][] = [
        ['b', 'cidr: 10.20.128.0/17', 'IPPool(b) CIDR overlaps with IPPool(a) CIDR 10.20.0.0/16'],
        ['c', 'cidr: 10.0.0.0/8', 'IPPool(c) CIDR overlaps with IPPool(a) CIDR 10.20.0.0/16'],
        ['d', 'cidr: fd20:0:0:1::/64', 'IPPool(d) CIDR overlaps with IPPool(a6) CIDR fd20::/48'],
      ];
      for (const [name, spec, message] of cases) {
        const res = await create(`${name}.yaml`, pool(name, spec));
        assert.equal(res.code, 1, spec);
        assert.ok(res.stderr.includes(message), res.stderr);
        assert.equal((await sb.run(['get', 'ippool', name])).code, 1, 'nothing was written');
      }
      // The other family never overlaps; a neighbour does not either.
      await sb.ok(['create', '-f', sb.write('e.yaml', pool('e', 'cidr: 10.21.0.0/16'))]);
    });

    it('keeps cidr and blockSize, and a LoadBalancer pool stays one', async () => {
      await sb.ok([
        'create',
        '-f',
        sb.write('f.yaml', pool('f', 'cidr: fd30::/64\nblockSize: 120')),
      ]);
      // The same network written another way is the same CIDR.
      await sb.ok([
        'apply',
        '-f',
        sb.write('f2.yaml', pool('f', 'cidr: fd30:0:0::/64\nblockSize: 120')),
      ]);
      const moved = await sb.run([
        'apply',
        '-f',
        sb.write('f3.yaml', pool('f', 'cidr: fd31::/64\nblockSize: 120')),
      ]);
      assert.equal(moved.code, 1);
      assert.match(moved.stderr, /spec\.cidr = 'fd31::\/64' \(IPPool CIDR cannot be modified/);
      // blockSize left out defaults to 122, which is a change.
      const resized = await sb.run([
        'apply',
        '-f',
        sb.write('f4.yaml', pool('f', 'cidr: fd30::/64')),
      ]);
      assert.equal(resized.code, 1);
      assert.match(resized.stderr, /IPPool BlockSize cannot be modified/);
      await sb.ok([
        'create',
        '-f',
        sb.write('g.yaml', pool('g', 'cidr: 10.22.0.0/24\nallowedUses: [LoadBalancer]')),
      ]);
      const back = await sb.run([
        'apply',
        '-f',
        sb.write('g2.yaml', pool('g', 'cidr: 10.22.0.0/24\nallowedUses: [Workload]')),
      ]);
      assert.equal(back.code, 1);
      assert.match(
        back.stderr,
        /IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel/,
      );
      const got = JSON.parse(await sb.ok(['get', 'ippool', 'g', '-o', 'json']));
      assert.deepEqual(got.spec.allowedUses, ['LoadBalancer']);
    });

    it('deletes a pool without releasing its addresses; a new pool must match the blocks left', async () => {
      await sb.ok([
        'create',
        '-f',
        sb.write('h.yaml', pool('h', 'cidr: 10.30.0.0/16\nblockSize: 24')),
      ]);
      const ip = (await sb.ok(['ipam', 'assign', '--node', 'rules-node', '--pool', 'h'])).trim();
      assert.match(ip, /^10\.30\.\d+\.0\/24$/);
      await sb.ok(['delete', 'ippool', 'h']);
      const show = await sb.ok(['ipam', 'show', '--ip', ip.split('/')[0]!]);
      assert.match(show, /is in use/);
      const conflict = await create('i.yaml', pool('i', 'cidr: 10.30.0.0/16'));
      assert.equal(conflict.code, 1);
      assert.match(
        conflict.stderr,
        /spec\.blockSize = '26' \(IPPool blocksSize conflicts with existing allocations that use a different blockSize/,
      );
      await sb.ok([
        'create',
        '-f',
        sb.write('j.yaml', pool('j', 'cidr: 10.30.0.0/16\nblockSize: 24')),
      ]);
    });
  });
}
