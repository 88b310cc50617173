// FelixConfiguration through the CLI on the embedded store: aliases, calicoctl's table (names
// only), the YAML round trip in Calico's field order, a per-node configuration, and validation
// that names every bad field with its value and the fix. Stored at Calico's key
// (/calico/resources/v3/projectcalico.org/felixconfigurations/<name>), like every kind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox, type Sandbox } from './support.js';

/** What a fresh Calico cluster holds, plus the dataplane fields of spec/dataplane.md §1.4. */
const DEFAULT = `apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  bpfConnectTimeLoadBalancing: TCP
  bpfHostNetworkedNATWithoutCTLB: Enabled
  bpfLogLevel: ""
  floatingIPs: Disabled
  logSeverityScreen: Info
  reportingInterval: 0s
  vxlanEnabled: true
  vxlanVNI: 4096
  vxlanPort: 4789
  vxlanMTU: 1400
  natOutgoingExclusions: IPPoolsAndHostIPs
  natPortRange: "40000:40100"
  routeRefreshInterval: 90s
  externalNodesList:
  - 203.0.113.0/24
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: node.n1
spec:
  natOutgoingAddress: 192.168.10.11
  iptablesNATOutgoingInterfaceFilter: eth+
`;

describe('FelixConfiguration on the embedded store', () => {
  let sb: Sandbox;
  before(() => {
    sb = createSandbox();
  });
  after(() => sb.cleanup());

  it('creates, lists, reads back and deletes, with every alias', async () => {
    assert.equal(
      await sb.ok(['create', '-f', sb.write('felix.yaml', DEFAULT)]),
      "Successfully created 2 'FelixConfiguration' resource(s)\n",
    );
    for (const alias of ['felixconfig', 'FelixConfigurations', 'felixconfiguration']) {
      assert.equal(await sb.ok(['get', alias]), 'NAME      \ndefault   \nnode.n1   \n\n');
    }
    const yaml = await sb.ok(['get', 'felixconfig', 'default', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: projectcalico.org\/v3\nkind: FelixConfiguration\n/);
    assert.match(yaml, /vxlanMTU: 1400\n {2}vxlanPort: 4789\n {2}vxlanVNI: 4096\n/);
    assert.match(yaml, /natPortRange: 40000:40100\n/);
    assert.match(yaml, /externalNodesList:\n {2}- 203\.0\.113\.0\/24\n/);
    // The printed YAML applies again unchanged.
    await sb.ok(['apply', '-f', '-'], { input: yaml });
    const withoutVersion = (text: string) => text.replace(/resourceVersion: "\d+"/, '');
    assert.equal(
      withoutVersion(await sb.ok(['get', 'felixconfig', 'default', '-o', 'yaml'])),
      withoutVersion(yaml),
    );
    await sb.ok(['patch', 'felixconfig', 'default', '-p', '{"spec":{"vxlanMTU":1350}}']);
    assert.match(await sb.ok(['get', 'felixconfig', 'default', '-o', 'json']), /"vxlanMTU": 1350/);
    assert.equal(
      await sb.ok(['delete', 'felixconfig', 'node.n1']),
      "Successfully deleted 1 'FelixConfiguration' resource(s)\n",
    );
    assert.equal(await sb.ok(['get', 'felixconfigs']), 'NAME      \ndefault   \n\n');
  });

  it('rejects bad values naming the field, the value and the fix; nothing is written', async () => {
    const bad = `apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: bad
spec:
  vxlanPort: 0
  vxlanVNI: 16777216
  routeSource: Felix
  natOutgoingAddress: fd00::1
  natPortRange: "40100:40000"
  mtuIfacePattern: "^(eth"
  routeRefreshInterval: 90
  iptablesNATOutgoingInterfaceFilter: "eth0;drop"
  externalNodesList:
  - 10.0.0.0/33
  logSeverityScreen: Loud
`;
    const run = await sb.run(['create', '-f', sb.write('bad.yaml', bad)]);
    assert.equal(run.code, 1);
    // The schema first: types, ranges and enums, each with its line.
    for (const field of ['vxlanPort', 'vxlanVNI', 'routeSource', 'routeRefreshInterval']) {
      assert.match(run.stderr, new RegExp(`spec\\.${field}`), field);
    }
    const fixed = bad
      .replace('  vxlanPort: 0\n', '')
      .replace('  vxlanVNI: 16777216\n', '')
      .replace('  routeSource: Felix\n', '')
      .replace('  routeRefreshInterval: 90\n', '');
    const rules = await sb.run(['create', '-f', '-'], { input: fixed });
    assert.equal(rules.code, 1);
    for (const expected of [
      /spec\.natOutgoingAddress = 'fd00::1'/,
      /spec\.natPortRange = '40100:40000' \(must be a port or a port range; a port \(e\.g\. 32768\) or a range "min:max"/,
      /spec\.mtuIfacePattern = '\^\(eth' \(must be a regular expression/,
      /spec\.iptablesNATOutgoingInterfaceFilter = 'eth0;drop' \(must be an interface name/,
      /spec\.externalNodesList\[0\] = '10\.0\.0\.0\/33'/,
      /spec\.logSeverityScreen = 'Loud' \(must be a log level/,
    ]) {
      assert.match(rules.stderr, expected);
    }
    assert.doesNotMatch(await sb.ok(['get', 'felixconfigs']), /bad/);
  });
});
