// Fuzzing (fast-check): random sequences of API calls, outside changes and
// injected faults against an adapter — thousands of runs on the simulated
// binding, a shorter run on the native one in the namespace. Invariants: the
// state is always one of the six; every synchronous throw is a typed error;
// no unhandled rejection; after letting go of the faults and a final
// cleanup, the adapter is stopped (or never started) and nothing is left.
// fast-check shrinks a failing sequence and prints it.

import { expect } from 'chai';
import fc from 'fast-check';
import { describeKernel } from '../helpers/netns.js';
import { ip, ipLinks } from '../helpers/iproute.js';
import { loadNativeBinding } from '../helpers/native-binding.js';
import { InterfaceState, TunAdapter } from '../../src/index.js';
import type { TunBinding } from '../../src/index.js';
import { SimulatedBinding, withFaults } from '../../src/testing.js';
import type { BindingOp, FaultInjector } from '../../src/testing.js';
import { tunFdCount } from '../helpers/fds.js';
import { textPacket } from '../helpers/packets.js';
import { nextTurn, sleep } from '../helpers/wait.js';
import { recordResult } from './results.js';

const STATES = new Set<string>(Object.values(InterfaceState));
const FAULT_OPS: BindingOp[] = ['open', 'getLink', 'setAlias', 'setMtu', 'addAddress', 'setUp', 'addRoute', 'listAddresses', 'listRoutes', 'deleteAddress', 'deleteRoute', 'deleteLink'];
const ADDRESS = '10.246.0.1/24';

type Action =
  | { kind: 'start' } | { kind: 'cleanup' } | { kind: 'recover' } | { kind: 'write'; size: number } | { kind: 'stats' }
  | { kind: 'outside'; change: 'delete' | 'down' | 'remove-address' }
  | { kind: 'fail'; op: BindingOp; code: 'EBUSY' | 'EPERM' | 'ENOBUFS'; times: number }
  | { kind: 'hang'; op: BindingOp } | { kind: 'release' } | { kind: 'wait'; ms: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'start' } as Action) },
  { weight: 3, arbitrary: fc.constant({ kind: 'cleanup' } as Action) },
  { weight: 1, arbitrary: fc.constant({ kind: 'recover' } as Action) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1600 }).map((size) => ({ kind: 'write', size }) as Action) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stats' } as Action) },
  { weight: 2, arbitrary: fc.constantFrom('delete', 'down', 'remove-address').map((change) => ({ kind: 'outside', change }) as Action) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('fail' as const), op: fc.constantFrom(...FAULT_OPS), code: fc.constantFrom('EBUSY' as const, 'EPERM' as const, 'ENOBUFS' as const),
      times: fc.constantFrom(1, 2, Infinity),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...FAULT_OPS).map((op) => ({ kind: 'hang', op }) as Action) },
  { weight: 1, arbitrary: fc.constant({ kind: 'release' } as Action) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((ms) => ({ kind: 'wait', ms }) as Action) },
);

interface Target {
  binding: TunBinding;
  faults: FaultInjector;
  deleteLink(name: string): void;
  setDown(name: string): void;
  removeAddress(name: string, cidr: string): void;
  leftovers(name: string): string[];
}

const UDP4_HEADERS = 28;

/** What a fuzzed write sends: a valid datagram of `size` bytes where one fits, else a scrap whose version nibble varies. */
function writeInput(size: number): Buffer {
  if (size >= UDP4_HEADERS) return textPacket('x'.repeat(size - UDP4_HEADERS));
  const scrap = Buffer.alloc(size);
  if (size > 0) scrap[0] = (size % 16) << 4;
  return scrap;
}

