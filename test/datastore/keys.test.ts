// Calico's etcd key layout (ipam-core.md §2.2-2.4). The expected keys are written out by hand
// from the spec, not computed, so a change of layout shows up here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  affinityKey,
  affinityTypePrefix,
  blockCidrFromKey,
  blockKey,
  blocksPrefix,
  cidrToKeySegment,
  handleKey,
  hostAffinityPrefix,
  IPAM_CONFIG_KEY,
  keySegmentToCidr,
  legacyHostKey,
  parseAffinityKey,
  resourceKey,
  resourcePrefix,
} from '../../src/datastore/keys.js';

describe('datastore keys: blocks (§2.4)', () => {
  it('builds and parses IPv4 and IPv6 block keys; IPv6 colons stay', () => {
    const fixtures: [4 | 6, string, string][] = [
      [4, '10.0.0.0/26', '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26'],
      [4, '10.244.166.128/26', '/calico/ipam/v2/assignment/ipv4/block/10.244.166.128-26'],
      [6, 'fd00::/122', '/calico/ipam/v2/assignment/ipv6/block/fd00::-122'],
      [
        6,
        'fd00:10:244:c11:b42f:f17e:a680:0/122',
        '/calico/ipam/v2/assignment/ipv6/block/fd00:10:244:c11:b42f:f17e:a680:0-122',
      ],
    ];
    for (const [family, cidr, key] of fixtures) {
      assert.equal(blockKey(family, cidr), key);
      assert.equal(blockCidrFromKey(key), cidr);
    }
  });

  it('has the block list prefixes of §2.4', () => {
    assert.equal(blocksPrefix(), '/calico/ipam/v2/assignment/');
    assert.equal(blocksPrefix(4), '/calico/ipam/v2/assignment/ipv4/block/');
    assert.equal(blocksPrefix(6), '/calico/ipam/v2/assignment/ipv6/block/');
  });

  it('is not fooled by other keys', () => {
    assert.equal(blockCidrFromKey('/calico/ipam/v2/handle/k8s-pod-network.abc'), undefined);
    assert.equal(blockCidrFromKey('/calico/ipam/v2/assignment/ipv5/block/10.0.0.0-26'), undefined);
  });

  it('turns only the slash into a dash, and back at the last dash', () => {
    assert.equal(cidrToKeySegment('fd00::/122'), 'fd00::-122');
    assert.equal(keySegmentToCidr('fd00::-122'), 'fd00::/122');
    assert.equal(keySegmentToCidr('10.244.166.128-26'), '10.244.166.128/26');
  });
});

describe('datastore keys: affinities (§2.2)', () => {
  it('builds and parses the spec example and its IPv6 and virtual forms', () => {
    const fixtures = [
      {
        key: '/calico/ipam/v2/host/node1/ipv4/block/10.244.166.128-26',
        parts: { type: 'host', host: 'node1', family: 4, cidr: '10.244.166.128/26' },
      },
      {
        key: '/calico/ipam/v2/host/node-2.example.com/ipv6/block/fd00::-122',
        parts: { type: 'host', host: 'node-2.example.com', family: 6, cidr: 'fd00::/122' },
      },
      {
        key: '/calico/ipam/v2/virtual/lb_vip-1/ipv4/block/192.168.0.64-26',
        parts: { type: 'virtual', host: 'lb_vip-1', family: 4, cidr: '192.168.0.64/26' },
      },
    ] as const;
    for (const { key, parts } of fixtures) {
      assert.equal(affinityKey(parts.host, parts.family, parts.cidr, parts.type), key);
      assert.deepEqual(parseAffinityKey(key), parts);
    }
    assert.equal(
      affinityKey('node1', 4, '10.244.166.128/26'),
      '/calico/ipam/v2/host/node1/ipv4/block/10.244.166.128-26',
      'the type defaults to host',
    );
  });

  it('has the per-type and per-host prefixes', () => {
    assert.equal(affinityTypePrefix(), '/calico/ipam/v2/host/');
    assert.equal(affinityTypePrefix('virtual'), '/calico/ipam/v2/virtual/');
    assert.equal(hostAffinityPrefix('node1', 4), '/calico/ipam/v2/host/node1/ipv4/block/');
    assert.equal(
      hostAffinityPrefix('node1', 6, 'virtual'),
      '/calico/ipam/v2/virtual/node1/ipv6/block/',
    );
  });

  it('does not read a block key, a handle key or the legacy host key as an affinity', () => {
    assert.equal(parseAffinityKey('/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26'), undefined);
    assert.equal(parseAffinityKey('/calico/ipam/v2/handle/h'), undefined);
    assert.equal(parseAffinityKey('/calico/ipam/v2/host/node1'), undefined);
  });
});

describe('datastore keys: handles, config and resources (§2.3, §2.4)', () => {
  it('keeps the handle ID as given', () => {
    assert.equal(
      handleKey('k8s-pod-network.3f9c0a1b'),
      '/calico/ipam/v2/handle/k8s-pod-network.3f9c0a1b',
    );
    assert.equal(handleKey('MixedCase.ID'), '/calico/ipam/v2/handle/MixedCase.ID');
  });

  it('has the IPAM config key and the legacy per-host key', () => {
    assert.equal(IPAM_CONFIG_KEY, '/calico/ipam/v2/config');
    assert.equal(legacyHostKey('node1'), '/calico/ipam/v2/host/node1');
  });

  it('builds v3 resource keys', () => {
    assert.equal(
      resourceKey('IPPool', 'default-ipv4-ippool'),
      '/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool',
    );
    assert.equal(
      resourceKey('IPReservation', 'reserved'),
      '/calico/resources/v3/projectcalico.org/ipreservations/reserved',
    );
    assert.equal(resourcePrefix('IPPool'), '/calico/resources/v3/projectcalico.org/ippools/');
    assert.equal(
      resourceKey('WorkloadEndpoint', 'node1-k8s-pod-eth0', 'kube-system'),
      '/calico/resources/v3/projectcalico.org/workloadendpoints/kube-system/node1-k8s-pod-eth0',
    );
    assert.equal(
      resourcePrefix('WorkloadEndpoint', 'kube-system'),
      '/calico/resources/v3/projectcalico.org/workloadendpoints/kube-system/',
    );
  });
});
