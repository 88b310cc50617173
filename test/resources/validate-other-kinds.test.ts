// Validation of IPReservation, IPAMConfiguration, Node and WorkloadEndpoint, and of metadata.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IPAM_CONFIG_MESSAGES as M,
  META_MESSAGES,
  formatValidationMessage,
  validateResource,
} from '../../src/resources/index.js';
import { API_VERSION_V3, type Resource } from '../../src/resources/types.js';

const paths = (r: unknown): [string, string][] =>
  validateResource(r as Resource).map((i) => [i.path, i.message]);

const reservation = (reservedCIDRs: string[]): unknown => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPReservation',
  metadata: { name: 'r1' },
  spec: { reservedCIDRs },
});
const ipamConfig = (spec: Record<string, unknown>, name = 'default'): unknown => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPAMConfiguration',
  metadata: { name },
  spec,
});
const node = (spec: Record<string, unknown>): unknown => ({
  apiVersion: API_VERSION_V3,
  kind: 'Node',
  metadata: { name: 'node1' },
  spec,
});
const wep = (spec: Record<string, unknown>, namespace = 'default'): unknown => ({
  apiVersion: API_VERSION_V3,
  kind: 'WorkloadEndpoint',
  metadata: { name: 'node1-k8s-pod-eth0', namespace },
  spec,
});

describe('IPReservation', () => {
  it('accepts CIDRs and bare addresses of both families, masked or not', () => {
    assert.deepEqual(
      paths(reservation(['10.0.0.1', '10.0.0.0/24', '10.0.0.5/24', 'fd00::1', 'fd00::/120'])),
      [],
    );
  });
  it('rejects entries that are neither, and duplicates', () => {
    assert.deepEqual(
      paths(reservation(['10.0.0.0/33', 'nope', '', 'fd00::1', 'fd00::1'])).map((p) => p[0]),
      [
        'spec.reservedCIDRs[0]',
        'spec.reservedCIDRs[1]',
        'spec.reservedCIDRs[2]',
        'spec.reservedCIDRs[4]',
      ],
    );
  });
});

describe('IPAMConfiguration', () => {
  const table: [string, unknown, [string, string][]][] = [
    ['defaults', ipamConfig({}), []],
    [
      'strict with a block cap',
      ipamConfig({ strictAffinity: true, maxBlocksPerHost: 4, ipCooldownSeconds: 1200 }),
      [],
    ],
    ['name other than default', ipamConfig({}, 'mine'), [['metadata.name', M.nameNotDefault]]],
    [
      'both disabled',
      ipamConfig({ strictAffinity: false, autoAllocateBlocks: false }),
      [['spec.autoAllocateBlocks', M.bothDisabled]],
    ],
    [
      'cap without strict',
      ipamConfig({ maxBlocksPerHost: 3 }),
      [['spec.maxBlocksPerHost', M.maxBlocksNeedsStrict]],
    ],
    [
      'cap out of range',
      ipamConfig({ strictAffinity: true, maxBlocksPerHost: 1_000_001 }),
      [['spec.maxBlocksPerHost', M.maxBlocksRange]],
    ],
    [
      'negative cap',
      ipamConfig({ strictAffinity: true, maxBlocksPerHost: -1 }),
      [['spec.maxBlocksPerHost', M.maxBlocksRange]],
    ],
    [
      'cooldown out of range',
      ipamConfig({ ipCooldownSeconds: 1201 }),
      [['spec.ipCooldownSeconds', M.cooldownRange]],
    ],
    [
      'kubevirt enum',
      ipamConfig({ kubeVirtVMAddressPersistence: 'Maybe' }),
      [['spec.kubeVirtVMAddressPersistence', '*']],
    ],
  ];
  for (const [name, resource, expected] of table) {
    it(name, () => {
      const got = paths(resource);
      assert.deepEqual(
        got,
        expected.map(([p, m], i) => [p, m === '*' ? (got[i]?.[1] ?? m) : m]),
      );
    });
  }
});

