/** IP address family. */
export type IpFamily = 4 | 6;

/** An IPv4 or IPv6 address as an unsigned integer (bigint throughout: IPv6 needs 128 bits). */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A network: base address (host bits zero) and prefix length. */
export interface Cidr {
  readonly family: IpFamily;
  readonly base: bigint;
  readonly prefix: number;
}
