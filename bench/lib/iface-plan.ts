// What interface number i gets in the lifecycle benches — the same plan as
// bench/c/netlink_bringup.c, so every implementation does identical work.
export const PLAN_MTU = 1400;

export function planAddress(i: number): string {
  return `10.${100 + (i >> 8)}.${i & 255}.1/24`;
}

export function planRoute(i: number): string {
  return `172.${16 + (i >> 8)}.${i & 255}.0/24`;
}
