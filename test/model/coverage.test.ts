// The model's paths must walk every state and every transition of the
// production statechart. Both lists are read from the machine's definition,
// so a state or transition added to the machine without an event that
// reaches it makes this suite fail.

import { expect } from 'chai';
import { createMachine } from 'xstate';
import { tunLifecycleMachine } from '../../src/index.js';
import {
  coveringPaths, lifecycleModelEvents, machineStateIds, machineTransitions, pathCoverage, serializeLifecycleContext, serializeModelEvent,
} from '../../src/testing.js';
import { MODEL_POLICY } from './model-config.js';
import { shortestPaths, simplePaths } from './paths.js';
import { recordResult } from '../reliability/results.js';

describe('model: coverage of the statechart by the generated paths', () => {
  const shortest = shortestPaths();
  const simple = simplePaths();

  it('reads the states and transitions from the definition (six top-level states and the reconfiguring extension, every guarded branch counted)', () => {
    const states = machineStateIds(tunLifecycleMachine);
    const topLevel = states.filter((id) => id.split('.').length === 2).map((id) => id.split('.')[1]).sort();
    expect(topLevel).to.deep.equal(['error', 'initializing', 'ready', 'reconfiguring', 'stopped', 'stopping', 'uninitialized']);
    const transitions = machineTransitions(tunLifecycleMachine);
    // Each candidate is its own transition: the create actor's error has three guarded branches.
    const createErrors = transitions.filter((t) => t.source === 'tunLifecycle.initializing.attempt' && t.event === 'xstate.error.actor.create');
    expect(createErrors.map((t) => t.guard)).to.deep.equal(['cleanupRequested', 'canRetry', undefined]);
    // Every cleanup round is a state the paths must walk: the pass, its backoff, the retry.
    expect(states).to.include.members(['tunLifecycle.stopping.round', 'tunLifecycle.stopping.backoff']);
    const roundErrors = transitions.filter((t) => t.source === 'tunLifecycle.stopping.round' && t.event === 'xstate.error.actor.cleanup');
    expect(roundErrors.map((t) => [t.guard, t.targets])).to.deep.equal([
      ['canRetryCleanup', ['tunLifecycle.stopping.backoff']], [undefined, ['tunLifecycle.error.halted']],
    ]);
    expect(transitions.map((t) => t.key)).to.include.members([
      'tunLifecycle.stopping.backoff|xstate.after.cleanupBackoff.tunLifecycle.stopping.backoff|0',
      'tunLifecycle.stopping|xstate.after.cleanupTimeout.tunLifecycle.stopping|0',
    ]);
    for (const t of transitions) for (const target of t.targets) expect(states, `${t.key} targets ${target}`).to.include(target);
  });

  it('generates shortest and simple paths', () => {
    expect(shortest.length).to.be.greaterThan(10);
    expect(simple.length).to.be.greaterThan(shortest.length);
    for (const path of [...shortest, ...simple]) expect(path.steps[0]!.event.type).to.equal('xstate.init');
  });

  it('the paths together cover every state and every transition of the machine', () => {
    const coverage = pathCoverage([...shortest, ...simple]);
    expect(coverage.states.missing, 'states no path reaches').to.deep.equal([]);
    expect(coverage.transitions.missing, 'transitions no path takes').to.deep.equal([]);
    const all = coverage.states.all.length + coverage.transitions.all.length;
    const covered = coverage.states.covered.length + coverage.transitions.covered.length;
    recordResult('model-coverage', {
      tried: all, held: covered, leaks: 0,
      notes: `${coverage.states.covered.length}/${coverage.states.all.length} states, ${coverage.transitions.covered.length}/${coverage.transitions.all.length} transitions (read from the machine's definition) by ${shortest.length} shortest + ${simple.length} simple paths`,
    });
    expect(coverage.transitions.covered.length).to.equal(machineTransitions(tunLifecycleMachine).length);
  });

  it('the paths walk every kind of cleanup round: transient then success, permanent, exhausted, the deadline in a round and in a backoff', () => {
    const lines = [...shortest, ...simple].map((path) => path.steps.map((s) => `${serializeModelEvent(s.event)}→${JSON.stringify(s.state.value)}`).join(' '));
    const has = (pattern: RegExp) => lines.some((line) => pattern.test(line));
    const round = '→\\{"stopping":"round"\\}';
    const backoff = '→\\{"stopping":"backoff"\\}';
    expect(has(new RegExp(`cleanup:EBUSY${backoff} xstate\\.after\\.cleanupBackoff\\S*${round} xstate\\.done\\.actor\\.cleanup→"stopped"`)), 'transient, then success').to.equal(true);
    expect(has(new RegExp(`${round} xstate\\.error\\.actor\\.cleanup:EPERM→\\{"error":"halted"\\}`)), 'permanent').to.equal(true);
    expect(has(new RegExp(`cleanupBackoff\\S*${round} xstate\\.error\\.actor\\.cleanup:EBUSY→\\{"error":"halted"\\}`)), 'rounds used up').to.equal(true);
    expect(has(new RegExp(`${round} xstate\\.after\\.cleanupTimeout\\S*→\\{"error":"halted"\\}`)), 'deadline during a round').to.equal(true);
    expect(has(new RegExp(`${backoff} xstate\\.after\\.cleanupTimeout\\S*→\\{"error":"halted"\\}`)), 'deadline during a backoff').to.equal(true);
  });

  it('the covering subset (replayed on the kernel) covers the same', () => {
    const subset = coveringPaths([...shortest, ...simple]);
    const coverage = pathCoverage(subset);
    expect(coverage.states.missing).to.deep.equal([]);
    expect(coverage.transitions.missing).to.deep.equal([]);
    expect(subset.length).to.be.lessThan(20);
  });

  it('a transition the events cannot reach is reported missing (the check can fail)', () => {
    const config = tunLifecycleMachine.config as any;
    const extended = createMachine({
      ...config,
      states: { ...config.states, ready: { ...config.states.ready, on: { ...config.states.ready.on, PAUSE: { target: 'stopping' } } } },
    }, tunLifecycleMachine.implementations as any);
    // The production event list has no PAUSE: a model built with it misses the new transition.
    const events = lifecycleModelEvents(tunLifecycleMachine);
    const { TestModel } = modelClass;
    const extendedModel = new TestModel(extended, {
      events, input: { policy: MODEL_POLICY },
      serializeState: serializeLifecycleContext as any,
      serializeEvent: serializeModelEvent as any,
    } as any);
    const coverage = pathCoverage(extendedModel.getShortestPaths() as any, extended);
    expect(coverage.transitions.missing).to.include('tunLifecycle.ready|PAUSE|0');
    // Everything else it misses, the production model's shortest paths miss too: PAUSE is the one new gap.
    const production = pathCoverage(shortest).transitions.missing;
    expect(coverage.transitions.missing.filter((t) => !production.includes(t))).to.deep.equal(['tunLifecycle.ready|PAUSE|0']);
    // And with the events derived from the extended machine itself, PAUSE is generated and taken.
    expect(lifecycleModelEvents(extended).map((e) => e.type)).to.include('PAUSE');
  });
});

const modelClass = await import('xstate/graph');
