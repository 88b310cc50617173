import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalizeResource, withDefaults } from '../../src/resources/index.js';
import { API_VERSION_V3, type IPAMConfiguration, type IPPool } from '../../src/resources/types.js';

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
});
