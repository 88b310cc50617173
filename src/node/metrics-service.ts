// `node run --metrics-listen ADDR:PORT`: Prometheus text on /metrics, liveness on /healthz and
// readiness on /readyz (ready once every service's check passes: the IPAM cache is synced).
// Loopback by default: the metrics name pools and nodes, and nothing here needs to be remote.
import { createServer, type Server } from 'node:http';
import { CidrpoolError } from '../errors/index.js';
import { agentMetrics } from './metrics.js';
import type { AgentContext, AgentService, RunningService } from './types.js';

export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9094';

/** `ADDR:PORT` or `[V6ADDR]:PORT` -> host and port. Throws CLI_USAGE naming the flag. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new CidrpoolError('CLI_USAGE', `--metrics-listen: "${text}" is not ADDR:PORT`, {
      details: { hint: 'e.g. 127.0.0.1:9094, [::1]:9094, or none to turn metrics off' },
    });
  }
  return { host: m[1] ?? m[2]!, port };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export const metricsService: AgentService = {
  name: 'metrics',
  async start(context: AgentContext): Promise<RunningService> {
    const flag = context.options.flags.metricsListen;
    const explicit = typeof flag === 'string';
    const text = explicit ? flag : DEFAULT_METRICS_LISTEN;
    if (text === 'none') return { stop: async () => undefined };
    const { host, port } = parseListen(text);
    const metrics = agentMetrics();
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          (err: unknown) => res.writeHead(500).end(`${String(err)}\n`),
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const waiting = metrics.notReady();
        res
          .writeHead(waiting.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
          .end(waiting.length === 0 ? 'ready\n' : `not ready: ${waiting.join(', ')}\n`);
      } else {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('try /metrics, /healthz or /readyz\n');
      }
    });
    try {
      await listen(server, host, port);
    } catch (err) {
      // The default port is shared by every agent on the machine: without the flag, a second
      // agent runs on without metrics rather than not at all.
      if (explicit) {
        throw new CidrpoolError('AGENT_SOCKET_IN_USE', `--metrics-listen ${text}: ${String(err)}`, {
          details: { hint: 'give another ADDR:PORT, or none' },
        });
      }
      context.log('warning', 'metrics not started', { listen: text, error: String(err) });
      return { stop: async () => undefined };
    }
    const address = server.address();
    const bound =
      typeof address === 'object' && address ? `${address.address}:${address.port}` : text;
    context.log('info', 'metrics listening', { listen: bound });
    return {
      stop: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
};
