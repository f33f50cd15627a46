// The metric the kernel gives a route: both the simulated kernel (adding one)
// and verification (reading one back) need the same answer.

/** IPv6 routes added with metric 0 get the kernel's default 1024. */
export function effectiveMetric(family: 4 | 6, metric: number): number {
  return family === 6 && metric === 0 ? 1024 : metric;
}
