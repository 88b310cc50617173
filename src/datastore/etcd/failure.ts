// The one place gRPC and etcd errors are understood: each failure of a call becomes a Failure
// (what happened, whether the request may have been applied) and then a CidrpoolError.
import {
  ClientClosedError,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnauthenticatedError,
} from 'etcd3';
import { CidrpoolError } from '../../errors/index.js';

/**
 * - `refused`: the request never reached a member that could apply it; any retry is safe.
 * - `ambiguous`: the connection broke or the deadline passed while the request was out; a write
 *   may or may not have been applied.
 * - `tls`, `auth`: configuration problems; a retry cannot help.
 * - `degraded`: etcd refuses writes until an operator acts (e.g. the NOSPACE alarm).
 * - `rejected`: etcd refused this request (e.g. too large); a retry will not change that.
 */
export type FailureKind =
  'refused' | 'ambiguous' | 'tls' | 'auth' | 'degraded' | 'rejected' | 'closed';

export interface Failure {
  readonly kind: FailureKind;
  /** One line, meant for a person: "connection refused", "no answer within 5000 ms". */
  readonly reason: string;
  readonly cause: unknown;
}

/** True when another attempt (on this or another endpoint) may succeed. */
export const isTransient = (failure: Failure): boolean =>
  failure.kind === 'refused' || failure.kind === 'ambiguous';

// etcd answers these before proposing anything to raft (etcdserver/api/v3rpc/rpctypes).
const NOT_APPLIED = [
  'etcdserver: no leader',
  'etcdserver: not capable',
  'etcdserver: too many requests',
  // raft drops a proposal at once when the member knows no leader (mid-election).
  'raft proposal dropped',
];
// These come after a proposal was made: it may still commit.
const MAYBE_APPLIED = [
  'etcdserver: request timed out',
  'etcdserver: leader changed',
  'etcdserver: server stopped',
];
// etcd is up but refuses writes until an operator acts (an alarm): not the caller's fault.
const DEGRADED = /database space exceeded|corrupt|alarm/i;
// grpc-js and Node's TLS report a failed handshake with one of these in the message.
const TLS_WORDS =
  /certificate|self[- ]signed|unable to verify|altnames|handshake|wrong version number|unknown ca|bad record mac/i;
const TLS_NAMES = /\b(SSL|TLS)\b/;

/** Classify an error thrown by an etcd3 call; `timeoutMs` is the deadline the call had. */
export function classifyFailure(error: unknown, timeoutMs: number): Failure {
  const message = oneLine(error instanceof Error ? error.message : String(error));
  const cause = error;
  if (error instanceof ClientClosedError) return { kind: 'closed', reason: 'store closed', cause };
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdPermissionDeniedError ||
    error instanceof GRPCUnauthenticatedError ||
    message.includes('etcdserver: authentication is not enabled') ||
    message.includes('etcdserver: user name is empty')
  ) {
    return { kind: 'auth', reason: stripGrpcPrefix(message), cause };
  }
  if (TLS_WORDS.test(message) || TLS_NAMES.test(message))
    return { kind: 'tls', reason: tlsReason(message), cause };
  if (error instanceof GRPCDeadlineExceededError || /DEADLINE_EXCEEDED/.test(message)) {
    return { kind: 'ambiguous', reason: `no answer within ${timeoutMs} ms`, cause };
  }
  if (/ECONNREFUSED/.test(message)) return { kind: 'refused', reason: 'connection refused', cause };
  if (message.includes('No connection established') || /ENOTFOUND|EHOSTUNREACH/.test(message)) {
    return { kind: 'refused', reason: lastError(message), cause };
  }
  if (NOT_APPLIED.some((text) => message.includes(text))) {
    return { kind: 'refused', reason: stripGrpcPrefix(message), cause };
  }
  if (
    MAYBE_APPLIED.some((text) => message.includes(text)) ||
    /UNAVAILABLE|CANCELLED|INTERNAL|ECONNRESET|EPIPE|Connection dropped|stream ended/i.test(message)
  ) {
    return { kind: 'ambiguous', reason: stripGrpcPrefix(message), cause };
  }
  if (DEGRADED.test(message)) return { kind: 'degraded', reason: stripGrpcPrefix(message), cause };
  return { kind: 'rejected', reason: stripGrpcPrefix(message), cause };
}

