// How gRPC/etcd failures are classified (may a retry help? may a write have been applied?) and
// the byte ranges the etcd store lists with. Pure functions: no etcd needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EtcdAuthenticationFailedError,
  EtcdError,
  GRPCDeadlineExceededError,
  GRPCInvalidArgumentError,
  GRPCUnavailableError,
} from 'etcd3';
import { classifyFailure, toCidrpoolError } from '../../src/datastore/etcd/failure.js';
import { pageStart, prefixRangeEnd } from '../../src/datastore/etcd/key-range.js';

describe('etcd failure classification', () => {
  const cases: [string, Error, string][] = [
    [
      'connection refused: never sent',
      new GRPCUnavailableError(
        '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ',
      ),
      'refused',
    ],
    ['no leader: not proposed', new EtcdError('etcdserver: no leader'), 'refused'],
    ['dropped proposal', new EtcdError('raft proposal dropped'), 'refused'],
    [
      'deadline: may be applied',
      new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'),
      'ambiguous',
    ],
    [
      'broken stream: may be applied',
      new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'),
      'ambiguous',
    ],
    [
      'timeout in raft: may be applied',
      new EtcdError('etcdserver: request timed out'),
      'ambiguous',
    ],
    [
      'wrong password',
      new EtcdAuthenticationFailedError(
        'etcdserver: authentication failed, invalid user ID or password',
      ),
      'auth',
    ],
    [
      'server certificate not trusted',
      new GRPCUnavailableError(
        '14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate. Resolution note: ',
      ),
      'tls',
    ],
    ['NOSPACE alarm', new EtcdError('etcdserver: mvcc: database space exceeded'), 'degraded'],
    [
      'too large',
      new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: request is too large'),
      'rejected',
    ],
  ];
  for (const [name, error, kind] of cases) {
    it(name, () => assert.equal(classifyFailure(error, 5000).kind, kind));
  }

  it('messages are one line and name the endpoint and the reason', () => {
    const refused = classifyFailure(cases[0]![1], 5000);
    assert.equal(refused.reason, 'connection refused');
    const error = toCidrpoolError(refused, 'http://127.0.0.1:1', 'get /k');
    assert.equal(error.code, 'DS_UNAVAILABLE');
    assert.equal(error.message, 'get /k: etcd at http://127.0.0.1:1: connection refused');
    const tls = toCidrpoolError(classifyFailure(cases[7]![1], 5000), 'https://h:1', 'x', {
      caCertFile: '/etc/ca.pem',
    });
    assert.equal(tls.code, 'DS_CONFIG');
    assert.match(
      tls.message,
      /unable to verify the first certificate; check the CA certificate file \/etc\/ca\.pem$/,
    );
    const deadline = classifyFailure(cases[3]![1], 1234);
    assert.equal(deadline.reason, 'no answer within 1234 ms');
  });
});

describe('etcd key ranges', () => {
  const b = (text: string) => Buffer.from(text, 'utf8');

  it('prefix range end increments the last byte below 0xff, like etcdctl --prefix', () => {
    assert.deepEqual(prefixRangeEnd(b('/calico/')), b('/calico0'));
    assert.deepEqual(prefixRangeEnd(Buffer.from([0x61, 0xff, 0xff])), Buffer.from([0x62]));
    assert.deepEqual(prefixRangeEnd(Buffer.alloc(0)), Buffer.from([0]));
  });

  it('a page starts at the prefix, just after startAfter, or nowhere', () => {
    const prefix = b('/p/');
    const end = prefixRangeEnd(prefix);
    assert.deepEqual(pageStart(prefix, end), prefix);
    assert.deepEqual(pageStart(prefix, end, '/a'), prefix);
    assert.deepEqual(pageStart(prefix, end, '/p/k'), b('/p/k\0'));
    assert.equal(pageStart(prefix, end, '/q'), undefined);
    assert.deepEqual(pageStart(Buffer.alloc(0), Buffer.from([0]), 'zzz'), b('zzz\0'));
  });
});
