// cidrpool-ipam when the node agent fails it at the protocol's edges, against the real plugin
// and a real embedded store. The peer on the socket is a few lines of this test, not the agent:
// it fails at exactly the moment each case needs (dies right after taking the call, speaks
// another protocol version, never answers hello), which a real agent killed by a signal hits
// only by chance (test/node/ipam-socket.test.ts does that with the real agent).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listAll } from '../../src/datastore/api.js';
import type { DatastoreConfig } from '../../src/datastore/config-types.js';
import { resourcePrefix } from '../../src/datastore/keys.js';
import { ipsOfHandle, runPlugin, seedStore, withStore } from './support.js';

type Behaviour = 'die-on-call' | 'old-protocol' | 'silent';

/** A peer on `path` that answers as `behaviour` says; resolves once listening. */
async function startPeer(path: string, behaviour: Behaviour): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let lines = 0;
    socket.on('data', (chunk) => {
      lines += chunk.toString().split('\n').length - 1;
      if (behaviour === 'silent') return;
      if (behaviour === 'old-protocol') {
        const error = { code: 'AGENT_MISMATCH', message: 'protocol 2 is not 1' };
        socket.end(`${JSON.stringify({ id: 1, error })}\n`);
      } else if (lines === 1) {
        socket.write(`${JSON.stringify({ id: 1, result: { node: 'n1', protocol: 2 } })}\n`);
      } else {
        socket.destroy(); // the agent died holding the call
      }
    });
  });
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

describe('cidrpool-ipam when the node agent fails it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cidrpool-agent-fallback-'));
  const ds: DatastoreConfig = { type: 'embedded', dataDir: join(dir, 'store') };
  const conf = (socket: string) => ({
    cniVersion: '1.0.0',
    name: 'net',
    nodename: 'n1',
    datastore_type: 'embedded',
    data_dir: ds.dataDir,
    agent_socket: socket,
    ipam: { type: 'cidrpool-ipam' },
  });
  const endpoints = () =>
    withStore(ds, async (store) =>
      (await listAll(store, resourcePrefix('WorkloadEndpoint'))).map((kv) => kv.key),
    );
  before(() =>
    withStore(ds, (store) =>
      seedStore(store, { pools: [{ name: 'p', cidr: '10.97.0.0/16' }], nodes: [{ name: 'n1' }] }),
    ),
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Run `fn` with a peer behaving as `behaviour`; returns the socket path to it. */
  async function withPeer<T>(behaviour: Behaviour, fn: (socket: string) => Promise<T>) {
    const socket = join(dir, `${behaviour}.sock`);
    const peer = await startPeer(socket, behaviour);
    try {
      return await fn(socket);
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  }

  it('undoes an ADD whose agent died holding it, and answers "try again" (code 11)', async () => {
    // What the agent had written before it died: the address and the endpoint.
    const written = await runPlugin({ command: 'ADD', containerId: 'c1', config: conf('none') });
    assert.equal(written.code, 0, written.stdout);
    assert.equal((await endpoints()).length, 1);
    const run = await withPeer('die-on-call', (socket) =>
      runPlugin({ command: 'ADD', containerId: 'c1', config: conf(socket) }),
    );
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.json?.code, 11, run.stdout);
    assert.match(String(run.json?.msg), /closed the connection during ADD/);
    assert.deepEqual(await ipsOfHandle(ds, 'net.c1'), []);
    assert.deepEqual(await endpoints(), []);
  });

  it('runs a DEL on the datastore when its agent died holding it', async () => {
    const added = await runPlugin({ command: 'ADD', containerId: 'c2', config: conf('none') });
    assert.equal(added.code, 0, added.stdout);
    const run = await withPeer('die-on-call', (socket) =>
      runPlugin({ command: 'DEL', containerId: 'c2', config: conf(socket) }),
    );
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(await ipsOfHandle(ds, 'net.c2'), []);
    assert.deepEqual(await endpoints(), []);
  });

  it('goes to the datastore when the agent speaks another protocol version or never answers hello', async () => {
    for (const behaviour of ['old-protocol', 'silent'] as const) {
      const id = `c-${behaviour}`;
      const run = await withPeer(behaviour, (socket) =>
        runPlugin({ command: 'ADD', containerId: id, config: conf(socket) }),
      );
      assert.equal(run.code, 0, `${behaviour}: ${run.stdout}`);
      assert.equal((await ipsOfHandle(ds, `net.${id}`)).length, 1, behaviour);
      const del = await runPlugin({ command: 'DEL', containerId: id, config: conf('none') });
      assert.equal(del.code, 0, del.stdout);
    }
  });
});
