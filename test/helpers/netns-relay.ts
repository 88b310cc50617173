// A TCP port on 127.0.0.1 inside a test's network namespace that reaches a TCP port on this
// process's loopback (e.g. the etcd of test/helpers/etcd-cluster.ts), so that programs run in the
// namespace (a CNI plugin, a node agent) use a real etcd without any link or route being added to
// the root namespace. A process lives in one namespace, so the relay has two halves joined by a
// Unix socket (a file, visible from every network namespace): a server here that dials the
// target, and a child in the namespace that listens on the port and dials the socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NetnsRelay {
  /** The port on 127.0.0.1 inside the namespace. */
  readonly port: number;
  /** Stop both halves and wait for the child to exit. */
  stop(): Promise<void>;
}

/** Pipe two sockets both ways; either one ending or failing ends the other. */
function join2(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

// The namespace half: listen on an ephemeral port, print it, relay each connection to the socket.
const CHILD = `
const net = require('node:net');
const [sock] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u); u.pipe(c);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end).on('close', end); u.on('error', end).on('close', end);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/**
 * Start a relay from 127.0.0.1:<port> in namespace `netns` (a name under /run/netns) to
 * 127.0.0.1:`targetPort` here. Resolves once the namespace half listens (bounded: 15 s).
 */
export async function startNetnsRelay(netns: string, targetPort: number): Promise<NetnsRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'netns-relay-'));
  const sock = join(dir, 'relay.sock');
  const server: Server = createServer((c) => join2(c, createConnection(targetPort, '127.0.0.1')));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, resolve);
  });
  // nsenter, not `ip netns exec`: the child needs no /sys of its own.
  const child: ChildProcess = spawn(
    'nsenter',
    [`--net=/run/netns/${netns}`, '--', process.execPath, '-e', CHILD, sock],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(
        () => reject(new Error(`relay in ${netns} did not start: ${err}`)),
        15_000,
      );
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(Number(out.trim()));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`relay in ${netns} exited ${code}: ${err}`));
      });
    });
    return { port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
