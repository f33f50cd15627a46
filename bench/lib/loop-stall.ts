// How long the event loop was blocked while some work ran: the longest gap a
// 1 ms timer histogram saw. The design promises that the kernel conversations
// never block the loop; a synchronous close() of a TUN whose last fd makes the
// kernel unregister the device (~15 ms) would show up here.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 1;

/**
 * `workUs` is the work's own time, start to resolution: timing across the
 * closing wait and subtracting 2 ms instead would add the timer's 0–1 ms of
 * slack (setTimeout(2) fires at the loop's next tick past 2 ms), about
 * 0.4 ms at the median of a create.
 */
export async function measureStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number; workUs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  try {
    const t0 = performance.now();
    const result = await work();
    const workUs = (performance.now() - t0) * 1000;
    // Let the histogram's timer fire once more, so a block at the very end is counted.
    await new Promise((resolve) => setTimeout(resolve, 2));
    // The histogram records the whole gap between its 1 ms ticks: the block is what exceeds the tick.
    return { result, stallMs: Math.max(0, histogram.max / 1e6 - RESOLUTION_MS), workUs };
  } finally {
    histogram.disable();
  }
}
