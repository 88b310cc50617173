// The kernel adapters' pure parts: `ip -j route` entries into routes, routes into `ip -batch`
// lines, and when an existing VXLAN link must be recreated. No kernel needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRoute, routeDeleteLine, routeReplaceLine } from '../../src/kernel/routes.js';
import { vxlanIncompatibility, type LinkState } from '../../src/kernel/tunnel-devices.js';
import type { VxlanDevice } from '../../src/dataplane/index.js';

describe('ip -j route entries', () => {
  it('reads a VXLAN route (protocol boot, onlink, route MTU) and a /32 without its prefix', () => {
    assert.deepEqual(
      parseRoute(
        {
          type: 'unicast',
          dst: '10.244.1.9',
          gateway: '10.244.2.0',
          dev: 'vxlan.calico',
          protocol: 'boot',
          scope: 'global',
          flags: ['onlink'],
          metrics: [{ mtu: 1450 }],
        },
        4,
      ),
      {
        family: 4,
        dst: '10.244.1.9/32',
        type: 'unicast',
        gateway: '10.244.2.0',
        device: 'vxlan.calico',
        onlink: true,
        protocol: 3,
        scope: 'global',
        mtu: 1450,
        metric: undefined,
      },
    );
  });
  it('reads numeric protocols and skips default and local routes', () => {
    assert.equal(
      parseRoute({ type: 'blackhole', dst: '10.244.1.0/26', protocol: '80' }, 4)?.protocol,
      80,
    );
    assert.equal(parseRoute({ dst: 'default', gateway: '192.168.10.1' }, 4), undefined);
    assert.equal(parseRoute({ type: 'local', dst: '10.0.0.1' }, 4), undefined);
  });
});

describe('ip -batch lines', () => {
  it('writes the shapes of spec §3.3', () => {
    assert.equal(
      routeReplaceLine({
        family: 4,
        dst: '10.244.3.0/26',
        type: 'unicast',
        gateway: '10.244.3.0',
        device: 'vxlan.calico',
        onlink: true,
        protocol: 3,
        scope: 'global',
        mtu: 1450,
      }),
      'route replace 10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink proto 3 mtu 1450',
    );
    assert.equal(
      routeReplaceLine({
        family: 4,
        dst: '10.244.1.0/26',
        type: 'blackhole',
        onlink: false,
        protocol: 80,
        scope: 'global',
      }),
      'route replace blackhole 10.244.1.0/26 proto 80',
    );
    assert.equal(
      routeReplaceLine({
        family: 4,
        dst: '10.244.1.60/32',
        type: 'unicast',
        device: 'vxlan.calico',
        onlink: false,
        protocol: 3,
        scope: 'link',
        mtu: 1450,
      }),
      'route replace 10.244.1.60/32 dev vxlan.calico proto 3 scope link mtu 1450',
    );
  });
  it('deletes exactly the route read: type, device, protocol and metric', () => {
    assert.equal(
      routeDeleteLine({
        family: 6,
        dst: 'fd00::/122',
        type: 'unicast',
        gateway: 'fd00::1',
        device: 'eth0',
        onlink: true,
        protocol: 80,
        scope: 'global',
        metric: 1024,
      }),
      'route del fd00::/122 dev eth0 proto 80 metric 1024',
    );
    assert.equal(
      routeDeleteLine({
        family: 4,
        dst: '10.244.77.0/26',
        type: 'blackhole',
        onlink: false,
        protocol: 80,
        scope: 'global',
      }),
      'route del blackhole 10.244.77.0/26 proto 80',
    );
  });
});

describe('VXLAN link compatibility (Felix vxlanLinksIncompat)', () => {
  const wanted: VxlanDevice = {
    name: 'vxlan.calico',
    family: 4,
    vni: 4096,
    port: 4789,
    local: '192.168.10.11',
    parent: 'eth0',
    mac: '66:40:b3:ea:b6:3f',
    mtu: 1450,
    address: '10.244.1.0/32',
  };
  const link: LinkState = {
    name: 'vxlan.calico',
    kind: 'vxlan',
    mtu: 1400,
    mac: '66:40:b3:ea:b6:3f',
    up: false,
    vxlan: { vni: 4096, local: '192.168.10.11', parent: 'eth0', port: 4789, learning: false },
    addresses: ['10.244.9.9/32'],
  };
  it('fixes MTU, address and state in place', () => {
    assert.equal(vxlanIncompatibility(link, wanted), undefined);
  });
  it('recreates on another VNI, port, local address, parent, MAC or learning', () => {
    for (const [change, reason] of [
      [{ vxlan: { ...link.vxlan, vni: 7 } }, /VNI/],
      [{ vxlan: { ...link.vxlan, port: 8472 } }, /port/],
      [{ vxlan: { ...link.vxlan, local: '192.168.10.99' } }, /local/],
      [{ vxlan: { ...link.vxlan, parent: 'eth1' } }, /parent/],
      [{ vxlan: { ...link.vxlan, learning: true } }, /learning/],
      [{ mac: '66:00:00:00:00:01' }, /MAC/],
      [{ kind: 'bridge' }, /not vxlan/],
    ] as const) {
      assert.match(vxlanIncompatibility({ ...link, ...change } as LinkState, wanted) ?? '', reason);
    }
  });
});
