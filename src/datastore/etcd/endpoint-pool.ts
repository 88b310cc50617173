// One etcd3 client per endpoint, with etcd3's own fault handling turned off, so that this file
// alone decides where a call goes and whether it is retried: a call sticks to the endpoint that
// last worked and moves to the next on a transient failure, within one deadline for the whole
// call (EtcdConfig.callTimeoutMs). etcd3's default policy retries every recoverable error,
// including ones after which a write may have been applied, and hung ~7 s on a killed member.
import { setTimeout as delay } from 'node:timers/promises';
import { Etcd3, type CallOptionsFactory, type IOptions } from 'etcd3';
import { CidrpoolError } from '../../errors/index.js';
import type { ConnectionSettings } from './connection-settings.js';
import { silenceIpServerNameWarning, usesIpServerName } from './ip-servername.js';
import {
  classifyFailure,
  describeReason,
  isTransient,
  toCidrpoolError,
  type Failure,
  type TlsFiles,
} from './failure.js';

/** One attempt of a call on one endpoint's client, with the gRPC deadline to use. */
export type Attempt<T> = (client: Etcd3, options: { deadline: number }) => Promise<T>;

export interface CallOutcome<T> {
  readonly value: T;
  /** An earlier attempt failed in a way after which its write may have been applied. */
  readonly ambiguous: boolean;
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** The signal runOnce hands out: never aborted, so one serves every call. */
const NEVER_ABORTED = new AbortController().signal;

/** A policy that runs the call once: retries are decided by EndpointPool. */
const runOnce = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: NEVER_ABORTED })),
} as unknown as Policy;

// A ceiling on attempts, in case a failure comes back instantly forever.
const MAX_ATTEMPTS = 64;
const FIRST_BACKOFF_MS = 20;
const MAX_BACKOFF_MS = 400;
/** How long the probe waits for an earlier endpoint once a later one has answered. */
const PREFERENCE_GRACE_MS = 100;

export class EndpointPool {
  readonly endpoints: readonly string[];
  private readonly clients: Etcd3[];
  private current = 0;

  constructor(private readonly settings: ConnectionSettings) {
    this.endpoints = settings.endpoints;
    if (settings.credentials && usesIpServerName(settings.endpoints)) silenceIpServerNameWarning();
    const deadlines: CallOptionsFactory = (context) =>
      context.isStream ? {} : { deadline: Date.now() + settings.callTimeoutMs };
    this.clients = settings.endpoints.map(
      (endpoint) =>
        new Etcd3({
          hosts: [endpoint],
          credentials: settings.credentials,
          auth: settings.auth,
          defaultCallOptions: deadlines,
          dialTimeout: settings.callTimeoutMs,
          // grpc-js refuses answers over 4 MiB by default: one page of blocks can be larger.
          grpcOptions: { 'grpc.max_receive_message_length': -1 },
          faultHandling: { host: () => runOnce, global: runOnce },
        }),
    );
  }

  /** The deadline of one call, retries included. */
  get callTimeoutMs(): number {
    return this.settings.callTimeoutMs;
  }

  /** The TLS files, to name in errors. */
  get tlsFiles(): TlsFiles {
    return this.settings.tlsFiles;
  }

  /** The client of endpoint `index` (for streams, which manage their own endpoint). */
  clientAt(index: number): Etcd3 {
    return this.clients[index]!;
  }

  /** Index of the endpoint calls go to now. */
  get currentIndex(): number {
    return this.current;
  }

  /** Move calls off endpoint `index` (no-op when another caller already moved them). */
  markFailed(index: number): void {
    if (this.current === index) this.current = (index + 1) % this.clients.length;
  }

