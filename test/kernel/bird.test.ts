// The BIRD adapter against the real bird2: bird -p, atomic writes, birdc configure, supervision
// (a killed BIRD comes back), protocol parsing and `cidrpool node status`. The BIRD started here
// has no kernel protocol and only a passive BGP session to a loopback address, so it changes
// nothing and sends nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseBirdProtocols } from '../../src/kernel/bird-protocols.js';
import {
  birdc,
  checkBirdConfig,
  reconfigureBird,
  superviseBird,
  writeConfigAtomically,
} from '../../src/kernel/bird.js';
import { networkingBackend } from '../../src/node/bgp.js';
import { CLI } from '../cni/support.js';
import { execIn } from '../helpers/netns.js';
import { assertGolden } from '../cli/support.js';

const dir = mkdtempSync(join(tmpdir(), 'cp12-bird-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (extra = ''): string => `router id 10.0.0.1;
protocol device { scan time 10; }
protocol bgp Mesh_127_0_0_2 {
  local 127.0.0.1 as 64512;
  neighbor 127.0.0.2 as 64512;
  passive on;
  ipv4 { import none; export none; };
}
${extra}`;

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await delay(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('BIRD adapter', () => {
  it('writes atomically and reports whether the text changed', async () => {
    const path = join(dir, 'atomic.conf');
    assert.equal(await writeConfigAtomically(path, 'a\n'), true);
    assert.equal(await writeConfigAtomically(path, 'a\n'), false);
    assert.equal(await writeConfigAtomically(path, 'b\n'), true);
    assert.equal(readFileSync(path, 'utf8'), 'b\n');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
    );
  });

  it('bird -p accepts a good file and rejects a bad one with BIRD words', async () => {
    await checkBirdConfig(config(), join(dir, 'x.conf'));
    await assert.rejects(
      checkBirdConfig('router id nope;', join(dir, 'x.conf')),
      (err: Error & { code?: string }) =>
        err.code === 'BGP_CONFIG_REJECTED' &&
        /bird -p rejected the generated configuration: .*nope|syntax|error/i.test(err.message),
    );
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.check-')),
      [],
    );
  });

  it('supervises its BIRD: reconfigure, restart after a crash, stop', async () => {
    const configFile = join(dir, 'sup.conf');
    const socket = join(dir, 'sup.ctl');
    await writeConfigAtomically(configFile, config());
    const logs: string[] = [];
    const supervisor = superviseBird({
      configFile,
      socket,
      onLog: (_level, message) => logs.push(message),
      minBackoffMs: 100,
    });
    try {
      await until('bird to answer', () => birdc(socket, ['show', 'status']));
      await writeConfigAtomically(configFile, config('protocol static extra4 { ipv4; }\n'));
      await reconfigureBird(socket);
      assert.match(await birdc(socket, ['show', 'protocols']), /extra4/);
      // A crash: the supervisor starts it again.
      const pid = supervisor.pid();
      assert.ok(pid);
      process.kill(pid, 'SIGKILL');
      await until('bird to be restarted', async () => {
        const now = supervisor.pid();
        return now && now !== pid ? await birdc(socket, ['show', 'status']) : undefined;
      });
      assert.ok(
        logs.some((l) => /bird exited .*restarting in 100 ms/.test(l)),
        logs.join('\n'),
      );

      // node status reads the same socket.
      const status = await execIn(undefined, process.execPath, [
        CLI,
        'node',
        'status',
        '--bird-socket',
        socket,
      ]);
      assert.equal(status.code, 0, status.stderr);
      assertGolden(
        'node-status.txt',
        status.stdout.replace(/\| \d\d:\d\d:\d\d(\.\d+)? \|/, '| 12:00:00.000 |'),
      );
    } finally {
      await supervisor.stop();
    }
    await assert.rejects(birdc(socket, ['show', 'status']), /BIRD|birdc|connect/i);
  });

  it('node status without a BIRD says so and fails', async () => {
    const r = await execIn(undefined, process.execPath, [
      CLI,
      'node',
      'status',
      '--bird-socket',
      join(dir, 'none.ctl'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Calico process is not running\./);
    const usage = await execIn(undefined, process.execPath, [CLI, 'node', 'status'], {
      env: { PATH: process.env.PATH },
    });
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /give --name NAME or set NODENAME/);
  });

  it('parses BIRD 2 and BIRD 1.6 protocol tables', () => {
    const bird2 = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     17:50:01.123
kernel4    Kernel     master4    up     17:50:01.123
Mesh_192_168_10_12 BGP        ---        up     17:50:03.456  Established
Node_192_168_10_1 BGP        ---        start  17:50:01.123  Active        Socket: Connection refused
Global_203_0_113_7_port_1790 BGP        ---        start  17:50:01.123  Connect
Mesh_fd00__12 BGP        ---        up     2026-12-07 17:50:03  Established
`;
    assert.deepEqual(parseBirdProtocols(bird2), [
      {
        address: '192.168.10.12',
        type: 'node-to-node mesh',
        state: 'up',
        since: '17:50:03.456',
        info: 'Established',
        family: 4,
      },
      {
        address: '192.168.10.1',
        type: 'node specific',
        state: 'start',
        since: '17:50:01.123',
        info: 'Active        Socket: Connection refused',
        family: 4,
      },
      {
        address: '203.0.113.7:1790',
        type: 'global',
        state: 'start',
        since: '17:50:01.123',
        info: 'Connect',
        family: 4,
      },
      {
        address: 'fd00::12',
        type: 'node-to-node mesh',
        state: 'up',
        since: '2026-12-07 17:50:03',
        info: 'Established',
        family: 6,
      },
    ]);
    const bird16 = 'Mesh_172_17_8_102 BGP      master   up     23:30:04    Established\n';
    assert.equal(parseBirdProtocols(bird16)[0]!.address, '172.17.8.102');
  });

  it('BGP is opt-in: --networking-backend, else CALICO_NETWORKING_BACKEND, else vxlan', () => {
    assert.equal(networkingBackend({}, {}), 'vxlan');
    assert.equal(networkingBackend({}, { CALICO_NETWORKING_BACKEND: 'bird' }), 'bird');
    assert.equal(
      networkingBackend({ networkingBackend: 'none' }, { CALICO_NETWORKING_BACKEND: 'bird' }),
      'none',
    );
    assert.throws(
      () => networkingBackend({}, { CALICO_NETWORKING_BACKEND: 'gobgp' }),
      /"gobgp" is not one of bird, vxlan, none/,
    );
  });
});
