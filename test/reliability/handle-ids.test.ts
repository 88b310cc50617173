// Issue 15, item 3: handle IDs are checked before anything is stored under them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listAll } from '../../src/datastore/api.js';
import { BLOCKS_PREFIX, HANDLES_PREFIX } from '../../src/datastore/keys.js';
import { isCidrpoolError } from '../../src/errors/index.js';
import { createIpam } from '../../src/ipam/index.js';
import { validateHandleId } from '../../src/ipam/handle-id.js';
import {
  openTempStore,
  putNode,
  putPool,
  testEnvironment,
  v4Request,
} from '../helpers/ipam-fixtures.js';

const BAD = [
  '',
  'a\nb',
  'net/ctr',
  '../x',
  'a..b',
  '.hidden',
  'x'.repeat(100_000),
  'ctr ',
  'n\u00e9t.c',
];
const GOOD = [
  'k8s-pod-network.0a1b2c3d',
  'ipip-tunnel-addr-node-1.example.com',
  'windows-reserved-ipam-handle',
  'net.ctr_with_underscore',
  'h',
  'x'.repeat(253),
];

test('handle IDs: Calico-shaped ones pass, others fail with a bounded message', () => {
  for (const id of GOOD) validateHandleId(id);
  for (const id of BAD) {
    assert.throws(
      () => validateHandleId(id),
      (e: unknown) =>
        isCidrpoolError(e, 'IPAM_INVALID_HANDLE') &&
        e.message.startsWith('invalid handle ID ') &&
        e.message.length < 600,
      JSON.stringify(id.slice(0, 20)),
    );
  }
});

test('AutoAssign and AssignIP store nothing under a bad handle ID', async () => {
  const t = await openTempStore();
  try {
    await putPool(t.store, 'p', { cidr: '10.61.0.0/24' });
    await putNode(t.store, 'n');
    const ipam = createIpam(t.store, testEnvironment());
    for (const handleId of BAD) {
      await assert.rejects(ipam.autoAssign(v4Request('n', 2, { handleId })), (e: unknown) =>
        isCidrpoolError(e, 'IPAM_INVALID_HANDLE'),
      );
      await assert.rejects(
        ipam.assignIp({ ip: '10.61.0.9', hostname: 'n', handleId }),
        (e: unknown) => isCidrpoolError(e, 'IPAM_INVALID_HANDLE'),
      );
    }
    assert.deepEqual(await listAll(t.store, HANDLES_PREFIX), []);
    assert.deepEqual(await listAll(t.store, BLOCKS_PREFIX), []);
  } finally {
    await t.close();
  }
});
