// Fault injection for the simulated binding: make the "kernel" answer an
// errno, stall until a test lets go, or answer late — per operation — and
// count how many calls reached it. Calls that fail argument validation never
// get here, so `calls()` staying at zero proves nothing touched the kernel.

import { TunSystemError, errnoOf } from '../contract/system-error.js';
import { OPERATIONS, isBindingOp, syscallOf, type BindingOp } from '../contract/operations.js';

export type { BindingOp } from '../contract/operations.js';

interface FailRule {
  code: string;
  remaining: number;
}

interface Gate {
  released: boolean;
  wake: (() => void) | undefined;
}

// Bookkeeping (openFdCount) is not in the table, so it is neither counted nor faultable.
function checkOp(op: unknown, allowSync: boolean): BindingOp {
  if (!isBindingOp(op)) throw new TypeError(`faults: unknown binding operation ${JSON.stringify(op)}`);
  if (!allowSync && OPERATIONS[op].sync) {
    throw new TypeError(`faults: ${op} is synchronous; only fail() applies to it`);
  }
  return op;
}

export class FaultInjector {
  readonly #fails = new Map<BindingOp, FailRule>();
  readonly #hangs = new Map<BindingOp, Gate[]>();
  /** gates a call is waiting on right now, so clear() can let it go */
  readonly #holding = new Map<BindingOp, Set<Gate>>();
  readonly #delays = new Map<BindingOp, number[]>();
  readonly #calls = new Map<BindingOp, number>();

  /**
   * The next `times` calls of `op` reject with TunSystemError(code) instead of
   * reaching the simulated kernel. `times = Infinity` fails until clear().
   */
  fail(op: BindingOp, code: string, times = 1): void {
    const checked = checkOp(op, true);
    errnoOf(code); // refuses names that are not errnos, so a typo fails loudly here
    if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) {
      throw new RangeError(`faults.fail: times must be a positive integer or Infinity, got ${times}`);
    }
    this.#fails.set(checked, { code, remaining: times });
  }

  /**
   * The next call of `op` waits until the returned release() runs, then goes
   * on normally. release() may come before the call does; it is idempotent.
   */
  hang(op: BindingOp): () => void {
    const checked = checkOp(op, false);
    const gate: Gate = { released: false, wake: undefined };
    const gates = this.#hangs.get(checked) ?? [];
    gates.push(gate);
    this.#hangs.set(checked, gates);
    return () => {
      if (gate.released) return;
      gate.released = true;
      gate.wake?.();
    };
  }

  /** The next call of `op` answers `ms` later (setTimeout, so fake timers drive it). */
  delay(op: BindingOp, ms: number): void {
    const checked = checkOp(op, false);
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`faults.delay: ms must be a finite number >= 0, got ${ms}`);
    const delays = this.#delays.get(checked) ?? [];
    delays.push(ms);
    this.#delays.set(checked, delays);
  }

  /** Forget pending fail/hang/delay rules (of one op, or all). Pending hangs are released. Counts stay. */
  clear(op?: BindingOp): void {
    const ops = op === undefined
      ? [...new Set([...this.#fails.keys(), ...this.#hangs.keys(), ...this.#holding.keys(), ...this.#delays.keys()])]
      : [checkOp(op, true)];
    for (const each of ops) {
      this.#fails.delete(each);
      for (const gate of [...(this.#hangs.get(each) ?? []), ...(this.#holding.get(each) ?? [])]) {
        gate.released = true;
        gate.wake?.();
      }
      this.#hangs.delete(each);
      this.#holding.delete(each);
      this.#delays.delete(each);
    }
  }

  /** Calls that passed validation and reached the simulated kernel: of one op, or of all together. */
  calls(op?: BindingOp): number {
    if (op !== undefined) return this.#calls.get(checkOp(op, true)) ?? 0;
    let total = 0;
    for (const count of this.#calls.values()) total += count;
    return total;
  }

  /** Per-op call counts, for a readable assertion message. */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.#calls);
  }

  resetCalls(): void {
    this.#calls.clear();
  }

  /** For async ops: count the call, then apply hang, delay and fail rules in that order. */
  async enter(op: BindingOp, interfaceName?: string): Promise<void> {
    this.#count(op);
    const gate = this.#hangs.get(op)?.shift();
    if (gate && !gate.released) {
      const holding = this.#holding.get(op) ?? new Set<Gate>();
      holding.add(gate);
      this.#holding.set(op, holding);
      await new Promise<void>((resolve) => { gate.wake = resolve; });
      holding.delete(gate);
    }
    const ms = this.#delays.get(op)?.shift();
    if (ms !== undefined) await new Promise<void>((resolve) => setTimeout(resolve, ms));
    this.#maybeFail(op, interfaceName);
  }

  /** For sync ops: count the call and apply a fail rule. */
  enterSync(op: BindingOp, interfaceName?: string): void {
    this.#count(op);
    this.#maybeFail(op, interfaceName);
  }

  #count(op: BindingOp): void {
    this.#calls.set(op, (this.#calls.get(op) ?? 0) + 1);
  }

  #maybeFail(op: BindingOp, interfaceName: string | undefined): void {
    const rule = this.#fails.get(op);
    if (!rule) return;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.#fails.delete(op);
    throw new TunSystemError({
      code: rule.code,
      syscall: syscallOf(op),
      extack: 'injected by SimulatedBinding.faults',
      ...(interfaceName === undefined ? {} : { interfaceName }),
    });
  }
}
