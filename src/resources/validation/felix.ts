// Field rules of FelixConfiguration (Calico's api/pkg/apis/projectcalico/v3 felixconfig.go
// `validate` tags) for the fields cidrpool knows; types, enums and ranges are the schema's.
import type { FieldIssue } from '../../errors/index.js';
import type { FelixConfiguration } from '../types.js';
import { checkIp, checkIpOrCidr } from './address-checks.js';
import { checkDuration, checkLogSeverity } from './bgp.js';

/** Linux interface names, with `+` as iptables' wildcard (Calico's `ifaceFilter`). */
const IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;

/** numorstring.Port: a port number, or `min:max` with min <= max. */
function checkPortRange(path: string, value: unknown): FieldIssue[] {
  if (value === undefined || value === null || value === '') return [];
  const hint = 'a port (e.g. 32768) or a range "min:max" (e.g. "40000:40100") within 1-65535';
  const text = String(value);
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(text);
  const [min, max] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
  const ok = typeof value !== 'boolean' && min >= 1 && max <= 65535 && min <= max;
  return ok ? [] : [{ path, value, message: 'must be a port or a port range', hint }];
}

function checkRegexp(path: string, text: string | undefined): FieldIssue[] {
  if (text === undefined || text === '') return [];
  try {
    new RegExp(text);
    return [];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return [{ path, value: text, message: `must be a regular expression: ${reason}` }];
  }
}

/** Every problem of a FelixConfiguration's spec beyond its schema. */
export function validateFelixConfigurationSpec(config: FelixConfiguration): FieldIssue[] {
  const spec = config.spec ?? {};
  const issues: FieldIssue[] = [];
  for (const field of ['logSeverityScreen', 'logSeverityFile', 'logSeveritySys'] as const) {
    issues.push(...checkLogSeverity(`spec.${field}`, spec[field]));
  }
  issues.push(...checkDuration('spec.reportingInterval', spec.reportingInterval));
  issues.push(...checkDuration('spec.routeRefreshInterval', spec.routeRefreshInterval));
  issues.push(...checkRegexp('spec.mtuIfacePattern', spec.mtuIfacePattern));
  issues.push(...checkIp('spec.natOutgoingAddress', spec.natOutgoingAddress, 4));
  issues.push(...checkPortRange('spec.natPortRange', spec.natPortRange));
  issues.push(...checkIp('spec.deviceRouteSourceAddress', spec.deviceRouteSourceAddress, 4));
  issues.push(
    ...checkIp('spec.deviceRouteSourceAddressIPv6', spec.deviceRouteSourceAddressIPv6, 6),
  );
  (spec.externalNodesList ?? []).forEach((cidr, i) =>
    issues.push(...checkIpOrCidr(`spec.externalNodesList[${i}]`, cidr)),
  );
  const filter = spec.iptablesNATOutgoingInterfaceFilter;
  if (filter !== undefined && filter !== '' && !IFACE_FILTER.test(filter)) {
    issues.push({
      path: 'spec.iptablesNATOutgoingInterfaceFilter',
      value: filter,
      message: 'must be an interface name of at most 15 characters, "+" as a wildcard',
      hint: 'e.g. "eth0" or "eth+"',
    });
  }
  return issues;
}
