// `cidrpool node ...`: the node agent's commands. The agent is its own entry room (src/node); the
// command line only parses the flags and hands over, loading the agent's code when it is used.
import { type Command, Option } from 'commander';
import { CidrpoolError } from '../../errors/index.js';
import { writeOut } from '../io.js';
import { addDatastoreOptions } from '../options.js';
import { renderBoxTable } from '../output/tablewriter.js';

/** `calicoctl node status`'s tables of BGP peers, one per IP family. */
function renderNodeStatus(
  peers: readonly {
    address: string;
    type: string;
    state: string;
    since: string;
    info: string;
    family: 4 | 6;
  }[],
): string {
  let out = 'Calico process is running.\n';
  for (const family of [4, 6] as const) {
    const rows = peers.filter((p) => p.family === family);
    out += `\nIPv${family} BGP status\n`;
    out +=
      rows.length === 0
        ? `No IPv${family} peers found.\n`
        : renderBoxTable(
            ['Peer address', 'Peer type', 'State', 'Since', 'Info'],
            rows.map((p) => [p.address, p.type, p.state, p.since, p.info]),
          );
  }
  return `${out}\n`;
}

/** Register `node run`, `node checksystem` and `node status`. */
export function addNodeCommand(program: Command): void {
  const node = program.command('node').description('Run and inspect the cidrpool node agent.');
  addDatastoreOptions(
    node
      .command('run')
      .description(
        'Run the node agent in the foreground: register the Node, then keep its routes, VXLAN device, NAT rules, tunnel addresses and BGP (BIRD) configuration in step with the datastore until SIGTERM.',
      )
      .requiredOption('--name <NAME>', 'the name of this node (its Node resource)')
      .option(
        '--ip <IP>',
        'this node\'s IPv4 address with prefix length (e.g. 192.168.10.11/24), "autodetect" (the default) or "none"',
      )
      .option(
        '--ip6 <IP6>',
        'this node\'s IPv6 address with prefix length, "autodetect" or "none" (the default)',
      )
      .option(
        '--ip-autodetection-method <METHOD>',
        'how to find the address: first-found (the default), interface=REGEX, can-reach=ADDR or cidr=CIDR[,CIDR...]',
      )
      // No commander defaults on the FelixConfiguration flags: an unset flag lets the
      // FelixConfiguration (node.<name>, then default) decide, then Felix's default.
      .option(
        '--vxlan-vni <VNI>',
        'VNI of vxlan.calico and vxlan-v6.calico (FelixConfiguration vxlanVNI; default 4096)',
      )
      .option('--vxlan-port <PORT>', 'UDP port of the VXLAN devices (vxlanPort; default 4789)')
      .option(
        '--vxlan-mtu <MTU>',
        'MTU of vxlan.calico; 0 (the default) = host MTU - 50 (vxlanMTU)',
      )
      .option(
        '--vxlan-mtu-v6 <MTU>',
        'MTU of vxlan-v6.calico; 0 (the default) = host MTU - 70 (vxlanMTUV6)',
      )
      .option('--ipip-mtu <MTU>', 'MTU of tunl0; 0 (the default) = host MTU - 20 (ipipMTU)')
      .option(
        '--mtu-file <PATH>',
        'where the pod MTU (the smallest enabled tunnel MTU, else the host MTU) is written for the CNI plugin (default /var/lib/calico/mtu, as calico/node; "none" turns it off)',
      )
      .option(
        '--route-refresh-interval <SECONDS>',
        'period of the full resync of routes, devices and FDB with the kernel (routeRefreshInterval; default 90)',
      )
      .option(
        '--socket <PATH>',
        'the IPAM socket the CNI plugin calls (default /var/run/cidrpool/ipam.sock; "none" turns it off)',
      )
      .option(
        '--metrics-listen <ADDR:PORT>',
        'where /metrics, /healthz and /readyz are served (default 127.0.0.1:9094; "none" turns them off)',
      )
      .addOption(
        new Option('--log-level <LEVEL>', 'the agent log level on stderr')
          .choices(['debug', 'info', 'warning', 'error'])
          .default('info'),
      )
      .addOption(
        new Option(
          '--networking-backend <BACKEND>',
          'bird: advertise blocks over BGP with BIRD; vxlan or none: no BGP (default: $CALICO_NETWORKING_BACKEND, else vxlan)',
        ).choices(['bird', 'vxlan', 'none']),
      )
      .option(
        '--bird-run-dir <DIR>',
        "where the agent's own BIRD keeps bird.conf and its socket bird.ctl (default /var/run/cidrpool/<NAME>)",
      )
      .option(
        '--bird-socket <PATH>',
        'drive a BIRD you run: its control socket (with --bird-config; the agent then starts no BIRD)',
      )
      .option(
        '--bird-config <PATH>',
        'drive a BIRD you run: the configuration file it reads (with --bird-socket)',
      ),
  ).action(async (flags: { name: string }) => {
    const { runNodeCommand } = await import('../../node/run.js');
    await runNodeCommand(flags);
  });
  addDatastoreOptions(
    node
      .command('checksystem')
      .description(
        'Check that this host can run the node agent: kernel features (veth, vxlan, ipip, nf_tables NAT, IPv6), programs (ip, nft, bridge, bird) and forwarding sysctls, and name every IP pool that needs something missing. Exits 1 when something needed is missing. Probes in a throwaway network namespace; changes nothing.',
      ),
  ).action(async (flags: { config?: string }) => {
    const { runCheckSystemCommand } = await import('../../node/checksystem.js');
    await runCheckSystemCommand(flags);
  });
  node
    .command('status')
    .description(
      "Show this node's BGP sessions as calicoctl node status does (peer address, type, state, since, info), read from its BIRD.",
    )
    .option('--name <NAME>', 'the node (default: $NODENAME)')
    .option('--bird-run-dir <DIR>', "the agent's --bird-run-dir (default /var/run/cidrpool/<NAME>)")
    .option('--bird-socket <PATH>', 'the BIRD control socket (overrides --bird-run-dir)')
    .action(async (flags: { name?: string; birdSocket?: string; birdRunDir?: string }) => {
      const name = flags.name ?? process.env.NODENAME;
      if (!name && !flags.birdSocket) {
        throw new CidrpoolError(
          'CLI_USAGE',
          'node status needs the node: give --name NAME or set NODENAME (or give --bird-socket)',
        );
      }
      const { readNodeStatus } = await import('../../node/status.js');
      let peers;
      try {
        peers = await readNodeStatus({ ...flags, name: name ?? '' });
      } catch (err) {
        if (err instanceof CidrpoolError && err.code === 'BGP_BIRD_UNAVAILABLE') {
          throw new CidrpoolError(
            'BGP_BIRD_UNAVAILABLE',
            `Calico process is not running.\n${err.message}`,
            { cause: err },
          );
        }
        throw err;
      }
      writeOut(renderNodeStatus(peers));
    });
}
