// `node checksystem`'s verdicts from probe results and pools, without probing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  evaluateSystem,
  renderCheckReport,
  type Probe,
  type SystemFacts,
} from '../../src/dataplane/system-requirements.js';
import type { IPPool, IPPoolSpec } from '../../src/resources/types.js';

const yes: Probe = { ok: true, detail: '' };
const no = (detail: string): Probe => ({ ok: false, detail });
const facts = (changes: Partial<SystemFacts> = {}): SystemFacts => ({
  kernelRelease: '6.18.0',
  veth: yes,
  vxlan: yes,
  ipip: no('cannot create ipip links (Error: Unknown device type.)'),
  nftNat: yes,
  ipv6: yes,
  ipv4Forward: yes,
  ipv6Forward: no('is 0; set it with sysctl -w net.ipv6.conf.all.forwarding=1'),
  programs: { ip: yes, nft: yes, bridge: yes, bird: no('not found on PATH') },
  ...changes,
});
const pool = (name: string, spec: IPPoolSpec): IPPool => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec,
});

describe('evaluateSystem', () => {
  it('passes when no pool needs what is missing; the missing optional features are warnings', () => {
    const report = evaluateSystem(facts(), [
      pool('vx', { cidr: '10.244.0.0/16', vxlanMode: 'Always', natOutgoing: true }),
    ]);
    assert.deepEqual(report.problems, []);
    const text = renderCheckReport(report);
    assert.match(
      text,
      /\t\tipip +WARNING: cannot create ipip links .*needed only by pools with ipipMode\n/,
    );
    assert.match(text, /\t\tpool vx +OK\n/);
    assert.match(text, /System meets the requirements/);
  });

  it('names the pool that needs a missing kernel feature, once per pool (disabled pools too)', () => {
    const report = evaluateSystem(facts(), [
      pool('tunnels', { cidr: '10.10.0.0/16', ipipMode: 'Always', disabled: true }),
      pool('v6', { cidr: 'fd00::/64' }),
    ]);
    assert.deepEqual(report.problems, [
      'pool tunnels has ipipMode: Always but this kernel has no ipip module',
    ]);
    const text = renderCheckReport(report);
    assert.match(text, /\t\tipip +FAIL: cannot create ipip links .*; needed by pool tunnels\n/);
    // IPv6 is on, but forwarding is not: the v6 pool needs it.
    assert.match(text, /net\.ipv6\.conf\.all\.forwarding +FAIL: is 0; .*needed by pool v6\n/);
    assert.match(
      text,
      /System does not meet the requirements: 1 problem\(s\):\n {2}- pool tunnels/,
    );
  });

  it('fails on what every node needs, with or without pools', () => {
    const report = evaluateSystem(
      facts({
        ipv4Forward: no('is 0; set it with sysctl -w net.ipv4.ip_forward=1'),
        nftNat: no('x'),
      }),
      undefined,
      'no embedded datastore in /x; pool checks skipped',
    );
    assert.deepEqual(report.problems, [
      'nf_tables (nat, masquerade, fib): x; needed by the node agent (natOutgoing and tunnel masquerade)',
      'net.ipv4.ip_forward: is 0; set it with sysctl -w net.ipv4.ip_forward=1; needed by pod traffic leaving the node',
    ]);
    assert.match(renderCheckReport(report), /IP pools +WARNING: no embedded datastore in \/x/);
  });

  it('a VXLAN pool needs the vxlan module and the bridge program; natOutgoing needs nftables NAT', () => {
    const report = evaluateSystem(
      facts({
        vxlan: no('v'),
        nftNat: no('n'),
        programs: { ...facts().programs, bridge: no('b') },
      }),
      [pool('vx', { cidr: '10.244.0.0/16', vxlanMode: 'CrossSubnet', natOutgoing: true })],
    );
    assert.deepEqual(report.problems.slice(1), [
      'pool vx has vxlanMode: CrossSubnet but this kernel has no vxlan module',
      'pool vx has vxlanMode: CrossSubnet but the bridge program (iproute2) is missing',
      'pool vx has natOutgoing: true but nftables NAT is not available',
    ]);
    assert.match(report.problems[0]!, /^nf_tables \(nat, masquerade, fib\): n; needed by/);
  });
});
