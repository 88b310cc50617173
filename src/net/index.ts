// Public surface of src/net. CONTRACT: other modules import only from here.
// Implementations live in sibling files and are re-exported; everything is pure and uses bigint.
export type { IpFamily, IpAddress, Cidr } from './types.js';
export { bitsOf, formatIp, isIpv4Mapped, maxAddressOf, parseIp, tryParseIp } from './address.js';
export {
  addressAt,
  assertPrefix,
  assertSameFamily,
  cidrContainsCidr,
  cidrContainsIp,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  compareCidrs,
  formatCidr,
  isValidPrefix,
  networkOf,
  offsetOf,
  ordinalOf,
  parseCidr,
  parseCidrMasked,
  tryParseCidr,
} from './cidr.js';
export { blockAt, blockCount, blockIndexOf, blocksOf, splitCidr } from './blocks.js';
export { coveredBy, coveredRanges, sizeMinus, type AddressRange } from './cidr-set.js';
