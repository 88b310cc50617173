// The node's address as --ip/--ip6 and --ip-autodetection-method find it, on a fixed interface
// list (no kernel needed), and the Node that registration writes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InterfaceInfo } from '../../src/kernel/interfaces.js';
import {
  autodetectAddress,
  parseAddressFlag,
  parseAutodetectionMethod,
} from '../../src/node/autodetect.js';
import { nodeWithAddresses, resolveNodeAddresses } from '../../src/node/registration.js';

const iface = (name: string, ...addresses: string[]): InterfaceInfo => ({
  name,
  mtu: 1500,
  up: true,
  loopback: name === 'lo',
  addresses: addresses.map((text) => {
    const [ip, prefix] = text.split('/');
    const scope = ip!.startsWith('fe80') ? 'link' : ip === '127.0.0.1' ? 'host' : 'global';
    return { family: ip!.includes(':') ? 6 : 4, ip: ip!, prefix: Number(prefix), scope };
  }),
});

const INTERFACES = [
  iface('lo', '127.0.0.1/8'),
  iface('docker0', '172.17.0.1/16'),
  iface('cali1234567890a'),
  iface('vxlan.calico', '10.244.1.0/32'),
  iface('eth0', '192.168.10.11/24', 'fd00:10::11/64', 'fe80::1/64'),
  iface('eth1', '10.0.5.7/20'),
];
const noRoute = async () => undefined;

describe('autodetection methods', () => {
  it('first-found skips docker, cali, vxlan and loopback interfaces and keeps the prefix', async () => {
    const method = parseAutodetectionMethod(undefined);
    assert.equal(await autodetectAddress(method, 4, INTERFACES, noRoute), '192.168.10.11/24');
    assert.equal(await autodetectAddress(method, 6, INTERFACES, noRoute), 'fd00:10::11/64');
  });
  it('interface=REGEX and skip-interface=REGEX', async () => {
    const eth1 = parseAutodetectionMethod('interface=eth1,ens.*');
    assert.equal(await autodetectAddress(eth1, 4, INTERFACES, noRoute), '10.0.5.7/20');
    const skip = parseAutodetectionMethod('skip-interface=eth0');
    assert.equal(await autodetectAddress(skip, 4, INTERFACES, noRoute), '10.0.5.7/20');
  });
  it('cidr= picks the address inside one of the CIDRs', async () => {
    const method = parseAutodetectionMethod('cidr=10.0.0.0/8,172.31.0.0/16');
    assert.equal(await autodetectAddress(method, 4, INTERFACES, noRoute), '10.0.5.7/20');
  });
  it('can-reach= uses the source address of the route to the destination', async () => {
    const method = parseAutodetectionMethod('can-reach=192.168.20.13');
    const via = async (destination: string) => {
      assert.equal(destination, '192.168.20.13');
      return { source: '192.168.10.11' };
    };
    assert.equal(await autodetectAddress(method, 4, INTERFACES, via), '192.168.10.11/24');
  });
  it('reports what it searched when nothing matches', async () => {
    await assert.rejects(
      autodetectAddress(parseAutodetectionMethod('interface=wlan.*'), 4, INTERFACES, noRoute),
      (err: Error & { code?: string }) =>
        err.code === 'NODE_ADDRESS_NOT_FOUND' &&
        /interface/.test(err.message) &&
        /--ip/.test(err.message),
    );
  });
  it('rejects unknown methods and bad arguments, naming the value', () => {
    for (const bad of ['nearest', 'interface=(', 'cidr=10.0.0.0/33', 'can-reach=']) {
      assert.throws(
        () => parseAutodetectionMethod(bad),
        (err: Error & { code?: string }) =>
          err.code === 'NODE_INVALID_AUTODETECTION' && err.message.includes(JSON.stringify(bad)),
      );
    }
  });
});

describe('--ip and --ip6', () => {
  it('accepts ADDR/PREFIX, autodetect and none; IPv4 autodetects and IPv6 is none by default', () => {
    assert.deepEqual(parseAddressFlag('192.168.10.11/24', 4, '--ip'), {
      kind: 'given',
      ip: '192.168.10.11',
      prefix: 24,
    });
    assert.deepEqual(parseAddressFlag(undefined, 4, '--ip'), { kind: 'autodetect' });
    assert.deepEqual(parseAddressFlag(undefined, 6, '--ip6'), { kind: 'none' });
    assert.deepEqual(parseAddressFlag('none', 4, '--ip'), { kind: 'none' });
  });
  it('rejects the wrong family and bad prefixes with an example', () => {
    for (const [value, family, flag] of [
      ['fd00::1/64', 4, '--ip'],
      ['192.168.10.11/33', 4, '--ip'],
      ['192.168.10.11/', 4, '--ip'],
      ['10.0.0.1/24', 6, '--ip6'],
    ] as const) {
      assert.throws(
        () => parseAddressFlag(value, family, flag),
        (err: Error & { code?: string }) =>
          err.code === 'NODE_INVALID_ADDRESS' &&
          err.message.includes(flag) &&
          /write it as/.test(err.message),
      );
    }
  });
  it('takes the prefix of a bare address from the interface that holds it', async () => {
    const addresses = await resolveNodeAddresses({ ipv4: '192.168.10.11' }, INTERFACES, noRoute);
    assert.deepEqual(addresses, { ipv4: '192.168.10.11/24', ipv6: undefined });
    await assert.rejects(
      resolveNodeAddresses({ ipv4: '192.168.99.1' }, INTERFACES, noRoute),
      (err: Error & { code?: string }) => err.code === 'NODE_INVALID_ADDRESS',
    );
  });
});

describe('the registered Node', () => {
  it('writes spec.bgp addresses and keeps every other field', () => {
    const existing = {
      apiVersion: 'projectcalico.org/v3' as const,
      kind: 'Node' as const,
      metadata: { name: 'n1', labels: { zone: 'a' } },
      spec: {
        bgp: { ipv4Address: '10.0.0.1/8', asNumber: 64512 },
        ipv4VXLANTunnelAddr: '10.244.1.0',
      },
    };
    const node = nodeWithAddresses('n1', existing, {
      ipv4: '192.168.10.11/24',
      ipv6: 'fd00:10::11/64',
    });
    assert.deepEqual(node.spec, {
      bgp: { ipv4Address: '192.168.10.11/24', asNumber: 64512, ipv6Address: 'fd00:10::11/64' },
      ipv4VXLANTunnelAddr: '10.244.1.0',
    });
    assert.deepEqual(node.metadata.labels, { zone: 'a' });
    assert.equal(existing.spec.bgp.ipv4Address, '10.0.0.1/8', 'the input is not changed');
    assert.deepEqual(nodeWithAddresses('n2', undefined, { ipv4: '192.168.10.12/24' }).spec, {
      bgp: { ipv4Address: '192.168.10.12/24' },
    });
  });
});
