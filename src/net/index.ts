// Public surface of src/net. CONTRACT: other modules import only from here.
// Implementations live in sibling files (address.ts, cidr.ts, blocks.ts, set.ts) and are re-exported.
export type { IpFamily, IpAddress, Cidr } from './types.js';
import type { Cidr, IpAddress, IpFamily } from './types.js';

const todo = (): never => {
  throw new Error('src/net: not implemented yet');
};

/** 32 for IPv4, 128 for IPv6. */
export const bitsOf = (family: IpFamily): 32 | 128 => (family === 4 ? 32 : 128);
/** Parse an IPv4 dotted quad or an IPv6 address (with :: and embedded IPv4). Throws NET_INVALID_IP. */
export const parseIp = (_text: string): IpAddress => todo();
export const tryParseIp = (_text: string): IpAddress | undefined => todo();
/** Dotted quad, or RFC 5952 for IPv6 (lower case, longest zero run as ::, no leading zeros). */
export const formatIp = (_ip: IpAddress): string => todo();
/** Parse `addr/len`; rejects host bits (NET_HOST_BITS, hint names the masked network); NET_INVALID_CIDR otherwise. */
export const parseCidr = (_text: string): Cidr => todo();
export const tryParseCidr = (_text: string): Cidr | undefined => todo();
/** Like parseCidr but masks host bits and accepts a bare address as /32 or /128 (IPReservation semantics). */
export const parseCidrMasked = (_text: string): Cidr => todo();
export const formatCidr = (_cidr: Cidr): string => todo();
/** Number of addresses in the network. */
export const cidrSize = (_cidr: Cidr): bigint => todo();
/** The last address (as an integer) of the network. */
export const cidrLast = (_cidr: Cidr): bigint => todo();
export const cidrContainsIp = (_cidr: Cidr, _ip: IpAddress): boolean => todo();
export const cidrContainsCidr = (_outer: Cidr, _inner: Cidr): boolean => todo();
/** Either contains the other's base address (same family only). */
export const cidrsOverlap = (_a: Cidr, _b: Cidr): boolean => todo();
/** The network of `ip` at `prefix`, e.g. the block that holds an address. */
export const networkOf = (_ip: IpAddress, _prefix: number): Cidr => todo();
/** Total order: family, then base, then prefix. */
export const compareCidrs = (_a: Cidr, _b: Cidr): number => todo();
/** The address `ordinal` places into the network. Throws NET_OUT_OF_RANGE. */
export const addressAt = (_cidr: Cidr, _ordinal: number | bigint): IpAddress => todo();
/** How far `ip` lies into the network (0 = base). Throws NET_OUT_OF_RANGE when outside. */
export const ordinalOf = (_cidr: Cidr, _ip: IpAddress): number => todo();
/** Number of blocks of length `blockPrefix` in `pool`. */
export const blockCount = (_pool: Cidr, _blockPrefix: number): bigint => todo();
/** Block number `index` of `pool`. */
export const blockAt = (_pool: Cidr, _blockPrefix: number, _index: bigint): Cidr => todo();
/** Index of `block` within `pool`. */
export const blockIndexOf = (_pool: Cidr, _block: Cidr): bigint => todo();
/** Lazily: blocks start, start+1, ..., last, 0, ..., start-1, each once. Never materialises the list. */
export const blocksOf = (_pool: Cidr, _blockPrefix: number, _start?: bigint): Iterable<Cidr> =>
  todo();
/** `cidr` cut into `parts` equal consecutive networks (parts a power of two >= 2). */
export const splitCidr = (_cidr: Cidr, _parts: number): Cidr[] => todo();
/** Number of addresses of `cidr` not covered by any of `others` (they may overlap or nest). */
export const sizeMinus = (_cidr: Cidr, _others: readonly Cidr[]): bigint => todo();
/** True when `others` together cover every address of `cidr`. */
export const coveredBy = (_cidr: Cidr, _others: readonly Cidr[]): boolean => todo();
