// The statechart running as an actor on xstate's SimulatedClock, with stub
// actors whose outcomes the test controls: exact backoff delays, the cleanup
// deadline at exactly cleanupTimeout, alerts on consecutive failures.

import { expect } from 'chai';
import { SimulatedClock, createActor, fromCallback, fromPromise } from 'xstate';
import { systemActors, tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import type { AlertEvent, AttemptInput, CleanupInput, CreateOutput, TunLifecycleEvent } from '../../machines/types.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { CleanupFailedError, CleanupTimeoutError, ConfigurationFailedError } from '../../src/errors.js';

const kernelError = (code: string) => new TunSystemError({ code, syscall: 'RTM_NEWLINK' });
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Deferred<T> { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void }
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Create outcomes scripted per attempt: an errno name fails, 'ok' succeeds. */
function harness(script: string[], policy: Record<string, number> = {}) {
  const clock = new SimulatedClock();
  const attempts: Array<{ attempt: number; at: number }> = [];
  const cleanupRuns: Array<Deferred<void>> = [];
  const cleanupPasses: Array<{ round: number; at: number }> = [];
  const monitorStops: number[] = [];
  let sendFault: ((event: TunLifecycleEvent) => void) | undefined;
  const machine = tunLifecycleMachine.provide({
    actors: {
      create: fromPromise<CreateOutput, AttemptInput>(async ({ input }) => {
        attempts.push({ attempt: input.attempt, at: clock.now() });
        const outcome = script[input.attempt - 1] ?? script[script.length - 1]!;
        if (outcome !== 'ok') throw kernelError(outcome);
        return { name: 'tun0', ifindex: 5 };
      }),
      recover: fromPromise<CreateOutput, AttemptInput>(async () => ({ name: 'tun0', ifindex: 6 })),
      cleanup: fromPromise<void, CleanupInput>(({ input }) => {
        cleanupPasses.push({ round: input.round, at: clock.now() });
        const run = deferred<void>();
        cleanupRuns.push(run);
        return run.promise;
      }),
      linkMonitor: fromCallback<TunLifecycleEvent, void>(({ sendBack }) => {
        sendFault = sendBack;
        return () => { monitorStops.push(clock.now()); };
      }),
    },
  });
  const actor = createActor(machine, { clock, input: { policy, interfaceName: 'tun0' } });
  const alerts: AlertEvent[] = [];
  actor.on('alert', (event) => alerts.push(event));
  actor.start();
  return { clock, actor, attempts, cleanupRuns, cleanupPasses, alerts, monitorStops, fault: (e: TunLifecycleEvent) => sendFault!(e) };
}

describe('tunLifecycle machine on a SimulatedClock', () => {
  it('waits exactly retryDelay·2^(n-1) between attempts', async () => {
    const h = harness(['EBUSY', 'EBUSY', 'EBUSY', 'ok'], { retryDelay: 200 });
    h.actor.send({ type: 'START' });
    await settle();
    expect(h.actor.getSnapshot().value).to.deep.equal({ initializing: 'backoff' });
    for (const wait of [200, 400, 800]) {
      h.clock.increment(wait - 1);
      await settle();
      expect(h.actor.getSnapshot().value, `still waiting at ${wait - 1} ms`).to.deep.equal({ initializing: 'backoff' });
      h.clock.increment(1);
      await settle();
    }
    expect(h.actor.getSnapshot().value).to.equal('ready');
    expect(h.attempts).to.deep.equal([
      { attempt: 1, at: 0 }, { attempt: 2, at: 200 }, { attempt: 3, at: 600 }, { attempt: 4, at: 1400 },
    ]);
    expect(h.actor.getSnapshot().context.counters.retries).to.equal(3);
  });

  it('caps the backoff at retryDelayMax', async () => {
    const h = harness(['EAGAIN'], { retryDelay: 100, retryDelayMax: 250, retryAttempts: 4 });
    h.actor.send({ type: 'START' });
    await settle();
    for (const wait of [100, 200, 250, 250]) {
      h.clock.increment(wait - 1);
      await settle();
      expect(h.actor.getSnapshot().value).to.deep.equal({ initializing: 'backoff' });
      h.clock.increment(1);
      await settle();
    }
    expect(h.attempts.map((a) => a.at)).to.deep.equal([0, 100, 300, 550, 800]);
    expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
    const error = h.actor.getSnapshot().context.lastError as ConfigurationFailedError;
    expect(error).to.be.instanceOf(ConfigurationFailedError);
    expect(error.attempts).to.equal(5);
    expect((error.cause as TunSystemError).code).to.equal('EAGAIN');
  });

  it('fails at once on a permanent errno: one attempt, no timer left', async () => {
    const h = harness(['EPERM']);
    h.actor.send({ type: 'START' });
    await settle();
    expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
    h.clock.increment(60_000);
    await settle();
    expect(h.attempts).to.have.length(1);
  });

  it('times out cleanup at exactly cleanupTimeout, and cleanup() from error runs it again', async () => {
    const h = harness(['ok'], { cleanupTimeout: 10_000 });
    h.actor.send({ type: 'START' });
    await settle();
    h.actor.send({ type: 'CLEANUP' });
    await settle();
    expect(h.cleanupRuns).to.have.length(1);
    h.clock.increment(9_999);
    await settle();
    expect(h.actor.getSnapshot().value).to.deep.equal({ stopping: 'round' });
    h.clock.increment(1);
    await settle();
    expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
    expect(h.actor.getSnapshot().context.lastError).to.be.instanceOf(CleanupTimeoutError);
    // The first run finishing late changes nothing in the machine (it left stopping).
    h.cleanupRuns[0]!.resolve();
    await settle();
    expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
    h.actor.send({ type: 'CLEANUP' });
    await settle();
    expect(h.cleanupRuns).to.have.length(2);
    h.cleanupRuns[1]!.resolve();
    await settle();
    expect(h.actor.getSnapshot().value).to.equal('stopped');
    expect(h.actor.getSnapshot().status).to.equal('done');
  });

  it('a cleanup that finishes before the deadline cancels the timer', async () => {
    const h = harness(['ok'], { cleanupTimeout: 50 });
    h.actor.send({ type: 'START' });
    await settle();
    h.actor.send({ type: 'CLEANUP' });
    h.clock.increment(49);
    h.cleanupRuns[0]!.resolve();
    await settle();
    h.clock.increment(100);
    await settle();
    expect(h.actor.getSnapshot().value).to.equal('stopped');
  });

  describe('cleanup rounds', () => {
    const left = (transient: boolean) => new CleanupFailedError(['route 10.0.0.0/8'], { state: 'stopping', transient });

    async function stopping(policy: Record<string, number>) {
      const h = harness(['ok'], policy);
      h.actor.send({ type: 'START' });
      await settle();
      h.actor.send({ type: 'CLEANUP' });
      await settle();
      return h;
    }

    it('a transient round backs off retryDelay·2^(round-1), then the next pass runs with its round number', async () => {
      const h = await stopping({ retryDelay: 200, cleanupTimeout: 60_000 });
      for (const wait of [200, 400]) {
        h.cleanupRuns.at(-1)!.reject(left(true));
        await settle();
        expect(h.actor.getSnapshot().value).to.deep.equal({ stopping: 'backoff' });
        h.clock.increment(wait - 1);
        await settle();
        expect(h.actor.getSnapshot().value, `still backing off at ${wait - 1} ms`).to.deep.equal({ stopping: 'backoff' });
        h.clock.increment(1);
        await settle();
        expect(h.actor.getSnapshot().value).to.deep.equal({ stopping: 'round' });
      }
      h.cleanupRuns.at(-1)!.resolve();
      await settle();
      expect(h.actor.getSnapshot().value).to.equal('stopped');
      expect(h.cleanupPasses).to.deep.equal([{ round: 1, at: 0 }, { round: 2, at: 200 }, { round: 3, at: 600 }]);
      expect(h.actor.getSnapshot().context.counters).to.include({ cleanups: 1, cleanupRounds: 3 });
    });

    it('past the deadline: the pass in flight is left to finish, no new round starts; cleanup() from error counts rounds afresh', async () => {
      const h = await stopping({ retryDelay: 1000, cleanupTimeout: 1500 });
      h.cleanupRuns[0]!.reject(left(true));
      await settle();
      h.clock.increment(1000);
      await settle();
      expect(h.cleanupPasses.map((p) => p.round)).to.deep.equal([1, 2]);
      // Round 2 is in flight when the deadline comes.
      h.clock.increment(500);
      await settle();
      expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
      expect(h.actor.getSnapshot().context.lastError).to.be.instanceOf(CleanupTimeoutError);
      // Its late outcome changes nothing, and no timer starts another round.
      h.cleanupRuns[1]!.reject(left(true));
      h.clock.increment(60_000);
      await settle();
      expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
      expect(h.cleanupPasses).to.have.length(2);
      h.actor.send({ type: 'CLEANUP' });
      await settle();
      expect(h.cleanupPasses.at(-1)!.round).to.equal(1);
      h.cleanupRuns[2]!.resolve();
      await settle();
      expect(h.actor.getSnapshot().value).to.equal('stopped');
      expect(h.actor.getSnapshot().context.counters).to.include({ cleanups: 2, cleanupRounds: 3 });
    });

    it('the deadline during a backoff: halted, and the backoff never fires', async () => {
      const h = await stopping({ retryDelay: 5000, cleanupTimeout: 2000 });
      h.cleanupRuns[0]!.reject(left(true));
      await settle();
      h.clock.increment(2000);
      await settle();
      expect(h.actor.getSnapshot().value).to.deep.equal({ error: 'halted' });
      h.clock.increment(10_000);
      await settle();
      expect(h.cleanupPasses).to.have.length(1);
    });
  });

  it('stops the link monitor when leaving ready, and recovers from a FAULT', async () => {
    const h = harness(['ok']);
    h.actor.send({ type: 'START' });
    await settle();
    expect(h.actor.getSnapshot().value).to.equal('ready');
    h.fault({ type: 'FAULT', reason: 'deleted' });
    expect(h.monitorStops).to.have.length(1);
    await settle();
    expect(h.actor.getSnapshot().value).to.equal('ready');
    expect(h.actor.getSnapshot().context.ifindex).to.equal(6);
    expect(h.actor.getSnapshot().context.counters.recoveries).to.equal(1);
  });

  it('raises an alert on every alertThreshold-th consecutive failure', async () => {
    const h = harness(['EAGAIN'], { retryAttempts: 6, retryDelay: 1, alertThreshold: 3 });
    h.actor.send({ type: 'START' });
    for (let i = 0; i < 10; i++) {
      await settle();
      h.clock.increment(1000);
    }
    await settle();
    expect(h.attempts).to.have.length(7);
    expect(h.alerts.map((a) => a.consecutiveFailures)).to.deep.equal([3, 6]);
    expect((h.alerts[0]!.error as TunSystemError).code).to.equal('EAGAIN');
  });

  it('cleanup() while an attempt is in flight: no retry, cleanup after it settles', async () => {
    const h = harness(['EBUSY', 'ok']);
    h.actor.send({ type: 'START' });
    h.actor.send({ type: 'CLEANUP' });
    expect(h.actor.getSnapshot().value).to.deep.equal({ initializing: 'attempt' });
    await settle();
    expect(h.actor.getSnapshot().value).to.deep.equal({ stopping: 'round' });
    expect(h.attempts).to.have.length(1);
    h.cleanupRuns[0]!.resolve();
    await settle();
    expect(h.actor.getSnapshot().value).to.equal('stopped');
  });

  describe('actors registered for an actor system (systemActors, what the adapter uses instead of .provide())', () => {
    const noop = async () => undefined;
    it('runs the registered implementations, for that system only', async () => {
      const made: string[] = [];
      const running = createActor(tunLifecycleMachine, { input: { interfaceName: 'tun0' } });
      systemActors.set(running.system, {
        create: async () => { made.push('create'); return { name: 'tun0', ifindex: 7 }; },
        recover: async () => ({ name: 'tun0', ifindex: 7 }),
        cleanup: noop,
        reconfigure: noop,
        linkMonitor: () => { made.push('monitor'); return () => made.push('monitor stopped'); },
      });
      running.start();
      running.send({ type: 'START' });
      await settle();
      expect(running.getSnapshot().value).to.equal('ready');
      expect(running.getSnapshot().context.ifindex).to.equal(7);
      running.send({ type: 'CLEANUP' });
      await settle();
      expect(running.getSnapshot().value).to.equal('stopped');
      expect(made).to.deep.equal(['create', 'monitor', 'monitor stopped']);

      // Another actor of the same machine, nothing registered: its create is "not provided" (a permanent failure).
      const bare = createActor(tunLifecycleMachine, { input: { interfaceName: 'tun1' } }).start();
      bare.send({ type: 'START' });
      await settle();
      expect(bare.getSnapshot().value).to.deep.equal({ error: 'halted' });
      expect(String((bare.getSnapshot().context.lastError as Error).cause)).to.contain('actor "create" was not provided');
      expect(made, 'the other system ran none of them').to.have.length(3);
      bare.stop();
    });
  });
});
