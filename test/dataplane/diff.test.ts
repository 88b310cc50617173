// Desired versus actual: what a full resync and a keyed update send to the kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  diffAllRoutes,
  diffEntries,
  diffRouteKeys,
  hostMtu,
  sameFdb,
  type ActualRoute,
  type FdbEntry,
  type KernelRoute,
} from '../../src/dataplane/index.js';
import { vxlanRoute } from './fixtures.js';

const route = (dst: string, gateway: string, extra: Partial<ActualRoute> = {}): ActualRoute => ({
  ...vxlanRoute(dst, gateway),
  ...extra,
});

describe('diffAllRoutes', () => {
  it('keeps what matches, replaces what differs or is missing, deletes what is not wanted', () => {
    const desired = new Map<string, KernelRoute>([
      ['10.244.2.0/26', route('10.244.2.0/26', '10.244.2.0')],
      ['10.244.3.0/26', route('10.244.3.0/26', '10.244.3.0')],
      ['10.244.4.0/26', route('10.244.4.0/26', '10.244.4.0')],
    ]);
    const stray = route('10.244.77.0/26', '192.168.10.12', {
      device: 'eth0',
      protocol: 80,
      mtu: undefined,
    });
    const actual = [
      route('10.244.2.0/26', '10.244.2.0'),
      route('10.244.3.0/26', '10.244.3.9'),
      stray,
    ];
    const changes = diffAllRoutes(desired, actual);
    assert.deepEqual(changes.delete, [stray]);
    assert.deepEqual(
      changes.replace.map((r) => r.dst),
      ['10.244.3.0/26', '10.244.4.0/26'],
    );
  });
  it('deletes an owned route at a wanted destination with another metric (replace would not reach it)', () => {
    const want = route('10.244.2.0/26', '10.244.2.0');
    const other = route('10.244.2.0/26', '10.244.2.0', { metric: 100 });
    const changes = diffAllRoutes(new Map([[want.dst, want]]), [other]);
    assert.deepEqual(changes.delete, [other]);
    assert.deepEqual(changes.replace, [want]);
  });
  it('treats an IPv6 route at metric 1024 as the default', () => {
    const want: KernelRoute = { ...route('fd00::/122', 'fd00::1'), family: 6 };
    const changes = diffAllRoutes(new Map([[want.dst, want]]), [{ ...want, metric: 1024 }]);
    assert.deepEqual(changes, { replace: [], delete: [] });
  });
});

describe('diffRouteKeys', () => {
  it('only looks at the given keys', () => {
    const a = route('10.244.2.0/26', '10.244.2.0');
    const b = route('10.244.3.0/26', '10.244.3.0');
    const desired = new Map([[b.dst, b]]);
    const programmed = new Map([
      [a.dst, a],
      [b.dst, route(b.dst, '10.244.3.1')],
    ]);
    assert.deepEqual(diffRouteKeys([a.dst], desired, programmed), { replace: [], delete: [a] });
    assert.deepEqual(diffRouteKeys([b.dst], desired, programmed), { replace: [b], delete: [] });
  });
});

describe('diffEntries', () => {
  it('replaces changed FDB entries and deletes unwanted ones', () => {
    const want = new Map<string, FdbEntry>([
      ['66:00:00:00:00:02', { mac: '66:00:00:00:00:02', dst: '192.168.10.12' }],
      ['66:00:00:00:00:03', { mac: '66:00:00:00:00:03', dst: '192.168.20.13' }],
    ]);
    const actual = [
      { mac: '66:00:00:00:00:02', dst: '192.168.10.12' },
      { mac: '66:00:00:00:00:03', dst: '192.168.20.99' },
      { mac: '66:00:00:00:00:04', dst: '192.168.20.14' },
    ];
    const changes = diffEntries(want, actual, (e) => e.mac, sameFdb);
    assert.deepEqual(changes.replace, [{ mac: '66:00:00:00:00:03', dst: '192.168.20.13' }]);
    assert.deepEqual(changes.delete, [{ mac: '66:00:00:00:00:04', dst: '192.168.20.14' }]);
  });
});

describe('hostMtu', () => {
  it('takes the smallest up interface matching the pattern, else 1460', () => {
    assert.equal(
      hostMtu([
        { name: 'eth0', mtu: 1500, up: true },
        { name: 'ens3', mtu: 9000, up: true },
        { name: 'eth1', mtu: 1400, up: false },
        { name: 'cali123', mtu: 1000, up: true },
      ]),
      1500,
    );
    assert.equal(hostMtu([{ name: 'lo', mtu: 65536, up: true }]), 1460);
  });
});
