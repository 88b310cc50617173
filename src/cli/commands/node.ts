// `cidrpool node ...`: the node agent's commands. The agent is its own entry room (src/node); the
// command line only parses the flags and hands over, loading the agent's code when it is used.
import { type Command, Option } from 'commander';
import { addDatastoreOptions } from '../options.js';

/** Register `node run` and `node checksystem`. */
export function addNodeCommand(program: Command): void {
  const node = program.command('node').description('Run and inspect the cidrpool node agent.');
  addDatastoreOptions(
    node
      .command('run')
      .description(
        'Run the node agent in the foreground: register the Node, then keep its routes, VXLAN device, NAT rules and tunnel addresses in step with the datastore until SIGTERM.',
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
      .option(
        '--vxlan-vni <VNI>',
        'VNI of vxlan.calico and vxlan-v6.calico (FelixConfiguration vxlanVNI)',
        '4096',
      )
      .option('--vxlan-port <PORT>', 'UDP port of the VXLAN devices (vxlanPort)', '4789')
      .option('--vxlan-mtu <MTU>', 'MTU of vxlan.calico; 0 = host MTU - 50 (vxlanMTU)', '0')
      .option('--vxlan-mtu-v6 <MTU>', 'MTU of vxlan-v6.calico; 0 = host MTU - 70 (vxlanMTUV6)', '0')
      .option('--ipip-mtu <MTU>', 'MTU of tunl0; 0 = host MTU - 20 (ipipMTU)', '0')
      .option(
        '--route-refresh-interval <SECONDS>',
        'period of the full resync of routes, devices and FDB with the kernel (routeRefreshInterval)',
        '90',
      )
      .addOption(
        new Option('--log-level <LEVEL>', 'the agent log level on stderr')
          .choices(['debug', 'info', 'warning', 'error'])
          .default('info'),
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
}