describe('Node', () => {
  it('accepts well-formed addresses', () => {
    assert.deepEqual(
      paths(
        node({
          bgp: {
            asNumber: 64512,
            ipv4Address: '10.0.0.1/24',
            ipv6Address: 'fd00::1/64',
            ipv4IPIPTunnelAddr: '10.244.0.1',
          },
          ipv4VXLANTunnelAddr: '10.244.0.2',
          ipv6VXLANTunnelAddr: 'fd00:244::2',
          vxlanTunnelMACAddr: '66:2e:1a:5c:3b:01',
          addresses: [{ address: '10.0.0.1', type: 'InternalIP' }],
        }),
      ),
      [],
    );
  });
  it('rejects addresses that do not parse or are of the wrong family', () => {
    assert.deepEqual(
      paths(
        node({
          bgp: {
            ipv4Address: 'fd00::1/64',
            ipv6Address: '10.0.0.1',
            ipv4IPIPTunnelAddr: '10.0.0.300',
          },
          vxlanTunnelMACAddr: 'zz',
        }),
      ).map((p) => p[0]),
      [
        'spec.bgp.ipv4Address',
        'spec.bgp.ipv6Address',
        'spec.bgp.ipv4IPIPTunnelAddr',
        'spec.vxlanTunnelMACAddr',
      ],
    );
  });
});

describe('WorkloadEndpoint', () => {
  it('accepts ipNetworks of both families', () => {
    assert.deepEqual(
      paths(wep({ ipNetworks: ['10.244.0.5/32', 'fd00::5/128'], ipv4Gateway: '10.244.0.1' })),
      [],
    );
  });
  it('rejects a bad namespace and networks that do not parse', () => {
    assert.deepEqual(
      paths(
        wep(
          { ipNetworks: ['10.244.0.5/40', 'x'], ports: [{ protocol: 'TCP', port: 70000 }] },
          'Bad_NS',
        ),
      ).map((p) => p[0]),
      ['metadata.namespace', 'spec.ipNetworks[0]', 'spec.ipNetworks[1]', 'spec.ports[0].port'],
    );
  });
});

describe('metadata', () => {
  const withMeta = (metadata: Record<string, unknown>): unknown => ({
    apiVersion: API_VERSION_V3,
    kind: 'IPPool',
    metadata: { name: 'p', ...metadata },
    spec: { cidr: '10.0.0.0/16' },
  });
  it('accepts qualified label keys and values', () => {
    assert.deepEqual(
      paths(
        withMeta({
          labels: { 'example.com/zone': 'us-east-1a', rack: '' },
          annotations: { 'a.b/c': 'x' },
        }),
      ),
      [],
    );
  });
  it('rejects bad label keys and values', () => {
    assert.deepEqual(
      paths(withMeta({ labels: { '-bad': 'ok', good: 'bad value', [`${'x'.repeat(64)}`]: 'v' } })),
      [
        ['metadata.labels["-bad"]', META_MESSAGES.qualifiedName],
        ['metadata.labels["good"]', META_MESSAGES.labelValue],
        [`metadata.labels["${'x'.repeat(64)}"]`, META_MESSAGES.qualifiedName],
      ],
    );
  });
  it('limits annotations to 256 KiB in total', () => {
    assert.deepEqual(paths(withMeta({ annotations: { a: 'x'.repeat(262_143) } })), []);
    assert.deepEqual(paths(withMeta({ annotations: { a: 'x'.repeat(262_144) } })), [
      ['metadata.annotations', META_MESSAGES.annotationsTooLarge],
    ]);
  });
  it('rejects unknown kinds and versions with calicoctl words', () => {
    assert.deepEqual(paths({ apiVersion: 'v1', kind: 'IPPool', metadata: { name: 'p' } }), [
      ['kind', 'unknown resource type (IPPool) and/or version (v1)'],
    ]);
  });
});

describe('formatValidationMessage', () => {
  it('prints one issue and several issues as libcalico does', () => {
    assert.equal(
      formatValidationMessage([
        { path: 'spec.cidr', value: '10.0.0.1/16', message: 'IPPool CIDR must be strictly masked' },
      ]),
      "error with field spec.cidr = '10.0.0.1/16' (IPPool CIDR must be strictly masked)",
    );
    assert.equal(
      formatValidationMessage([
        { path: 'spec.cidr', message: 'IPPool CIDR must be specified' },
        { path: 'spec.blockSize', value: 19, message: 'm', hint: 'h' },
      ]),
      "error with the following fields:\n-  spec.cidr (IPPool CIDR must be specified)\n-  spec.blockSize = '19' (m; h)\n",
    );
  });
});
