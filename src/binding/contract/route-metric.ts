// The metric the kernel gives a route: both the simulated kernel (adding one)
// and verification (reading one back) need the same answer.

/** IPv6 routes added with metric 0 get the kernel's default 1024. */
export function effectiveMetric(family: 4 | 6, metric: number): number {
  return family === 6 && metric === 0 ? 1024 : metric;
}

/** What tells one route of a link from another: its destination and the metric the kernel holds. */
export function routeKey(destination: string, metric: number): string {
  return `${destination}@${metric}`;
}

/** The key a desired route will have once the kernel holds it (IPv6 metric 0 read back as 1024). */
export function desiredRouteKey(route: { family: 4 | 6; destination: { cidr: string }; metric: number }): string {
  return routeKey(route.destination.cidr, effectiveMetric(route.family, route.metric));
}