/** Where the TLS material came from, so a TLS failure can name the file to check. */
export interface TlsFiles {
  readonly caCertFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** The CidrpoolError for a failure of a call to `endpoint` (`what` names the operation). */
export function toCidrpoolError(
  failure: Failure,
  endpoint: string,
  what: string,
  tls: TlsFiles = {},
): CidrpoolError {
  const where = `etcd at ${endpoint}`;
  switch (failure.kind) {
    case 'tls':
      return new CidrpoolError(
        'DS_CONFIG',
        `TLS with ${where} failed: ${failure.reason}${tlsHint(failure.reason, tls)}`,
        {
          details: { endpoint, ...tls },
          cause: failure.cause,
        },
      );
    case 'auth':
      return new CidrpoolError('DS_CONFIG', authMessage(where, failure.reason), {
        details: { endpoint },
        cause: failure.cause,
      });
    case 'rejected':
      return new CidrpoolError('DS_REJECTED', `${where} rejected ${what}: ${failure.reason}`, {
        details: { endpoint },
        cause: failure.cause,
      });
    case 'closed':
      return new CidrpoolError('DS_UNAVAILABLE', `${what}: the etcd store is closed`, {
        cause: failure.cause,
      });
    default:
      return new CidrpoolError(
        'DS_UNAVAILABLE',
        `${what}: ${where}: ${describeReason(failure, endpoint)}`,
        {
          details: { endpoint },
          cause: failure.cause,
        },
      );
  }
}

function authMessage(where: string, reason: string): string {
  if (reason.includes('user name is empty')) {
    return `${where} requires authentication: set the etcd username and password`;
  }
  if (reason.includes('authentication is not enabled')) {
    return `${where} does not have authentication enabled: remove the etcd username and password`;
  }
  return `${where} refused the credentials: ${reason}`;
}

/** Which file a TLS failure points at: the server's certificate did not verify -> the CA file. */
function tlsHint(reason: string, tls: TlsFiles): string {
  if (/before secure TLS connection was established|wrong version number/.test(reason)) {
    return '; the server does not speak TLS there: if etcd serves plain http, use an http:// endpoint';
  }
  if (reason.includes(SERVER_REFUSED)) {
    return tls.certFile
      ? `; check the client certificate ${tls.certFile} and key ${tls.keyFile ?? '(none)'}`
      : '; the server wants a client certificate: set the certificate and key files';
  }
  return tls.caCertFile
    ? `; check the CA certificate file ${tls.caCertFile}`
    : '; no CA certificate file is configured, so the system CAs were used';
}

const SERVER_REFUSED = 'the server refused the handshake';
// OpenSSL's "...:ssl3_read_bytes:sslv3 alert bad certificate:../deps/...": the server said no.
const SERVER_ALERT = /alert ([a-z ]+?)(?::|$)/i;

/** A TLS failure in a few words, without OpenSSL's error stack. */
function tlsReason(message: string): string {
  const alert = SERVER_ALERT.exec(message);
  if (alert) return `${SERVER_REFUSED} (TLS alert: ${alert[1]})`;
  return lastError(message);
}

/**
 * The reason of a transport failure, with a hint when something listens but does not speak
 * plain-text gRPC: grpc-js then says only "Failed to connect", which is often an https etcd.
 */
export function describeReason(failure: Failure, endpoint: string): string {
  if (failure.reason === 'Failed to connect' && endpoint.startsWith('http://')) {
    return `${failure.reason} (something listens there but did not answer as etcd over plain http; if etcd serves https, use an https:// endpoint)`;
  }
  return failure.reason;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** "14 UNAVAILABLE: details" -> "details". */
const stripGrpcPrefix = (message: string): string =>
  message.replace(/^(\w+Error: )?\d+ [A-Z_]+: /, '').replace(/^\w+Error: /, '');

/** grpc-js "No connection established. Last error: Error: X. Resolution note: " -> "X". */
function lastError(message: string): string {
  const m = /Last error: (?:\w*Error: )?(.*?)\.?( Resolution note:.*)?$/.exec(message);
  // grpc-js appends the time of the failure, "(2026-11-21T06:15:45.969Z)": noise in one line.
  return (m ? m[1]! : stripGrpcPrefix(message)).replace(/ ?\(\d{4}-\d\d-\d\dT[^)]*\)/, '').trim();
}
