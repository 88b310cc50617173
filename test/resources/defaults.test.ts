import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalizeResource,
  orderResourceKeys,
  withDefaults,
} from '../../src/resources/index.js';
import {
  API_VERSION_V3,
  type IPAMConfiguration,
  type IPPool,
  type Node,
} from '../../src/resources/types.js';

const pool = (spec: IPPool['spec']): IPPool => ({
  apiVersion: API_VERSION_V3,
  kind: 'IPPool',
  metadata: { name: 'p' },
  spec,
});

describe('withDefaults', () => {
  it('fills every IPPool default for IPv4 and leaves the input alone', () => {
    const input = pool({ cidr: '10.0.0.0/16' });
    const out = withDefaults(input);
    assert.deepEqual(out.spec, {
      cidr: '10.0.0.0/16',
      blockSize: 26,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      ipipMode: 'Never',
      vxlanMode: 'Never',
      assignmentMode: 'Automatic',
    });
    assert.deepEqual(input.spec, { cidr: '10.0.0.0/16' });
  });

  it('uses 122 for IPv6 and writes the CIDR in canonical form', () => {
    const out = withDefaults(pool({ cidr: 'FD00:0:0::/48', blockSize: 0 }));
    assert.equal(out.spec.cidr, 'fd00::/48');
    assert.equal(out.spec.blockSize, 122);
  });

  it('keeps given values, and treats empty values as unset', () => {
    const out = withDefaults(
      pool({
        cidr: '10.0.0.0/16',
        blockSize: 28,
        nodeSelector: '',
        allowedUses: [],
        ipipMode: 'Always',
        assignmentMode: 'Manual',
      }),
    );
    assert.equal(out.spec.blockSize, 28);
    assert.equal(out.spec.nodeSelector, 'all()');
    assert.deepEqual(out.spec.allowedUses, ['Workload', 'Tunnel']);
    assert.equal(out.spec.ipipMode, 'Always');
    assert.equal(out.spec.assignmentMode, 'Manual');
  });

  it('does not mask a CIDR with host bits (validation rejects it)', () => {
    const out = withDefaults(pool({ cidr: '10.0.0.1/16' }));
    assert.equal(out.spec.cidr, '10.0.0.1/16');
    assert.equal(out.spec.blockSize, undefined);
  });

  it('defaults IPAMConfiguration', () => {
    const config = {
      apiVersion: API_VERSION_V3,
      kind: 'IPAMConfiguration',
      metadata: { name: 'default' },
      spec: {},
    } as IPAMConfiguration;
    assert.deepEqual(withDefaults(config).spec, {
      autoAllocateBlocks: true,
      strictAffinity: false,
    });
  });
});

describe('canonicalizeResource', () => {
  it("orders keys as Calico's Go structs and omits false IPPool flags", () => {
    const out = canonicalizeResource(
      withDefaults({
        spec: { natOutgoing: true, disabled: false, cidr: '10.0.0.0/16' },
        metadata: { name: 'p', creationTimestamp: null },
        kind: 'IPPool',
        apiVersion: API_VERSION_V3,
      } as IPPool),
    );
    assert.equal(
      JSON.stringify(out),
      '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"p"},"spec":{"cidr":"10.0.0.0/16","vxlanMode":"Never","ipipMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"],"assignmentMode":"Automatic"}}',
    );
  });

  it("writes a Node's spec in the Go NodeSpec order and sorts label keys", () => {
    const node = {
      spec: {
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
        wireguard: { interfaceIPv4Address: '10.9.0.1' },
        orchRefs: [{ orchestrator: 'k8s', nodeName: 'n1' }],
        vxlanTunnelMACAddrV6: '66:2e:1a:5c:3b:02',
        ipv6VXLANTunnelAddr: 'fd00::1',
        vxlanTunnelMACAddr: '66:2e:1a:5c:3b:01',
        ipv4VXLANTunnelAddr: '10.8.0.1',
        bgp: { ipv4IPIPTunnelAddr: '10.7.0.1', ipv4Address: '10.0.0.1/24' },
      },
      metadata: { labels: { zone: 'a', arch: 'x' }, name: 'n1' },
      apiVersion: API_VERSION_V3,
      kind: 'Node',
    } as Node;
    const out = canonicalizeResource(node);
    assert.deepEqual(Object.keys(out), ['kind', 'apiVersion', 'metadata', 'spec']);
    assert.deepEqual(Object.keys(out.metadata), ['name', 'labels']);
    assert.deepEqual(Object.keys(out.metadata.labels!), ['arch', 'zone']);
    assert.deepEqual(Object.keys(out.spec), [
      'bgp',
      'ipv4VXLANTunnelAddr',
      'vxlanTunnelMACAddr',
      'ipv6VXLANTunnelAddr',
      'vxlanTunnelMACAddrV6',
      'orchRefs',
      'wireguard',
      'addresses',
    ]);
    assert.deepEqual(Object.keys(out.spec.bgp!), ['ipv4Address', 'ipv4IPIPTunnelAddr']);
    assert.deepEqual(Object.keys(out.spec.orchRefs![0]!), ['nodeName', 'orchestrator']);
    assert.deepEqual(Object.keys(out.spec.addresses![0]!), ['address', 'type']);
  });
});

describe('orderResourceKeys', () => {
  it('orders Lists and their items, and keeps nulls (creationTimestamp: null)', () => {
    const list = {
      items: [
        {
          spec: { cidr: '10.0.0.0/16' },
          metadata: { creationTimestamp: null, name: 'p' },
          kind: 'IPPool',
        },
      ],
      metadata: { resourceVersion: '3' },
      apiVersion: API_VERSION_V3,
      kind: 'IPPoolList',
    };
    assert.equal(
      JSON.stringify(orderResourceKeys(list)),
      '{"kind":"IPPoolList","apiVersion":"projectcalico.org/v3","metadata":{"resourceVersion":"3"},"items":[{"kind":"IPPool","metadata":{"name":"p","creationTimestamp":null},"spec":{"cidr":"10.0.0.0/16"}}]}',
    );
  });
});