/** Run one sequence; returns a description of the first broken invariant, or undefined. */
async function runSequence(target: Target, name: string, actions: Action[]): Promise<string | undefined> {
  const adapter = new TunAdapter(name, {
    binding: target.binding, retryAttempts: 2, retryDelay: 1, cleanupTimeout: 60, mtu: 1400, addresses: [ADDRESS], routes: ['10.247.0.0/16'],
  });
  const releases: Array<() => void> = [];
  const pending: Array<Promise<unknown>> = [];
  const keep = (promise: Promise<unknown>) => { pending.push(promise.catch(() => undefined)); };
  const outside = (fn: () => void) => { try { fn(); } catch { /* not there: as `ip` would fail */ } };
  for (const action of actions) {
    try {
      switch (action.kind) {
        case 'start': keep(adapter.start()); break;
        case 'cleanup': keep(adapter.cleanup()); break;
        case 'recover': keep(adapter.recover()); break;
        case 'stats': keep(adapter.stats()); break;
        case 'write': adapter.write(writeInput(action.size)); break;
        case 'outside':
          if (action.change === 'delete') outside(() => target.deleteLink(name));
          else if (action.change === 'down') outside(() => target.setDown(name));
          else outside(() => target.removeAddress(name, ADDRESS));
          break;
        case 'fail': target.faults.fail(action.op, action.code, action.times); break;
        case 'hang': releases.push(target.faults.hang(action.op)); break;
        case 'release': releases.shift()?.(); break;
        case 'wait': await sleep(action.ms); break;
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (!(error instanceof Error) || typeof code !== 'string') return `untyped throw from ${action.kind}: ${String(error)}`;
    }
    for (let i = 0; i < 3; i++) await nextTurn();
    if (!STATES.has(adapter.state)) return `state ${String(adapter.state)} after ${action.kind}`;
  }
  // Let go: no more faults, every hang released; then the final cleanup.
  for (const release of releases) release();
  target.faults.clear();
  for (let round = 0; round < 6 && adapter.state !== 'stopped' && adapter.state !== 'uninitialized'; round++) {
    await adapter.cleanup().catch(() => undefined);
    await sleep(5);
  }
  await Promise.all(pending);
  if (adapter.state !== 'stopped' && adapter.state !== 'uninitialized') return `final state ${adapter.state} (${adapter.lastError?.message})`;
  const left = target.leftovers(name);
  if (left.length > 0) return `left after the final cleanup: ${left.join(', ')}`;
  return undefined;
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => { unhandled.push(reason); };

function fuzz(label: string, makeTarget: () => Promise<Target>, name: string, numRuns: number, maxLength: number, section: string) {
  it(`${label}: ${numRuns} random sequences (≤ ${maxLength} actions): always one of the six states, typed errors, no unhandled rejection, nothing left`, async () => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
    let runs = 0;
    let broken = 0;
    let leaked = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength }), async (actions) => {
          runs++;
          const target = await makeTarget();
          const problem = await runSequence(target, name, actions);
          await nextTurn();
          if (problem?.startsWith('left')) leaked++;
          if (problem) broken++;
          if (problem) throw new Error(problem);
          if (unhandled.length > 0) throw new Error(`unhandled rejection: ${String(unhandled[0])}`);
        }),
        { numRuns, endOnFailure: false, verbose: 1 },
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
      recordResult(section, { tried: runs, held: runs - broken, leaks: leaked, notes: `${numRuns} runs asked, sequences of up to ${maxLength} actions (failing runs include shrinking)` });
    }
    expect(unhandled).to.deep.equal([]);
  });
}

describe('reliability: fuzzing (simulated binding)', function () {
  this.timeout(300_000);
  fuzz('simulated', async () => {
    const binding = new SimulatedBinding();
    return {
      binding,
      faults: binding.faults,
      deleteLink: (name) => binding.world.deleteLink(name),
      setDown: (name) => binding.world.setUp(name, false),
      removeAddress: (name, cidr) => binding.world.removeAddress(name, cidr),
      leftovers: () => [
        ...binding.world.links().filter((l) => l.kind !== 'loopback').map((l) => `link ${l.name}`),
        ...binding.world.openFds().map((f) => `fd on ${f.name}`),
      ],
    };
  }, 'fz0', Number(process.env.FUZZ_RUNS ?? 2000), 30, 'fuzz-simulated');
});

describeKernel('reliability: fuzzing (native binding)', function () {
  this.timeout(300_000);
  let native: TunBinding;
  before(async () => { native = await loadNativeBinding(); });
  fuzz('native', async () => {
    const binding = withFaults(native);
    return {
      binding,
      faults: binding.faults,
      deleteLink: (name) => { ip('link', 'del', name); },
      setDown: (name) => { ip('link', 'set', name, 'down'); },
      removeAddress: (name, cidr) => { ip('addr', 'del', cidr, 'dev', name); },
      leftovers: (name) => [
        ...ipLinks().filter((l) => l.ifname === name).map((l) => `link ${l.ifname}`),
        ...(tunFdCount() > 0 ? [`${tunFdCount()} tun fds`] : []),
      ],
    };
  }, 'fzn0', Number(process.env.FUZZ_NATIVE_RUNS ?? 150), 20, 'fuzz-native');
});
