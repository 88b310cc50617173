// Where the dataplane settings come from: a flag given wins, then FelixConfiguration
// `node.<name>`, then `default`, then Felix's defaults (vxlanVNI 4096, vxlanPort 4789, MTUs 0 =
// derived, routeRefreshInterval 90 s).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dataplaneSettingsFromFlags,
  felixDataplaneFields,
  resyncSecondsFromFlags,
} from '../../src/node/dataplane-service.js';

describe('dataplane settings: flags, FelixConfiguration, defaults', () => {
  it('node.<name> overrides default field by field; a given flag overrides both', () => {
    const felix = felixDataplaneFields(
      { vxlanVNI: 7, vxlanPort: 8472, vxlanMTU: 1400, routeRefreshInterval: '1m30s' },
      { vxlanPort: 4790, ipipMTU: 1300 },
    );
    assert.deepEqual(felix, {
      vxlanVni: 7,
      vxlanPort: 4790,
      vxlanMtu: 1400,
      ipipMtu: 1300,
      routeRefreshSeconds: 90,
    });
    const settings = dataplaneSettingsFromFlags({ vxlanMtu: '1350' }, felix);
    assert.deepEqual(
      [
        settings.vxlanVni,
        settings.vxlanPort,
        settings.vxlanMtu,
        settings.vxlanMtuV6,
        settings.ipipMtu,
      ],
      [7, 4790, 1350, 0, 1300],
    );
    assert.equal(
      resyncSecondsFromFlags({}, felixDataplaneFields({ routeRefreshInterval: '2m' })),
      120,
    );
    assert.equal(resyncSecondsFromFlags({ routeRefreshInterval: '30' }, felix), 30);
  });

  it("without either, Felix's defaults", () => {
    const settings = dataplaneSettingsFromFlags({}, felixDataplaneFields(undefined, undefined));
    assert.deepEqual(
      [settings.vxlanVni, settings.vxlanPort, settings.vxlanMtu, settings.ipipMtu],
      [4096, 4789, 0, 0],
    );
    assert.equal(resyncSecondsFromFlags({}), 90);
    // routeRefreshInterval 0s would mean "never" in Felix; the agent keeps its periodic resync.
    assert.equal(
      resyncSecondsFromFlags({}, felixDataplaneFields({ routeRefreshInterval: '0s' })),
      90,
    );
  });

  it('a bad flag is still refused, naming it', () => {
    assert.throws(
      () =>
        dataplaneSettingsFromFlags({ vxlanPort: '0' }, felixDataplaneFields({ vxlanPort: 4789 })),
      (err: Error & { code?: string }) =>
        err.code === 'NODE_INVALID_FLAG' && /--vxlan-port "0"/.test(err.message),
    );
  });
});
