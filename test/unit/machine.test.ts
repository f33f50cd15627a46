// Pure transitions of the lifecycle statechart: no actor runs, each step is
// xstate's transition() on a snapshot, exactly as the model-based tests walk it.

import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot } from 'xstate';
import { tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import {
  CleanupFailedError, CleanupTimeoutError, ConfigurationFailedError, InterfaceFaultError, TunError,
} from '../../src/errors.js';
import { PERMANENT_ERRNOS, TRANSIENT_ERRNOS, backoffDelay } from '../../machines/retry-policy.js';

const machine = tunLifecycleMachine;
type Snapshot = ReturnType<typeof initialTransition<typeof machine>>[0];

const kernelError = (code: string) => new TunSystemError({ code, syscall: 'ioctl(TUNSETIFF)', interfaceName: 'tun0' });
const done = (id: string, output?: unknown) => ({ type: `xstate.done.actor.${id}`, output }) as any;
const failed = (id: string, error: unknown) => ({ type: `xstate.error.actor.${id}`, error }) as any;
const after = (delay: string, stateId: string) => ({ type: `xstate.after.${delay}.${stateId}` }) as any;

function start(policy: Record<string, number> = {}): Snapshot {
  const [initial] = initialTransition(machine, { policy, interfaceName: 'tun0' });
  return step(initial, { type: 'START' });
}

function step(snapshot: Snapshot, event: any): Snapshot {
  return transition(machine, snapshot, event)[0];
}

function steps(snapshot: Snapshot, ...events: any[]): Snapshot {
  return events.reduce((s: Snapshot, e) => step(s, e), snapshot);
}

const readyWith = (policy: Record<string, number> = {}) => step(start(policy), done('create', { name: 'tun0', ifindex: 7 }));

describe('tunLifecycle machine: pure transitions', () => {
  it('starts uninitialized and goes to initializing.attempt on START, counting the attempt', () => {
    const [initial] = initialTransition(machine, {});
    expect(initial.value).to.equal('uninitialized');
    const s = step(initial, { type: 'START' });
    expect(s.value).to.deep.equal({ initializing: 'attempt' });
    expect(s.context.attempt).to.equal(1);
    expect(s.context.counters.attempts).to.equal(1);
  });

  it('invokes the create actor under the stable id "create" while attempting', () => {
    const s = start();
    expect(Object.keys(s.children)).to.deep.equal(['create']);
  });

  it('create done → ready, remembering the kernel name and ifindex', () => {
    const s = readyWith();
    expect(s.value).to.equal('ready');
    expect(s.context.ifindex).to.equal(7);
    expect(s.context.interfaceName).to.equal('tun0');
    expect(Object.keys(s.children)).to.deep.equal(['linkMonitor']);
  });

  it('a transient errno goes to backoff and keeps the raw kernel error', () => {
    const error = kernelError('EBUSY');
    const s = step(start(), failed('create', error));
    expect(s.value).to.deep.equal({ initializing: 'backoff' });
    expect(s.context.lastError).to.equal(error);
    const again = step(s, after('retryBackoff', 'tunLifecycle.initializing.backoff'));
    expect(again.value).to.deep.equal({ initializing: 'attempt' });
    expect(again.context.attempt).to.equal(2);
    expect(again.context.counters.retries).to.equal(1);
  });

  for (const code of TRANSIENT_ERRNOS) {
    it(`retries transient ${code}`, () => {
      const s = step(start(), failed('create', kernelError(code === 'EWOULDBLOCK' ? 'EAGAIN' : code)));
      expect(s.value).to.deep.equal({ initializing: 'backoff' });
    });
  }

  for (const code of PERMANENT_ERRNOS) {
    it(`fails at once on permanent ${code} with ConfigurationFailedError carrying it`, () => {
      const error = kernelError(code);
      const s = step(start(), failed('create', error));
      expect(s.value).to.deep.equal({ error: 'halted' });
      const last = s.context.lastError as ConfigurationFailedError;
      expect(last).to.be.instanceOf(ConfigurationFailedError).and.instanceOf(TunError);
      expect(last.code).to.equal('ERR_CONFIGURATION_FAILED');
      expect(last.cause).to.equal(error);
      expect(last.state).to.equal('initializing');
      expect(last.attempts).to.equal(1);
      expect(s.context.errorFrom).to.equal('initializing');
    });
  }

  it('treats an error without an errno code (a bug, an argument error) as permanent', () => {
    const s = step(start(), failed('create', new TypeError('bad')));
    expect(s.value).to.deep.equal({ error: 'halted' });
  });

  it('gives up after retryAttempts retries (retryAttempts + 1 attempts in all)', () => {
    let s = start({ retryAttempts: 2 });
    const backoff = after('retryBackoff', 'tunLifecycle.initializing.backoff');
    s = steps(s, failed('create', kernelError('EAGAIN')), backoff, failed('create', kernelError('EAGAIN')), backoff);
    expect(s.value).to.deep.equal({ initializing: 'attempt' });
    expect(s.context.attempt).to.equal(3);
    s = step(s, failed('create', kernelError('EAGAIN')));
    expect(s.value).to.deep.equal({ error: 'halted' });
    expect((s.context.lastError as ConfigurationFailedError).attempts).to.equal(3);
    expect(s.context.counters.retries).to.equal(2);
  });

  it('retryAttempts 0 means a transient error fails at once', () => {
    const s = step(start({ retryAttempts: 0 }), failed('create', kernelError('EBUSY')));
    expect(s.value).to.deep.equal({ error: 'halted' });
  });

  it('cleanup() during an attempt waits for it: stays attempting, then cleans up whatever the attempt did', () => {
    let s = step(start(), { type: 'CLEANUP' });
    expect(s.value).to.deep.equal({ initializing: 'attempt' });
    expect(s.context.cleanupRequested).to.equal(true);
    expect(Object.keys(s.children)).to.deep.equal(['create']);
    const succeeded = step(s, done('create', { name: 'tun0', ifindex: 9 }));
    expect(succeeded.value).to.deep.equal({ stopping: 'round' });
    expect(succeeded.context.ifindex).to.equal(9);
    const transient = step(s, failed('create', kernelError('EBUSY')));
    expect(transient.value, 'no retry after cleanup() was asked').to.deep.equal({ stopping: 'round' });
  });

  it('cleanup() during backoff stops retrying and goes straight to stopping', () => {
    const s = steps(start(), failed('create', kernelError('EBUSY')), { type: 'CLEANUP' });
    expect(s.value).to.deep.equal({ stopping: 'round' });
    expect(Object.keys(s.children)).to.deep.equal(['cleanup']);
  });

  it('ready: a FAULT goes to error.recovering, keeping the fault and where it happened', () => {
    const cause = kernelError('ENODEV');
    const s = step(readyWith(), { type: 'FAULT', reason: 'deleted', error: cause });
    expect(s.value).to.deep.equal({ error: { recovering: 'attempt' } });
    const last = s.context.lastError as InterfaceFaultError;
    expect(last).to.be.instanceOf(InterfaceFaultError);
    expect(last.reason).to.equal('deleted');
    expect(last.state).to.equal('ready');
    expect(last.cause).to.equal(cause);
    expect(s.context.errorFrom).to.equal('ready');
    expect(s.context.counters.faults).to.equal(1);
    expect(Object.keys(s.children)).to.deep.equal(['recover']);
  });

  it('recovery succeeds → ready (error→ready), counting it and resetting consecutive failures', () => {
    let s = step(readyWith(), { type: 'FAULT', reason: 'down' });
    expect(s.context.consecutiveFailures).to.equal(1);
    s = step(s, done('recover', { name: 'tun0', ifindex: 12 }));
    expect(s.value).to.equal('ready');
    expect(s.context.ifindex).to.equal(12);
    expect(s.context.counters.recoveries).to.equal(1);
    expect(s.context.consecutiveFailures).to.equal(0);
  });

  it('recovery retries transient errors with the same policy and stays in error when exhausted', () => {
    let s = step(readyWith({ retryAttempts: 1 }), { type: 'FAULT', reason: 'deleted' });
    s = step(s, failed('recover', kernelError('ENOBUFS')));
    expect(s.value).to.deep.equal({ error: { recovering: 'backoff' } });
    s = step(s, after('retryBackoff', 'tunLifecycle.error.recovering.backoff'));
    expect(s.value).to.deep.equal({ error: { recovering: 'attempt' } });
    s = step(s, failed('recover', kernelError('ENOBUFS')));
    expect(s.value).to.deep.equal({ error: 'halted' });
    expect(s.context.lastError).to.be.instanceOf(ConfigurationFailedError);
    expect((s.context.lastError as TunError).state).to.equal('error');
    expect(s.context.errorFrom).to.equal('error');
    // Manual recovery may be asked again; cleanup is always allowed.
    expect(s.can({ type: 'RECOVER' })).to.equal(true);
    expect(step(s, { type: 'CLEANUP' }).value).to.deep.equal({ stopping: 'round' });
  });

  it('cleanup() during a recovery attempt waits for it, then cleans up', () => {
    let s = steps(readyWith(), { type: 'FAULT', reason: 'deleted' }, { type: 'CLEANUP' });
    expect(s.value).to.deep.equal({ error: { recovering: 'attempt' } });
    s = step(s, done('recover', { name: 'tun0', ifindex: 3 }));
    expect(s.value).to.deep.equal({ stopping: 'round' });
  });

  it('ready → stopping → stopped (final)', () => {
    let s = step(readyWith(), { type: 'CLEANUP' });
    expect(s.value).to.deep.equal({ stopping: 'round' });
    expect(Object.keys(s.children)).to.deep.equal(['cleanup']);
    expect(s.context.counters.cleanups).to.equal(1);
    s = step(s, done('cleanup'));
    expect(s.value).to.equal('stopped');
    expect(s.status).to.equal('done');
  });

  it('stopping: the cleanupTimeout deadline → error with CleanupTimeoutError; only cleanup may follow', () => {
    let s = steps(readyWith({ cleanupTimeout: 1234 }), { type: 'CLEANUP' }, after('cleanupTimeout', 'tunLifecycle.stopping'));
    expect(s.value).to.deep.equal({ error: 'halted' });
    const last = s.context.lastError as CleanupTimeoutError;
    expect(last).to.be.instanceOf(CleanupTimeoutError);
    expect(last.code).to.equal('ERR_CLEANUP_TIMEOUT');
    expect(last.timeout).to.equal(1234);
    expect(last.state).to.equal('stopping');
    expect(s.context.errorFrom).to.equal('stopping');
    expect(s.can({ type: 'RECOVER' }), 'no recovery after a failed cleanup').to.equal(false);
    s = step(s, { type: 'CLEANUP' });
    expect(s.value, 'error→stopping: cleanup() from error tries again').to.deep.equal({ stopping: 'round' });
  });

  it('stopping: a cleanup actor error that is not a transient CleanupFailedError → error at once, keeping a TunError as is', () => {
    const s = steps(readyWith(), { type: 'CLEANUP' }, failed('cleanup', kernelError('EBUSY')));
    expect(s.value).to.deep.equal({ error: 'halted' });
    expect(s.context.lastError).to.be.instanceOf(TunError);
    expect((s.context.lastError as TunError).cause).to.have.property('code', 'EBUSY');
    expect(s.context.counters.cleanupRounds).to.equal(1);
  });

  describe('cleanup rounds are states: stopping.round → stopping.backoff → stopping.round', () => {
    const left = (transient: boolean) => new CleanupFailedError(['interface tun0 (ifindex 7)'], { state: 'stopping', interfaceName: 'tun0', transient });

    it('a transient failure backs off (retryDelay·2^(round-1)), then the next round; its success → stopped', () => {
      let s = step(readyWith({ retryDelay: 300 }), { type: 'CLEANUP' });
      expect(s.context.cleanupRound).to.equal(1);
      s = step(s, failed('cleanup', left(true)));
      expect(s.value).to.deep.equal({ stopping: 'backoff' });
      expect(s.context.lastError).to.be.instanceOf(CleanupFailedError);
      expect(Object.keys(s.children), 'nothing runs while backing off').to.deep.equal([]);
      s = step(s, after('cleanupBackoff', 'tunLifecycle.stopping.backoff'));
      expect(s.value).to.deep.equal({ stopping: 'round' });
      expect(s.context.cleanupRound).to.equal(2);
      expect(Object.keys(s.children)).to.deep.equal(['cleanup']);
      expect((s.children.cleanup as any).getSnapshot().input, 'the round number goes to the pass').to.deep.equal({ round: 2 });
      s = step(s, done('cleanup'));
      expect(s.value).to.equal('stopped');
      expect(s.context.counters).to.include({ cleanups: 1, cleanupRounds: 2, failures: 0 });
    });

    it('the backoff delay is the retry policy\'s for the round number', () => {
      const machineDelay = (tunLifecycleMachine.implementations.delays as any).cleanupBackoff;
      const policy = { retryAttempts: 5, retryDelay: 300, retryDelayMax: 1000, retryJitter: 0, cleanupTimeout: 10_000, alertThreshold: 3 };
      for (const round of [1, 2, 3, 4]) {
        expect(machineDelay({ context: { policy, cleanupRound: round } }), `round ${round}`).to.equal(backoffDelay(policy, round));
      }
    });

    it('rounds limit = retryAttempts + 1; then error.halted with what the last round left', () => {
      let s = step(readyWith({ retryAttempts: 2 }), { type: 'CLEANUP' });
      for (let round = 1; round <= 2; round++) {
        s = steps(s, failed('cleanup', left(true)), after('cleanupBackoff', 'tunLifecycle.stopping.backoff'));
      }
      expect(s.context.cleanupRound).to.equal(3);
      s = step(s, failed('cleanup', left(true)));
      expect(s.value).to.deep.equal({ error: 'halted' });
      expect((s.context.lastError as CleanupFailedError).leftovers).to.deep.equal(['interface tun0 (ifindex 7)']);
      expect(s.context.errorFrom).to.equal('stopping');
      expect(s.context.counters).to.include({ cleanupRounds: 3, failures: 1 });
    });

    it('a permanent failure (every error permanent) stops at once', () => {
      const s = steps(readyWith({ retryAttempts: 5 }), { type: 'CLEANUP' }, failed('cleanup', left(false)));
      expect(s.value).to.deep.equal({ error: 'halted' });
      expect(s.context.counters.cleanupRounds).to.equal(1);
    });

    it('one deadline for every round: it fires from a round or from a backoff; cleanup() from error starts a fresh round count', () => {
      let s = steps(readyWith(), { type: 'CLEANUP' }, failed('cleanup', left(true)));
      expect(s.value).to.deep.equal({ stopping: 'backoff' });
      s = step(s, after('cleanupTimeout', 'tunLifecycle.stopping'));
      expect(s.value).to.deep.equal({ error: 'halted' });
      expect(s.context.lastError).to.be.instanceOf(CleanupTimeoutError);
      // No round starts once halted: the backoff's timer went with the state.
      expect(step(s, after('cleanupBackoff', 'tunLifecycle.stopping.backoff')).value).to.deep.equal({ error: 'halted' });
      s = step(s, { type: 'CLEANUP' });
      expect(s.value).to.deep.equal({ stopping: 'round' });
      expect(s.context.cleanupRound).to.equal(1);
      expect(s.context.counters).to.include({ cleanups: 2, cleanupRounds: 2 });
    });
  });

  it('error after a failed start: RECOVER re-runs the create path as a recovery', () => {
    let s = step(start(), failed('create', kernelError('EPERM')));
    s = step(s, { type: 'RECOVER' });
    expect(s.value).to.deep.equal({ error: { recovering: 'attempt' } });
    expect(s.context.attempt).to.equal(1);
  });

  describe('invalid transitions are rejected (can() is false and the state does not move)', () => {
    const events = [{ type: 'START' }, { type: 'CLEANUP' }, { type: 'FAULT', reason: 'deleted' }, { type: 'RECOVER' }] as const;
    const states: Array<[string, () => AnyMachineSnapshot, string[]]> = [
      ['uninitialized', () => initialTransition(machine, {})[0], ['START']],
      ['initializing.attempt', () => start(), ['CLEANUP']],
      ['initializing.backoff', () => step(start(), failed('create', kernelError('EBUSY'))), ['CLEANUP']],
      ['ready', () => readyWith(), ['CLEANUP', 'FAULT']],
      ['stopping.round', () => step(readyWith(), { type: 'CLEANUP' }), []],
      ['stopping.backoff', () => steps(readyWith(), { type: 'CLEANUP' },
        failed('cleanup', new CleanupFailedError([], { state: 'stopping', transient: true }))), []],
      ['stopped', () => steps(readyWith(), { type: 'CLEANUP' }, done('cleanup')), []],
      ['error.halted (after init)', () => step(start(), failed('create', kernelError('EPERM'))), ['CLEANUP', 'RECOVER']],
      ['error.recovering.attempt', () => step(readyWith(), { type: 'FAULT', reason: 'down' }), ['CLEANUP']],
    ];
    for (const [name, make, allowed] of states) {
      for (const event of events) {
        const valid = allowed.includes(event.type);
        it(`${name}: ${event.type} is ${valid ? 'allowed' : 'rejected'}`, () => {
          const s = make() as Snapshot;
          expect(s.can(event as any)).to.equal(valid);
          if (!valid) {
            const next = step(s, event);
            expect(next.value).to.deep.equal(s.value);
          }
        });
      }
    }
  });
});

describe('retry policy', () => {
  const policy = { retryDelay: 200, retryDelayMax: 1000, retryJitter: 0 };
  it('doubles from retryDelay and caps at retryDelayMax', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n))).to.deep.equal([200, 400, 800, 1000, 1000, 1000]);
  });
  it('jitter takes off at most its share, at random', () => {
    const jittered = { ...policy, retryJitter: 0.5 };
    expect(backoffDelay(jittered, 2, () => 0)).to.equal(400);
    expect(backoffDelay(jittered, 2, () => 1)).to.equal(200);
    expect(backoffDelay(jittered, 2, () => 0.5)).to.equal(300);
  });
  it('no errno is both transient and permanent', () => {
    for (const code of TRANSIENT_ERRNOS) expect(PERMANENT_ERRNOS.has(code), code).to.equal(false);
  });
});

describe('machines/ leans on nothing above it', () => {
  it('no file under machines/ imports from src/ except src/errors.ts', () => {
    const dir = fileURLToPath(new URL('../../../machines/', import.meta.url));
    const files = readdirSync(dir).filter((file) => file.endsWith('.ts'));
    expect(files).to.include.members(['tunLifecycle.ts', 'retry-policy.ts', 'types.ts']);
    for (const file of files) {
      const imports = [...readFileSync(`${dir}${file}`, 'utf8').matchAll(/from '([^']+)'/gu)].map((m) => m[1]!);
      const fromSrc = imports.filter((path) => path.includes('/src/') || path.startsWith('../src'));
      expect(fromSrc.filter((path) => path !== '../src/errors.js'), file).to.deep.equal([]);
    }
  });
});
