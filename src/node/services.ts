// The services `cidrpool node run` starts, in this order (and stops in the reverse order).
// Each lives in its own module of src/node; add a service here to make it part of the agent.
// Metrics first (every later service reports there), then Node registration (every later
// service reads the Node it writes), the IPAM socket, the tunnel addresses (the dataplane's VTEP
// needs the node's own), then the dataplane, NAT and BGP.
import { bgpService } from './bgp.js';
import { dataplaneService } from './dataplane-service.js';
import { ipamSocketService } from './ipam-service.js';
import { metricsService } from './metrics-service.js';
import { natService } from './nat-service.js';
import { nodeRegistrationService } from './registration.js';
import { tunnelAddressService } from './tunnel-addresses.js';
import type { AgentService } from './types.js';

export const AGENT_SERVICES: readonly AgentService[] = [
  metricsService,
  nodeRegistrationService,
  ipamSocketService,
  tunnelAddressService,
  dataplaneService,
  natService,
  bgpService,
];
