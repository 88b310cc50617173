// `cidrpool node run` refuses a bad flag before it writes anything: non-zero exit, a message that
// names the flag, the value and the accepted form, and no Node in the datastore.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execIn } from '../helpers/netns.js';
import { CLI } from './cluster.js';

describe('cidrpool node run flags', () => {
  for (const [args, pattern] of [
    [
      ['--ip', '192.168.10.11/33'],
      /--ip "192.168.10.11\/33" is not an IPv4 address.*192\.168\.10\.11\/24/,
    ],
    [['--ip6', '10.0.0.1/24'], /--ip6 "10.0.0.1\/24" is not an IPv6 address/],
    [['--ip-autodetection-method', 'nearest'], /unknown method "nearest"; use first-found/],
    [['--vxlan-vni', 'abc'], /--vxlan-vni "abc" is not a whole number from 1 to 16777215/],
    [['--route-refresh-interval', '0'], /--route-refresh-interval "0"/],
  ] as const) {
    it(`refuses ${args.join(' ')} and writes nothing`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cp11d-flags-'));
      try {
        const env = { PATH: process.env.PATH, DATASTORE_TYPE: 'embedded', CIDRPOOL_DATA_DIR: dir };
        const r = await execIn(undefined, CLI, ['node', 'run', '--name', 'n1', ...args], {
          env,
          timeoutMs: 20_000,
        });
        assert.equal(r.code, 1);
        assert.match(r.stderr, pattern);
        const nodes = await execIn(undefined, CLI, ['get', 'nodes', '-o', 'json'], { env });
        assert.deepEqual((JSON.parse(nodes.stdout) as { items: unknown[] }).items, []);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