  /**
   * Ask every endpoint for its status at once; calls then go to the first endpoint in the
   * configured order that answered (a later one wins if an earlier one is still silent after
   * PREFERENCE_GRACE_MS), so the order of the configuration is honoured without waiting out a
   * dead endpoint's deadline.
   * Throws DS_CONFIG (TLS, credentials) or DS_UNAVAILABLE naming every endpoint and why it
   * failed.
   */
  async probe(): Promise<void> {
    const timeoutMs = this.settings.callTimeoutMs;
    const failures: Failure[] = [];
    const answered: boolean[] = [];
    const index = await new Promise<number | undefined>((resolve) => {
      let grace: NodeJS.Timeout | undefined;
      const settle = (): void => {
        const first = this.clients.findIndex((_, i) => failures[i] === undefined);
        if (first < 0) resolve(undefined);
        else if (answered[first]) resolve(first);
        else if (answered.some(Boolean)) {
          grace ??= setTimeout(() => resolve(answered.findIndex(Boolean)), PREFERENCE_GRACE_MS);
          return;
        } else return;
        clearTimeout(grace);
      };
      this.clients.forEach((client, i) => {
        client.maintenance.status({ deadline: Date.now() + timeoutMs }).then(
          () => {
            answered[i] = true;
            settle();
          },
          (error: unknown) => {
            failures[i] = classifyFailure(error, timeoutMs);
            settle();
          },
        );
      });
    });
    if (index !== undefined) {
      this.current = index;
      return;
    }
    const blocking = failures.findIndex((f) => f.kind !== 'refused' && f.kind !== 'ambiguous');
    if (blocking >= 0) {
      throw toCidrpoolError(
        failures[blocking]!,
        this.endpoints[blocking]!,
        'the connection check',
        this.settings.tlsFiles,
      );
    }
    throw new CidrpoolError(
      'DS_UNAVAILABLE',
      `cannot reach etcd at ${describeFailures(this.endpoints, failures)}`,
      { details: { endpoints: this.endpoints }, cause: failures[0]?.cause },
    );
  }

  /**
   * Run `attempt` on the current endpoint; on a transient failure move to the next endpoint and
   * try again (backing off after each full round), until it succeeds or the call's deadline
   * (callTimeoutMs) has passed. `what` names the operation in errors; `write` says it changes
   * data, so a failure after which it may have been applied is reported as such.
   * Throws DS_UNAVAILABLE (details.ambiguous when a write may have been applied), DS_CONFIG.
   */
  async call<T>(what: string, attempt: Attempt<T>, write = false): Promise<CallOutcome<T>> {
    const budgetMs = this.settings.callTimeoutMs;
    // With several endpoints one attempt may not use the whole budget: a member that lost its
    // leader keeps a write waiting until the deadline, and another member could answer.
    const attemptCapMs = this.clients.length > 1 ? Math.max(250, budgetMs / 2) : budgetMs;
    const started = Date.now();
    const tried = new Map<string, Failure>();
    let ambiguous = false;
    for (let attempts = 1; ; attempts++) {
      const index = this.current;
      const endpoint = this.endpoints[index]!;
      const attemptMs = Math.max(1, Math.min(attemptCapMs, budgetMs - (Date.now() - started)));
      try {
        const value = await attempt(this.clients[index]!, { deadline: Date.now() + attemptMs });
        return { value, ambiguous };
      } catch (error) {
        const failure = classifyFailure(error, Math.round(attemptMs));
        if (!isTransient(failure)) {
          throw toCidrpoolError(failure, endpoint, what, this.settings.tlsFiles);
        }
        ambiguous ||= write && failure.kind === 'ambiguous';
        tried.set(endpoint, failure);
        this.markFailed(index);
        const round = Math.floor(attempts / this.clients.length);
        const pause =
          attempts % this.clients.length === 0
            ? Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (round - 1))
            : 0;
        if (attempts >= MAX_ATTEMPTS || Date.now() - started + pause >= budgetMs) {
          const names = [...tried.keys()];
          throw new CidrpoolError(
            'DS_UNAVAILABLE',
            `${what}: no etcd endpoint answered within ${budgetMs} ms: ` +
              describeFailures(names, [...tried.values()]) +
              (ambiguous ? ' (a write may have been applied)' : ''),
            { details: { endpoints: names, ambiguous }, cause: failure.cause },
          );
        }
        if (pause > 0) await delay(pause);
      }
    }
  }

  /** Close every client (open calls fail, streams end). */
  close(): void {
    for (const client of this.clients) client.close();
  }
}

/** "http://a:1 (connection refused), http://b:2 (no answer within 5000 ms)" */
function describeFailures(endpoints: readonly string[], failures: readonly Failure[]): string {
  return endpoints
    .map((endpoint, i) =>
      failures[i] ? `${endpoint} (${describeReason(failures[i]!, endpoint)})` : endpoint,
    )
    .join(', ');
}
