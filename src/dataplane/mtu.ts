// The host MTU Felix derives its tunnel MTUs from (int_dataplane.go `findHostMTU`, §1.4): the
// smallest MTU among oper-up interfaces whose name matches `mtuIfacePattern`; 1460 if none does.

/** Felix's default `mtuIfacePattern`. */
export const DEFAULT_MTU_IFACE_PATTERN = /^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)/;

/** Felix's fallback when no interface matches. */
export const FALLBACK_HOST_MTU = 1460;

/** An interface as the MTU rule sees it. */
export interface InterfaceMtu {
  readonly name: string;
  readonly mtu: number;
  readonly up: boolean;
}

/** The host MTU: the smallest MTU of the matching up interfaces, else 1460. */
export function hostMtu(
  interfaces: readonly InterfaceMtu[],
  pattern: RegExp = DEFAULT_MTU_IFACE_PATTERN,
): number {
  const mtus = interfaces.filter((i) => i.up && pattern.test(i.name)).map((i) => i.mtu);
  return mtus.length > 0 ? Math.min(...mtus) : FALLBACK_HOST_MTU;
}
