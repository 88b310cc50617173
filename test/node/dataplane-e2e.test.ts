// The node agent end to end (spec/dataplane.md §8): three `cidrpool node run` processes in node
// namespaces of the §8.1 topology make pods on different nodes reach each other through VXLAN,
// and directly within a subnet under CrossSubnet. Kernel state is asserted as JSON from `ip -j`
// and `bridge -j`, and with real pings. The same body runs on the embedded store (one data dir
// shared by every process) and on etcd (inside the router namespace). Needs root.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { vtepMac } from '../../src/dataplane/index.js';
import { execIn, netnsSkipReason } from '../helpers/netns.js';
import { Cluster, NODES, must, waitFor, type StoreKind } from './cluster.js';

const skip = netnsSkipReason();

const poolYaml = (spec: string, name = 'pool-a', cidr = '10.244.0.0/16') =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  blockSize: ${cidr.includes(':') ? 122 : 26}\n${spec}`;

type Json = Record<string, unknown>;

function suite(store: StoreKind): void {
  describe(`node agent on ${store}`, { skip, concurrency: false }, () => {
    const cluster = new Cluster(store);

    /** The route to `dst` on `node` once it matches `expected` (fields compared), bounded. */
    const routeOn = (node: string, dst: string, expected: Json, family: 4 | 6 = 4) =>
      waitFor(`${dst} on ${node} to be ${JSON.stringify(expected)}`, async () => {
        const route = (await cluster.routes(node, family)).get(dst);
        if (!route) return undefined;
        const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, route[k]]));
        return JSON.stringify(picked) === JSON.stringify(expected) ? route : undefined;
      });
    const noRouteOn = (node: string, dst: string, family: 4 | 6 = 4) =>
      waitFor(`${dst} to leave ${node}`, async () =>
        (await cluster.routes(node, family)).has(dst) ? undefined : true,
      );

    before(async () => {
      await cluster.build();
      await cluster.apply(poolYaml('  vxlanMode: Always\n  natOutgoing: true\n'));
      // A pod per node first: its address claims the node's block 10.244.K.0/26 (§8.1 data).
      for (const [k, node] of NODES.entries())
        await cluster.createPod(`p${k + 1}`, node.name, `10.244.${k + 1}.5`);
      for (const node of NODES) cluster.startAgent(node);
    });
    after(async () => {
      await cluster.teardown();
    });

    it('registers every Node with its address and prefix, and a VXLAN tunnel address from its own block', async () => {
      for (const [k, node] of NODES.entries()) {
        const stored = await waitFor(`Node ${node.name} with a tunnel address`, async () => {
          const r = await cluster.cli(['get', 'node', node.name, '-o', 'json'], undefined, false);
          const parsed = r.code === 0 ? (JSON.parse(r.stdout) as { spec: Json }) : undefined;
          return parsed?.spec.ipv4VXLANTunnelAddr ? parsed : undefined;
        });
        assert.deepEqual(stored.spec.bgp, { ipv4Address: node.ip, ipv6Address: node.ip6 });
        assert.equal(stored.spec.ipv4VXLANTunnelAddr, `10.244.${k + 1}.0`);
      }
      const handles = await cluster.cli(['ipam', 'show', '--ip', '10.244.1.0']);
      assert.match(handles.stdout, /vxlan-tunnel-addr-n1/);
    });

    it('T1: vxlan.calico has VNI 4096, local N_L on eth0, port 4789, no learning, the VTEP MAC, MTU 1450, T_L/32', async () => {
      for (const [k, node] of NODES.entries()) {
        const [link] = await waitFor(`vxlan.calico on ${node.name}`, async () => {
          const links = await cluster
            .ipJson<Json>(node.name, ['-d', 'addr', 'show', 'dev', 'vxlan.calico'])
            .catch(() => []);
          return links.length > 0 ? links : undefined;
        });
        const info = (link!.linkinfo as { info_kind: string; info_data: Json }).info_data;
        assert.deepEqual(
          {
            kind: (link!.linkinfo as Json).info_kind,
            id: info.id,
            local: info.local,
            link: info.link,
            port: info.port,
            learning: info.learning,
          },
          {
            kind: 'vxlan',
            id: 4096,
            local: node.ip.split('/')[0],
            link: 'eth0',
            port: 4789,
            learning: false,
          },
        );
        assert.equal(link!.address, vtepMac(node.name, 4));
        assert.equal(link!.mtu, 1450);
        assert.ok((link!.flags as string[]).includes('UP'));
        const addresses = (link!.addr_info as Json[])
          .filter((a) => a.scope !== 'link')
          .map((a) => `${a.local}/${a.prefixlen}`);
        assert.deepEqual(addresses, [`10.244.${k + 1}.0/32`]);
      }
    });

    it('T2: permanent FDB and neighbour entries for every remote VTEP, none for itself', async () => {
      const fdb = await waitFor('two FDB entries on n1', async () => {
        const entries = await cluster.bridgeJson<Json>('n1', [
          'fdb',
          'show',
          'dev',
          'vxlan.calico',
        ]);
        const permanent = entries.filter((e) => e.state === 'permanent' && e.dst);
        return permanent.length === 2 ? permanent : undefined;
      });
      assert.deepEqual(
        fdb
          .map((e) => ({ mac: e.mac, dst: e.dst, flags: e.flags }))
          .sort((a, b) => String(a.dst).localeCompare(String(b.dst))),
        [
          { mac: vtepMac('n2', 4), dst: '192.168.10.12', flags: ['self'] },
          { mac: vtepMac('n3', 4), dst: '192.168.20.13', flags: ['self'] },
        ],
      );
      const neighbours = await cluster.ipJson<Json>('n1', ['neigh', 'show', 'dev', 'vxlan.calico']);
      assert.deepEqual(
        neighbours
          .map((n) => ({ dst: n.dst, lladdr: n.lladdr, state: n.state }))
          .sort((a, b) => String(a.dst).localeCompare(String(b.dst))),
        [
          { dst: '10.244.2.0', lladdr: vtepMac('n2', 4), state: ['PERMANENT'] },
          { dst: '10.244.3.0', lladdr: vtepMac('n3', 4), state: ['PERMANENT'] },
        ],
      );
    });

    it('T3: Always routes remote blocks via their VTEP, blackholes the local block; pods ping through VXLAN', async () => {
      const vxlan = (gateway: string) => ({
        gateway,
        dev: 'vxlan.calico',
        protocol: 'boot',
        flags: ['onlink'],
        metrics: [{ mtu: 1450 }],
      });
      await routeOn('n1', '10.244.2.0/26', vxlan('10.244.2.0'));
      await routeOn('n1', '10.244.3.0/26', vxlan('10.244.3.0'));
      await routeOn('n1', 'blackhole 10.244.1.0/26', { type: 'blackhole', protocol: '80' });
      await routeOn('n3', '10.244.1.0/26', vxlan('10.244.1.0'));
      const [n2Before, n3Before] = [
        await cluster.vxlanPackets('n2'),
        await cluster.vxlanPackets('n3'),
      ];
      await cluster.pingEventually('p1', '10.244.2.5');
      await cluster.pingEventually('p1', '10.244.3.5');
      assert.ok((await cluster.vxlanPackets('n2')) > n2Before, 'p1 -> p2 went through VXLAN');
      assert.ok((await cluster.vxlanPackets('n3')) > n3Before, 'p1 -> p3 went through VXLAN');
    });

    it('T18: pod MTU 1450 passes 1422-byte pings, refuses 1423 locally; VXLAN routes carry mtu 1450', async () => {
      assert.equal(await cluster.ping('p1', '10.244.3.5', ['-M', 'do', '-s', '1422']), true);
      assert.equal(await cluster.ping('p1', '10.244.3.5', ['-M', 'do', '-s', '1423']), false);
      // The pod MTU for the CNI plugin, in Calico's MTU file format (the number alone).
      for (const node of NODES)
        assert.equal(readFileSync(cluster.mtuFile(node.name), 'utf8'), '1450');
    });

    it('T13: host traffic into the tunnel with a non-tunnel source leaves with the tunnel address', async () => {
      // p3 counts the echo requests it receives by source address.
      const count = async (comment: string) => {
        const listed = JSON.parse(
          await must(cluster.ns('p3'), 'nft', ['-j', 'list', 'table', 'inet', 'cp11d-t13']),
        ) as {
          nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[];
        };
        const rule = listed.nftables.find((o) => o.rule?.comment === comment)!.rule!;
        return rule.expr.find((e) => e.counter)!.counter!.packets;
      };
      await must(
        cluster.ns('p3'),
        'nft',
        ['-f', '-'],
        `table inet cp11d-t13 {
\tchain input {
\t\ttype filter hook input priority 0; policy accept;
\t\ticmp type echo-request ip saddr 10.244.1.0 counter comment "tunnel-src"
\t\ticmp type echo-request ip saddr 192.168.10.11 counter comment "node-src"
\t}
}
`,
      );
      // From n1 itself, forced onto its eth0 address: the packet leaves vxlan.calico and the
      // NAT table masquerades it to n1's tunnel address (§5.3).
      await cluster.pingEventually('n1', '10.244.3.5', ['-I', '192.168.10.11']);
      assert.ok((await count('tunnel-src')) >= 1, "p3 saw n1's tunnel address");
      assert.equal(await count('node-src'), 0, "p3 never saw n1's eth0 address");
    });

    it('T4: CrossSubnet routes n1 -> n2 directly (no VXLAN packet) and n1 -> n3 through VXLAN', async () => {
      await cluster.apply(poolYaml('  vxlanMode: CrossSubnet\n  natOutgoing: true\n'));
      await routeOn('n1', '10.244.2.0/26', {
        gateway: '192.168.10.12',
        dev: 'eth0',
        protocol: '80',
        flags: ['onlink'],
      });
      await routeOn('n2', '10.244.1.0/26', {
        gateway: '192.168.10.11',
        dev: 'eth0',
        protocol: '80',
        flags: ['onlink'],
      });
      await routeOn('n1', '10.244.3.0/26', { gateway: '10.244.3.0', dev: 'vxlan.calico' });
      const [n2Before, n3Before] = [
        await cluster.vxlanPackets('n2'),
        await cluster.vxlanPackets('n3'),
      ];
      await cluster.pingEventually('p1', '10.244.2.5');
      await cluster.pingEventually('p1', '10.244.3.5');
      assert.equal(await cluster.vxlanPackets('n2'), n2Before, 'p1 -> p2 was not encapsulated');
      assert.ok((await cluster.vxlanPackets('n3')) > n3Before, 'p1 -> p3 was encapsulated');
    });

    it('T7: the local block is a blackhole: no reply and no ICMP error for a free address in it', async () => {
      // The kernel answers a lookup that ends in a blackhole with EINVAL.
      const lookup = await execIn(cluster.ns('n1'), 'ip', ['-j', 'route', 'get', '10.244.1.50']);
      assert.notEqual(lookup.code, 0);
      assert.match(lookup.stderr, /Invalid argument/);
      const ping = await execIn(cluster.ns('p2'), 'ping', ['-c', '1', '-W', '1', '10.244.1.50']);
      assert.notEqual(ping.code, 0, 'no reply');
      assert.doesNotMatch(ping.stdout, /Unreachable|Prohibited|Time to live/, 'no ICMP error');
    });

    it('T8: a borrowed address gets /32 routes to its node everywhere else, and is reachable', async () => {
      await cluster.createPod('p2b', 'n2', '10.244.1.9');
      await routeOn('n3', '10.244.1.9', {
        gateway: '10.244.2.0',
        dev: 'vxlan.calico',
        flags: ['onlink'],
      });
      await routeOn('n3', '10.244.1.0/26', { gateway: '10.244.1.0', dev: 'vxlan.calico' });
      await routeOn('n1', '10.244.1.9', { gateway: '192.168.10.12', dev: 'eth0', protocol: '80' });
      const onN2 = (await cluster.routes('n2')).get('10.244.1.9');
      assert.equal(onN2?.dev, cluster.pods.get('p2b')!.hostIface, 'n2 keeps only the pod route');
      await cluster.pingEventually('p3', '10.244.1.9');
      await cluster.pingEventually('p1', '10.244.1.9');
    });

    it('restarting every agent in the middle of traffic loses no route and no packet', async () => {
      const before = await Promise.all(NODES.map((n) => cluster.routes(n.name)));
      // 60 pings at 10 per second while every agent stops and starts again.
      const traffic = execIn(cluster.ns('p1'), 'ping', [
        '-c',
        '60',
        '-i',
        '0.1',
        '-W',
        '1',
        '10.244.3.5',
      ]);
      for (const node of NODES) {
        const stopped = await cluster.stopAgent(node.name);
        assert.equal(stopped.code, 0, stopped.log);
        assert.ok(stopped.ms < 5000, `${node.name} stopped in ${stopped.ms} ms`);
        assert.deepEqual(
          await cluster.routes(node.name),
          before[NODES.indexOf(node)],
          `${node.name} kept its routes`,
        );
      }
      // A stray route of the agent's protocol, and a route that is not the agent's, while n1 is down.
      await must(cluster.ns('n1'), 'ip', [
        'route',
        'add',
        '10.244.77.0/26',
        'via',
        '192.168.10.12',
        'dev',
        'eth0',
        'proto',
        '80',
        'onlink',
      ]);
      await must(cluster.ns('n1'), 'ip', [
        'route',
        'add',
        '10.250.0.0/24',
        'via',
        '192.168.10.12',
        'dev',
        'eth0',
      ]);
      for (const node of NODES) cluster.startAgent(node);
      const summary = (await traffic).stdout;
      assert.match(summary, / 0% packet loss/, summary);
      // T14 (d): the restarted agent removed the stray proto-80 route and kept the other one.
      await noRouteOn('n1', '10.244.77.0/26');
      assert.ok((await cluster.routes('n1')).has('10.250.0.0/24'));
      for (const [i, node] of NODES.entries()) {
        const after = await cluster.routes(node.name);
        after.delete('10.250.0.0/24');
        assert.deepEqual(after, before[i], `${node.name} has the same routes after the restart`);
      }
    });

    // T5, T6 and T9 run under the CrossSubnet mode T4 set, on the cluster as the restart left it.
    const setNodeAddress = (name: string, ipv4Address: string) =>
      cluster.cli([
        'patch',
        'node',
        name,
        '-p',
        JSON.stringify({ spec: { bgp: { ipv4Address } } }),
      ]);
    const direct = (gateway: string) => ({
      gateway,
      dev: 'eth0',
      protocol: '80',
      flags: ['onlink'],
    });

    it('T5: a node registered as /32 sees no peer in its subnet (calico#4254); back at /24 it routes directly again, without a restart', async () => {
      await setNodeAddress('n1', '192.168.10.11/32');
      await routeOn('n1', '10.244.2.0/26', { gateway: '10.244.2.0', dev: 'vxlan.calico' });
      const before = await cluster.vxlanPackets('n2');
      await cluster.pingEventually('p1', '10.244.2.5');
      assert.ok((await cluster.vxlanPackets('n2')) > before, 'p1 -> p2 went through VXLAN');
      await setNodeAddress('n1', '192.168.10.11/24');
      await routeOn('n1', '10.244.2.0/26', direct('192.168.10.12'));
    });

    it('T6: the same-subnet decision is one-sided: n1 at /16 routes to n3 directly, n3 at /24 still through VXLAN', async () => {
      await setNodeAddress('n1', '192.168.10.11/16');
      await routeOn('n1', '10.244.3.0/26', direct('192.168.20.13'));
      await routeOn('n3', '10.244.1.0/26', { gateway: '10.244.1.0', dev: 'vxlan.calico' });
      // Not L2-adjacent: n1's direct route black-holes p1 -> p3 (calico#7923), silently.
      assert.equal(await cluster.ping('p1', '10.244.3.5'), false);
      await setNodeAddress('n1', '192.168.10.11/24');
      await routeOn('n1', '10.244.3.0/26', { gateway: '10.244.3.0', dev: 'vxlan.calico' });
      await cluster.pingEventually('p1', '10.244.3.5');
    });

    it("T9: n3's tunnel address borrowed from n1's block gets a connected route elsewhere, and n3's pods stay reachable", async () => {
      // What Calico's allocate-tunnel-addrs does when n3's own block is full: the address comes
      // from n1's block under n3's handle, and n3 publishes it on its Node.
      await cluster.cli([
        'ipam',
        'assign',
        '--node',
        'n3',
        '--ip',
        '10.244.1.60',
        '--handle',
        'vxlan-tunnel-addr-n3',
        '--use',
        'Tunnel',
      ]);
      await cluster.cli([
        'patch',
        'node',
        'n3',
        '-p',
        JSON.stringify({ spec: { ipv4VXLANTunnelAddr: '10.244.1.60' } }),
      ]);
      await cluster.cli(['ipam', 'release', '--ip', '10.244.3.0']);
      const connected = { dev: 'vxlan.calico', scope: 'link' };
      await routeOn('n2', '10.244.1.60', connected);
      await routeOn('n1', '10.244.1.60', connected);
      await routeOn('n2', '10.244.3.0/26', {
        gateway: '10.244.1.60',
        dev: 'vxlan.calico',
        flags: ['onlink'],
      });
      await waitFor("n3's VTEP address on n3", async () => {
        const [link] = await cluster.ipJson<Json>('n3', ['addr', 'show', 'dev', 'vxlan.calico']);
        const global = (link?.addr_info as Json[] | undefined)?.filter((a) => a.scope !== 'link');
        return global?.length === 1 && global[0]!.local === '10.244.1.60' ? true : undefined;
      });
      // n3 keeps its own routes while its device's address changes (the kernel flushes every
      // route of a device that loses its last IPv4 address).
      const n3Routes = await cluster.routes('n3');
      assert.equal(n3Routes.get('10.244.2.0/26')?.dev, 'vxlan.calico');
      assert.equal(n3Routes.get('10.244.1.0/26')?.dev, 'vxlan.calico');
      await cluster.pingEventually('p2', '10.244.3.5');
      await cluster.pingEventually('p1', '10.244.3.5');
    });

    it('T16: an IPv6 VXLAN pool gives vxlan-v6.calico (VNI 4096, MTU 1430, /128) and v6 routes and neighbours', async () => {
      await cluster.apply(poolYaml('  vxlanMode: Always\n', 'pool-6', 'fd00:244::/112'));
      await cluster.cli([
        'ipam',
        'assign',
        '--node',
        'n2',
        '--ipv4',
        '0',
        '--ipv6',
        '1',
        '--handle',
        'v6-pod',
      ]);
      const [link] = await waitFor('vxlan-v6.calico on n1', async () => {
        const links = await cluster
          .ipJson<Json>('n1', ['-d', 'addr', 'show', 'dev', 'vxlan-v6.calico'])
          .catch(() => []);
        return links.length > 0 && (links[0]!.addr_info as Json[]).some((a) => a.scope === 'global')
          ? links
          : undefined;
      });
      const info = (link!.linkinfo as { info_data: Json }).info_data;
      assert.equal(info.id, 4096);
      assert.equal(info.local6 ?? info.local, 'fd00:10::11');
      assert.equal(link!.mtu, 1430);
      assert.equal(link!.address, vtepMac('n1', 6));
      const global = (link!.addr_info as Json[]).filter((a) => a.scope === 'global');
      assert.equal(global.length, 1);
      assert.equal(global[0]!.prefixlen, 128);
      const n2Node = JSON.parse(
        (await cluster.cli(['get', 'node', 'n2', '-o', 'json'])).stdout,
      ) as { spec: Json };
      const n2Tunnel = String(n2Node.spec.ipv6VXLANTunnelAddr);
      const route = await waitFor('a v6 block route on n1', async () => {
        for (const [dst, r] of await cluster.routes('n1', 6)) {
          if (r.dev === 'vxlan-v6.calico' && dst.startsWith('fd00:244::') && r.gateway === n2Tunnel)
            return r;
        }
        return undefined;
      });
      assert.equal(route.metric, 1024);
      const neighbours = await cluster.ipJson<Json>('n1', [
        '-6',
        'neigh',
        'show',
        'dev',
        'vxlan-v6.calico',
      ]);
      assert.ok(
        neighbours.some(
          (n) =>
            n.dst === n2Tunnel &&
            n.lladdr === vtepMac('n2', 6) &&
            (n.state as string[]).includes('PERMANENT'),
        ),
      );
    });

    it('T14 (b): disabling the pool keeps routes and tunnel addresses (a deliberate difference, issue #3672)', async () => {
      const before = await cluster.routes('n1');
      await cluster.apply(
        poolYaml('  vxlanMode: CrossSubnet\n  natOutgoing: true\n  disabled: true\n'),
      );
      await cluster.pingEventually('p1', '10.244.3.5');
      const n1Node = JSON.parse(
        (await cluster.cli(['get', 'node', 'n1', '-o', 'json'])).stdout,
      ) as { spec: Json };
      assert.equal(n1Node.spec.ipv4VXLANTunnelAddr, '10.244.1.0');
      assert.deepEqual(await cluster.routes('n1'), before);
    });

    it('T2/T14: deleting node n3 removes its FDB, neighbour and routes on the other nodes', async () => {
      await cluster.stopAgent('n3');
      await cluster.cli(['delete', 'node', 'n3']);
      await waitFor('n3 FDB entry to leave n1', async () => {
        const entries = await cluster.bridgeJson<Json>('n1', [
          'fdb',
          'show',
          'dev',
          'vxlan.calico',
        ]);
        return entries.some((e) => e.dst === '192.168.20.13') ? undefined : true;
      });
      const neighbours = await cluster.ipJson<Json>('n1', ['neigh', 'show', 'dev', 'vxlan.calico']);
      assert.ok(!neighbours.some((n) => n.lladdr === vtepMac('n3', 4)));
      await noRouteOn('n1', '10.244.3.0/26');
      await noRouteOn('n2', '10.244.3.0/26');
    });

    it('T14 (a): deleting the pools removes block routes and blackholes, and the VXLAN devices', async () => {
      await cluster.cli(['delete', 'ippool', 'pool-a']);
      await cluster.cli(['delete', 'ippool', 'pool-6']);
      for (const node of ['n1', 'n2']) {
        await waitFor(`no owned routes on ${node}`, async () => {
          const routes = [...(await cluster.routes(node)).values()];
          return routes.some((r) => r.protocol === '80' || r.dev === 'vxlan.calico')
            ? undefined
            : true;
        });
        await waitFor(`vxlan devices gone on ${node}`, async () => {
          const links = await cluster.ipJson<Json>(node, ['link', 'show']);
          return links.some((l) => String(l.ifname).startsWith('vxlan')) ? undefined : true;
        });
      }
      // No pool qualifies any more: the tunnel addresses are released and the fields cleared.
      for (const node of ['n1', 'n2']) {
        await waitFor(`${node} to lose its tunnel addresses`, async () => {
          const stored = JSON.parse(
            (await cluster.cli(['get', 'node', node, '-o', 'json'])).stdout,
          ) as {
            spec: Json;
          };
          return stored.spec.ipv4VXLANTunnelAddr || stored.spec.ipv6VXLANTunnelAddr
            ? undefined
            : true;
        });
      }
      // Pod routes (not the agent's) stay.
      assert.ok((await cluster.routes('n1')).has('10.244.1.5'));
      // No tunnel left: pods get the host MTU (eth0's 1500).
      await waitFor("n1's pod MTU back at the host MTU", async () =>
        readFileSync(cluster.mtuFile('n1'), 'utf8') === '1500' ? true : undefined,
      );
    });

    it('T15: an IPIP pool gives IPIP tunnel addresses; without the ipip module tunl0 and its routes are left out, with a warning', async () => {
      await cluster.apply(poolYaml('  ipipMode: Always\n', 'pool-ipip', '10.245.0.0/16'));
      for (const node of ['n1', 'n2']) {
        const address = await waitFor(`${node}'s IPIP tunnel address`, async () => {
          const stored = JSON.parse(
            (await cluster.cli(['get', 'node', node, '-o', 'json'])).stdout,
          ) as {
            spec: { bgp?: Json };
          };
          return stored.spec.bgp?.ipv4IPIPTunnelAddr as string | undefined;
        });
        assert.match(address, /^10\.245\./);
        await waitFor(`${node}'s warning about tunl0`, async () =>
          /tunl0 cannot be set up/.test(cluster.agentLog(node)) ? true : undefined,
        );
      }
      // The local block's blackhole is programmed; nothing points at a tunl0 that cannot exist.
      const blackholes = await waitFor('the IPIP block blackhole on n1', async () => {
        const found = [...(await cluster.routes('n1')).keys()].filter((k) =>
          k.startsWith('blackhole 10.245.'),
        );
        return found.length > 0 ? found : undefined;
      });
      assert.equal(blackholes.length, 1);
      const routes = [...(await cluster.routes('n1')).values()];
      assert.ok(!routes.some((r) => r.dev === 'tunl0'));
      assert.equal(
        (await cluster.ipJson('n1', ['link', 'show'])).some((l) => l.ifname === 'tunl0'),
        false,
      );
    });
  });
}

suite('embedded');
suite('etcd');
