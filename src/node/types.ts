// The node agent's contracts: what `cidrpool node run` is given, and the services it runs.
// CONTRACT shared by every service of src/node (dataplane, IPAM socket, BIRD, metrics).
import type { ResourceClient } from '../client/types.js';
import type { Datastore } from '../datastore/api.js';
import type { DatastoreConfig } from '../datastore/config-types.js';
import type { Ipam } from '../ipam/types.js';

/** The flags of `cidrpool node run` (calicoctl node run's names), after parsing. */
export interface NodeRunOptions {
  /** --name: the Node resource this agent acts for. */
  readonly nodeName: string;
  /** --ip: ADDR/PREFIX, `autodetect` or `none`; undefined means autodetect. */
  readonly ipv4?: string;
  /** --ip6: ADDR/PREFIX, `autodetect` or `none`; undefined means none. */
  readonly ipv6?: string;
  /** --ip-autodetection-method: first-found, interface=REGEX, can-reach=ADDR, cidr=CIDR. */
  readonly ipAutodetectionMethod?: string;
  /** The datastore, chosen as the CLI chooses it (-c, DATASTORE_TYPE/ETCD_*, the embedded store). */
  readonly datastore: DatastoreConfig;
  /** Other flags, by their long name without dashes (each service reads its own). */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** One log line: a message and structured fields. */
export type AgentLog = (
  level: LogLevel,
  message: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

/** What every service is started with. The agent owns the datastore and closes it last. */
export interface AgentContext {
  readonly options: NodeRunOptions;
  readonly store: Datastore;
  readonly ipam: Ipam;
  readonly client: ResourceClient;
  readonly log: AgentLog;
}

/** A running service: stopped in the reverse order of starting, on SIGTERM or SIGINT. */
export interface RunningService {
  stop(): Promise<void>;
}

/** A part of the agent (Node registration, dataplane, IPAM socket, BIRD, metrics). */
export interface AgentService {
  readonly name: string;
  /** Start; resolve once running. A rejection stops the services already started and the agent. */
  start(context: AgentContext): Promise<RunningService>;
}
