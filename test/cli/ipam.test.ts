// Spawn tests of `cidrpool ipam`: assign, show, configure, release, check, split, and the
// datastore lock (surfaces.md §2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertGolden, sandboxForSuite } from './support.js';

const SETUP = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.65.0.0/16
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-v6
spec:
  cidr: fd5f:abcd:64::/48
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec: {}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-2
spec: {}
`;

interface Assigned {
  handle: string;
  ipv4: string[];
  ipv6: string[];
}

describe('ipam commands', () => {
  const sb = sandboxForSuite({ setup: SETUP });
  let first: Assigned;

  it('assigns dual-stack addresses with their block masks', async () => {
    first = JSON.parse(
      await sb.ok([
        'ipam',
        'assign',
        '--node',
        'node-1',
        '--pod',
        'nginx-abc',
        '--ipv6',
        '1',
        '-o',
        'json',
      ]),
    ) as Assigned;
    assert.match(first.handle, /^k8s-pod-network\.[0-9a-f]{64}$/);
    assert.match(first.ipv4[0]!, /^10\.65\.\d+\.\d+\/26$/);
    assert.match(first.ipv6[0]!, /^fd5f:abcd:64:[0-9a-f:]+\/122$/);
    const plain = await sb.ok([
      'ipam',
      'assign',
      '--node',
      'node-1',
      '--handle',
      'tunnel-1',
      '--use',
      'Tunnel',
    ]);
    assert.match(plain, /^10\.65\.\d+\.\d+\/26\n$/);
  });

  it('shows one IP, with its handle and sorted attributes', async () => {
    const ip = first.ipv4[0]!.split('/')[0]!;
    const out = await sb.ok(['ipam', 'show', `--ip=${ip}`]);
    assert.match(
      out,
      new RegExp(
        `^IP ${ip.replace(/\./g, '\\.')} is in use\\nHandle ID: ${first.handle}\\nActive Owner Attributes:\\n  namespace: default\\n  node: node-1\\n  pod: nginx-abc\\n  timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? \\+0000 UTC\\n$`,
      ),
    );
    assert.equal(
      await sb.ok(['ipam', 'show', '--ip', '10.65.255.254']),
      '10.65.255.254 is not assigned\n',
    );
    const bad = await sb.run(['ipam', 'show', '--ip', '10.65.1']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, 'Error executing command: invalid IP address specified: 10.65.1\n');
    const both = await sb.run(['ipam', 'show', '--show-blocks', '--show-borrowed']);
    assert.equal(both.code, 1);
  });

  it('shows pools and blocks in tablewriter tables', async () => {
    const plain = await sb.ok(['ipam', 'show']);
    assertGolden('ipam-show-plain.txt', plain);
    const blocks = await sb.ok(['ipam', 'show', '--show-blocks']);
    assert.match(
      blocks,
      /\| Block +\| 10\.65\.\d+\.\d+\/26 +\| +64 \| 2 \(3%\) +\| 62 \(97%\) +\|/,
    );
    assert.match(
      blocks,
      /\| IP Pool  \| fd5f:abcd:64::\/48 +\| 1\.2089e\+24 \| 1 \(0%\) +\| 1\.2089e\+24 \(100%\) \|/,
    );
  });

  it('configures IPAM and shows the configuration', async () => {
    const bad = await sb.run(['ipam', 'configure']);
    assert.equal(bad.stderr, 'at least one configuration option must be specified\n');
    assert.equal(
      (await sb.run(['ipam', 'configure', '--strictaffinity=maybe'])).stderr,
      'invalid value. Use true or false to set strictaffinity\n',
    );
    assert.equal(
      (await sb.run(['ipam', 'configure', '--max-blocks-per-host=many'])).stderr,
      'invalid value for maxblockhost. Use a valid number\n',
    );
    assert.equal(
      (await sb.run(['ipam', 'configure', '--kubevirt-ip-persistence=on'])).stderr,
      'invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled\n',
    );
    const rule = await sb.run(['ipam', 'configure', '--max-blocks-per-host=5']);
    assert.equal(rule.code, 1);
    assert.match(rule.stderr, /^error: .*MaxBlocksPerHost requires StrictAffinity to be enabled/);
    assert.equal(
      await sb.ok([
        'ipam',
        'configure',
        '--strictaffinity=true',
        '--max-blocks-per-host=5',
        '--ip-cooldown-seconds=0',
      ]),
      'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 5\nSuccessfully set IPCooldownSeconds to: 0\n',
    );
    assertGolden(
      'ipam-show-configuration.txt',
      await sb.ok(['ipam', 'show', '--show-configuration']),
    );
    await sb.ok(['ipam', 'configure', '--strictaffinity=false', '--max-blocks-per-host=0']);
  });

  it('links the IPAMConfiguration resource and the allocator configuration both ways', async () => {
    const applied = sb.write(
      'ipamconfig.yaml',
      'apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata:\n  name: default\n' +
        'spec:\n  strictAffinity: false\n  autoAllocateBlocks: true\n  ipCooldownSeconds: 45\n',
    );
    await sb.ok(['apply', '-f', applied]);
    assert.match(
      await sb.ok(['ipam', 'show', '--show-configuration']),
      /\| IPCooldownSeconds +\| +45 \|/,
    );
    await sb.ok(['ipam', 'configure', '--ip-cooldown-seconds=0']);
    assert.match(
      await sb.ok(['get', 'ipamconfig', 'default', '-o', 'yaml']),
      /ipCooldownSeconds: 0/,
    );
    await sb.ok(['delete', 'ipamconfig', 'default']);
  });

  it('lists borrowed addresses', async () => {
    const ip = first.ipv4[0]!.split('/')[0]!.replace(/\d+$/, (d) => String(Number(d) + 5));
    await sb.ok([
      'ipam',
      'assign',
      '--node',
      'node-2',
      '--ip',
      ip,
      '--namespace',
      'web',
      '--pod',
      'borrower',
    ]);
    const out = await sb.ok(['ipam', 'show', '--show-borrowed']);
    assert.match(
      out,
      new RegExp(
        `\\| ${ip.replace(/\./g, '\\.')} +\\| node-2 +\\| 10\\.65\\.\\d+\\.\\d+/26 \\| node-1 +\\| pod +\\| web/borrower \\|`,
      ),
    );
  });

  it('releases by IP and by handle', async () => {
    assert.equal(
      await sb
        .ok(['ipam', 'release', '--handle', 'tunnel-1'])
        .then((s) => s.startsWith('Successfully released IP address 10.65.')),
      true,
    );
    const again = await sb.run(['ipam', 'release', '--ip', '10.65.255.254']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'IP address 10.65.255.254 is not assigned\n');
    assert.equal((await sb.run(['ipam', 'release'])).code, 0);
  });

  it('finds a leak with ipam check and releases it from the report', async () => {
    // A leak: an allocation whose pod endpoint is gone.
    const leak = JSON.parse(
      await sb.ok(['ipam', 'assign', '--node', 'node-1', '--pod', 'gone', '-o', 'json']),
    ) as Assigned;
    await sb.ok(['delete', 'wep', 'node--1-k8s-gone-eth0']);
    const report = `${sb.dir}/report.json`;
    const unlocked = await sb.run(['ipam', 'check', '--show-problem-ips', '-o', report]);
    assert.equal(unlocked.code, 0);
    const leakedIp = leak.ipv4[0]!.split('/')[0]!;
    assert.ok(
      unlocked.stdout.includes(
        `  ${leakedIp} leaked; attrs Main:${leak.handle} Extra:namespace=default,node=node-1,pod=gone,timestamp=`,
      ),
    );
    assert.match(
      unlocked.stdout,
      /Found 1 IPs that are allocated in IPAM but not actually in use\.\n/,
    );
    assert.match(unlocked.stdout, /Check complete; found 1 problems\.\n$/);
    const refused = await sb.run(['ipam', 'release', '--from-report', report]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'data store is not locked. Either lock the data store, or re-run with --force\n',
    );

    assert.equal(await sb.ok(['datastore', 'migrate', 'lock']), 'Datastore locked.\n');
    const stale = await sb.run(['ipam', 'release', '--from-report', report]);
    assert.match(stale.stderr, /^the provided reports are all stale/);
    await sb.ok(['ipam', 'check', '-o', report]);
    const parsed = JSON.parse(sb.read('report.json')) as {
      datastoreLocked: boolean;
      allocations: Record<string, unknown[]>;
    };
    assert.equal(parsed.datastoreLocked, true);
    assert.ok(parsed.allocations[leakedIp]);
    const released = await sb.ok(['ipam', 'release', '--from-report', report]);
    assert.equal(
      released,
      "Releasing 1 old IPs...\nReleased 1 IPs successfully\nReport didn't contain any handles to clean up.\nYou may now unlock the data store.\n",
    );
    await sb.ok(['datastore', 'migrate', 'unlock']);
    assert.match(await sb.ok(['ipam', 'check']), /found 0 problems/);
  });

  it('splits a pool only when the datastore is locked, keeping its blocks', async () => {
    const unlocked = await sb.run(['ipam', 'split', '4', '--name', 'pool-a']);
    assert.equal(unlocked.code, 1);
    assert.match(
      unlocked.stderr,
      /^datastore is not locked\. Run the `cidrpool datastore migrate lock` command/,
    );
    assert.equal(
      (await sb.run(['ipam', 'split', '4'])).stderr,
      'no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split\n',
    );
    await sb.ok(['datastore', 'migrate', 'lock']);
    const three = await sb.run(['ipam', 'split', '3', '--cidr', '10.65.0.0/16']);
    assert.equal(
      three.stderr,
      'error splitting the CIDR 10.65.0.0/16 into 3 CIDRs: number to split CIDR into is not a valid power of 2: 3\n',
    );
    const nope = await sb.run(['ipam', 'split', '2', '--cidr', '10.99.0.0/16']);
    assert.equal(nope.stderr, 'unable to find IP pool  covering the specified CIDR 10.99.0.0/16\n');
    const byName = await sb.run(['ipam', 'split', '2', '--name', 'ghost']);
    assert.equal(
      byName.stderr,
      'unable to find IP pool with name ghost: resource does not exist: IPPool(ghost) with error: <nil>\n',
    );
    const word = await sb.run(['ipam', 'split', 'two', '--name', 'pool-a']);
    assert.equal(
      word.stderr,
      'error reading number to split IP pools into. two is not a valid number: strconv.Atoi: parsing "two": invalid syntax\n',
    );
    const out = await sb.ok(['ipam', 'split', '4', '--cidr', '10.65.0.0/16']);
    assert.equal(
      out,
      'IP Pool pool-a was successfully split into 4 smaller pools.Created split-pool-a-0 with CIDR 10.65.0.0/18.\n' +
        'Created split-pool-a-1 with CIDR 10.65.64.0/18.\nCreated split-pool-a-2 with CIDR 10.65.128.0/18.\n' +
        'Created split-pool-a-3 with CIDR 10.65.192.0/18.\nPlease refer to the documentation for final steps.',
    );
    await sb.ok(['datastore', 'migrate', 'unlock']);
    const pools = await sb.ok(['get', 'ippool']);
    assert.equal(pools.split('\n').filter((l) => l.startsWith('split-pool-a-')).length, 4);
    assert.match(await sb.ok(['ipam', 'check']), /found 0 problems/);
  });

  it('refuses a request that cannot be met, keeping nothing', async () => {
    const res = await sb.run([
      'ipam',
      'assign',
      '--node',
      'node-1',
      '--pool',
      'pool-v6',
      '--ipv4',
      '0',
      '--ipv6',
      '1',
      '--pod',
      'p',
      '--handle',
      'h-x',
      '--use',
      'LoadBalancer',
    ]);
    assert.equal(res.code, 1);
    assert.notEqual(res.stderr, '');
    assert.equal((await sb.run(['ipam', 'release', '--handle', 'h-x'])).code, 1);
  });
});
