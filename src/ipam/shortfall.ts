// Calico's PartialFulfillmentError text, alone in a module so that the CNI plugin's agent path
// can print it without loading the engine.
import type { FamilyAssignment } from './types.js';

/**
 * Calico's PartialFulfillmentError text: "Assigned X out of N requested IPvV addresses; <msgs>",
 * then "; HostReservedAttr: <handle>" when the request reserved ordinals (Windows).
 * Returns undefined when the assignment is complete.
 */
export function shortfallMessage(assignment: FamilyAssignment): string | undefined {
  if (assignment.ips.length >= assignment.numRequested) return undefined;
  const base = `Assigned ${assignment.ips.length} out of ${assignment.numRequested} requested IPv${assignment.family} addresses`;
  const reserved =
    assignment.hostReservedHandle !== undefined
      ? [`HostReservedAttr: ${assignment.hostReservedHandle}`]
      : [];
  return [base, ...assignment.messages, ...reserved].join('; ');
}
