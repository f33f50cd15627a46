// Kernel tests run only inside a network namespace this test run made itself
// (scripts/run-tests.mjs re-runs mocha under `unshare -n`), never the host's.
// Everything that touches the kernel is declared with describeKernel, so a
// run without that namespace skips it loudly, and CI (which must run them)
// sees the skip and fails.

import { existsSync, readlinkSync } from 'node:fs';

export interface KernelAvailability {
  ok: boolean;
  reason: string;
}

let cached: KernelAvailability | undefined;

export function kernelAvailability(): KernelAvailability {
  if (cached) return cached;
  cached = probe();
  return cached;
}

function probe(): KernelAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root (kernel tests need root or CAP_NET_ADMIN)' };
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: '/dev/net/tun is missing' };
  if (process.env.TUN_LIFECYCLE_NETNS !== '1') {
    return { ok: false, reason: 'not inside the private namespace made by scripts/run-tests.mjs (run `npm test`)' };
  }
  const own = readlinkSync('/proc/self/ns/net');
  // The runner records the namespace it started in; init's is a second witness where readable.
  const witnesses = [process.env.TUN_LIFECYCLE_HOST_NETNS, readOptional('/proc/1/ns/net')].filter(Boolean);
  if (witnesses.length === 0) return { ok: false, reason: 'the host network namespace is unknown (run through scripts/run-tests.mjs)' };
  if (witnesses.includes(own)) return { ok: false, reason: 'this is the host network namespace; refusing to touch it' };
  return { ok: true, reason: `private network namespace ${own}` };
}

function readOptional(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

let warned = false;

function warnOnce(reason: string): void {
  if (warned) return;
  warned = true;
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n!! KERNEL TESTS SKIPPED: ${reason}\n!! They create real TUN devices; run \`npm test\` as root (it makes its own namespace).\n${bar}\n\n`);
}

/** describe() for tests that touch the kernel: skipped (loudly) unless it is safe and possible to run them. */
export function describeKernel(title: string, fn: (this: Mocha.Suite) => void): Mocha.Suite {
  return describe(`[kernel] ${title}`, function (this: Mocha.Suite) {
    const availability = kernelAvailability();
    if (!availability.ok) {
      before(function () {
        warnOnce(availability.reason);
        this.skip();
      });
    }
    fn.call(this);
  });
}
