// v1 ipPool -> v3 IPPool (surfaces.md §5.1-5.2).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import {
  convertV1IpPool,
  readManifests,
  v1PoolName,
  validateV1IpPool,
  type V1IpPool,
} from '../../src/resources/index.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/manifests/${name}`, import.meta.url), 'utf8');

const v1 = (cidr: string, spec: V1IpPool['spec'] = {}): V1IpPool => ({
  apiVersion: 'v1',
  kind: 'ipPool',
  metadata: { cidr },
  spec,
});

describe('v1 ipPool conversion', () => {
  it('converts the worked example of §5.2 (the seed fixture)', () => {
    const [read] = readManifests(fixture('v1-ippool.yaml'), 'v1-ippool.yaml');
    assert.equal(read?.convertedFrom, 'v1');
    assert.deepEqual(read?.resource, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: '10-1-0-0-16' },
      spec: {
        cidr: '10.1.0.0/16',
        vxlanMode: 'Never',
        ipipMode: 'CrossSubnet',
        natOutgoing: true,
        blockSize: 26,
        nodeSelector: 'all()',
        allowedUses: ['Workload', 'Tunnel'],
        assignmentMode: 'Automatic',
      },
    });
  });

  it('derives names from CIDRs as the §5.2 table', () => {
    const table: [string, string][] = [
      ['10.1.0.0/16', '10-1-0-0-16'],
      ['192.168.0.0/16', '192-168-0-0-16'],
      ['2001::/120', '2001---120'],
      ['2001::00/120', '2001---120'],
      ['fd00:1234::/64', 'fd00-1234---64'],
      ['10.0.0.1', '10-0-0-1-32'],
    ];
    for (const [cidr, name] of table) assert.equal(v1PoolName(cidr), name, cidr);
  });

  it('maps ipip to ipipMode', () => {
    const table: [V1IpPool['spec'], string][] = [
      [{}, 'Never'],
      [{ ipip: { enabled: false, mode: 'always' } }, 'Never'],
      // seed 000: ipip.enabled defaults to true once the ipip object is given.
      [{ ipip: { mode: 'cross-subnet' } }, 'CrossSubnet'],
      [{ ipip: {} }, 'Always'],
      [{ ipip: { enabled: true } }, 'Always'],
      [{ ipip: { enabled: true, mode: '' } }, 'Always'],
      [{ ipip: { enabled: true, mode: 'always' } }, 'Always'],
      [{ ipip: { enabled: true, mode: 'cross-subnet' } }, 'CrossSubnet'],
    ];
    for (const [spec, mode] of table) {
      assert.equal(
        convertV1IpPool(v1('10.1.0.0/16', spec)).spec.ipipMode,
        mode,
        JSON.stringify(spec),
      );
    }
  });

  it('carries disabled and uses 122 blocks for IPv6', () => {
    const out = convertV1IpPool(v1('fd00:1234::/64', { disabled: true }));
    assert.equal(out.spec.disabled, true);
    assert.equal(out.spec.blockSize, 122);
    assert.equal(out.spec.natOutgoing, undefined);
  });

  it('applies the v1 load rules', () => {
    const table: [V1IpPool, string][] = [
      [
        v1('10.1.0.0/16', { ipip: { enabled: true, mode: 'sometimes' } }),
        'IPIP mode must be "always", "cross-subnet" or empty',
      ],
      [v1('fd00::/64', { ipip: { enabled: true } }), 'IPIP is not supported on an IPv6 IP pool'],
      [v1('fd00::/64', { ipip: { mode: 'always' } }), 'IPIP is not supported on an IPv6 IP pool'],
      [v1('10.1.0.0/27'), 'IP pool size is too small (min /26) for use with Calico IPAM'],
      [v1('fd00::/123'), 'IP pool size is too small (min /122) for use with Calico IPAM'],
      [v1('10.1.0.1/16'), 'IP pool CIDR is not strictly masked'],
      [v1('169.254.0.0/16'), 'IP pool range overlaps with IPv4 Link Local range 169.254.0.0/16'],
      [v1('fe80::/64'), 'IP pool range overlaps with IPv6 Link Local range fe80::/10'],
      [v1('10.0.0.1'), 'IP pool size is too small (min /26) for use with Calico IPAM'],
    ];
    for (const [pool, message] of table) {
      assert.deepEqual(
        validateV1IpPool(pool).map((i) => i.message),
        [message],
        pool.metadata.cidr,
      );
      assert.throws(
        () => convertV1IpPool(pool),
        (err) => isCidrpoolError(err, 'RES_INVALID'),
      );
    }
    assert.deepEqual(validateV1IpPool(v1('10.0.0.1', { disabled: true })), []);
  });
});
