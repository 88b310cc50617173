// The services `cidrpool node run` starts, in this order (and stops in the reverse order).
// Each lives in its own module of src/node; add a service here to make it part of the agent.
import { ipamSocketService } from './ipam-service.js';
import { metricsService } from './metrics-service.js';
import type { AgentService } from './types.js';

export const AGENT_SERVICES: readonly AgentService[] = [metricsService, ipamSocketService];
