// How the etcd store fails when etcd is not there: fast, once, with DS_UNAVAILABLE naming the
// endpoint; and DS_CONFIG for endpoints that are not URLs.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { isCidrpoolError } from '../../src/errors/index.js';
import type { EtcdConfig } from '../../src/datastore/config-types.js';
import { openEtcdStore } from '../../src/datastore/etcd/index.js';
import { findFreePort, startEtcd } from '../helpers/etcd-cluster.js';

/** Assert a CidrpoolError with `code`, on one line, mentioning every one of `texts`. */
function assertError(error: unknown, code: string, texts: string[]): true {
  assert.ok(isCidrpoolError(error), `expected a CidrpoolError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  for (const text of texts)
    assert.ok(error.message.includes(text), `"${error.message}" lacks ${text}`);
  assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
  return true;
}

/** A TCP server on 127.0.0.1 that accepts connections and never says anything. */
async function startSilentServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('etcd store errors', () => {
  it('an endpoint nothing listens on fails the open at once with DS_UNAVAILABLE naming it', async () => {
    const endpoint = `http://127.0.0.1:${await findFreePort()}`;
    const started = Date.now();
    await assert.rejects(openEtcdStore({ type: 'etcdv3', endpoints: [endpoint] }), (error) =>
      assertError(error, 'DS_UNAVAILABLE', [endpoint, 'connection refused']),
    );
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  it('with several dead endpoints the one error names each of them', async () => {
    const endpoints = [
      `http://127.0.0.1:${await findFreePort()}`,
      `http://127.0.0.1:${await findFreePort()}`,
    ];
    await assert.rejects(openEtcdStore({ type: 'etcdv3', endpoints }), (error) =>
      assertError(error, 'DS_UNAVAILABLE', endpoints),
    );
  });

  it('an endpoint that accepts but never answers fails after callTimeoutMs, not later', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      await assert.rejects(
        openEtcdStore({ type: 'etcdv3', endpoints: [silent.endpoint], callTimeoutMs: 300 }),
        (error) => assertError(error, 'DS_UNAVAILABLE', [silent.endpoint, '300 ms']),
      );
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
    } finally {
      await silent.close();
    }
  });

  it('a dead endpoint listed first costs nothing when another endpoint is up', async () => {
    const cluster = await startEtcd({ members: 1 });
    try {
      const dead = `http://127.0.0.1:${await findFreePort()}`;
      const config: EtcdConfig = { type: 'etcdv3', endpoints: [dead, ...cluster.endpoints] };
      const store = await openEtcdStore(config);
      try {
        await store.put('/cidrpool-errors/a', '1');
        assert.equal((await store.get('/cidrpool-errors/a'))?.value, '1');
      } finally {
        await store.close();
      }
    } finally {
      await cluster.stop();
    }
  });

  it('calls after etcd went away fail within callTimeoutMs with DS_UNAVAILABLE', async () => {
    const cluster = await startEtcd({ members: 1 });
    let stopped = false;
    try {
      const store = await openEtcdStore({
        type: 'etcdv3',
        endpoints: cluster.endpoints,
        callTimeoutMs: 1000,
      });
      try {
        await store.put('/cidrpool-errors/b', '1');
        await cluster.stop();
        stopped = true;
        const started = Date.now();
        await assert.rejects(store.get('/cidrpool-errors/b'), (error) =>
          assertError(error, 'DS_UNAVAILABLE', [cluster.endpoints[0]!]),
        );
        assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
      } finally {
        await store.close();
      }
    } finally {
      if (!stopped) await cluster.stop();
    }
  });

  it('endpoints that are not http(s) URLs are DS_CONFIG, naming the value', async () => {
    await assert.rejects(
      openEtcdStore({ type: 'etcdv3', endpoints: ['unix:///tmp/etcd.sock'] }),
      (error) => assertError(error, 'DS_CONFIG', ['unix:///tmp/etcd.sock']),
    );
    await assert.rejects(openEtcdStore({ type: 'etcdv3', endpoints: [] }), (error) =>
      assertError(error, 'DS_CONFIG', ['endpoints']),
    );
    const mixed = ['http://127.0.0.1:1', 'https://127.0.0.1:2'];
    await assert.rejects(openEtcdStore({ type: 'etcdv3', endpoints: mixed }), (error) =>
      assertError(error, 'DS_CONFIG', mixed),
    );
  });
});
