// `cidrpool node ...`: the node agent's commands. The agent is its own entry room (src/node); the
// command line only parses the flags and hands over, loading the agent's code when it is used.
import { type Command, Option } from 'commander';
import { addDatastoreOptions } from '../options.js';

/** Register `node run`. */
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
      ),
  ).action(async (flags: { name: string }) => {
    const { runNodeCommand } = await import('../../node/run.js');
    await runNodeCommand(flags);
  });
}
