// The production machine walked by xstate/graph's TestModel with explicit
// actor-done/error and delay events (no actor runs), as the model-based tests
// do; and the Mermaid diagram generated from the same definition.

import { expect } from 'chai';
import { setup } from 'xstate';
import type { AnyStateMachine, StateNode } from 'xstate';
import { TestModel } from 'xstate/graph';
import { toMermaid } from '../../machines/diagram.js';
import { tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import { TunSystemError } from '../../src/binding/contract/system-error.js';
import { RollbackFailedError, CleanupFailedError } from '../../src/errors.js';

type AnyNode = StateNode<any, any>;

const machine = tunLifecycleMachine;
const transient = new TunSystemError({ code: 'EBUSY', syscall: 'ioctl(TUNSETIFF)' });
const permanent = new TunSystemError({ code: 'EPERM', syscall: 'ioctl(TUNSETIFF)' });

const EVENTS = [
  { type: 'START' },
  { type: 'CLEANUP' },
  { type: 'FAULT', reason: 'deleted' },
  { type: 'RECOVER' },
  { type: 'xstate.done.actor.create', output: { name: 'tun0', ifindex: 4 } },
  { type: 'xstate.error.actor.create', error: transient },
  { type: 'xstate.error.actor.create', error: permanent },
  { type: 'xstate.after.retryBackoff.tunLifecycle.initializing.backoff' },
  { type: 'xstate.done.actor.recover', output: { name: 'tun0', ifindex: 5 } },
  { type: 'xstate.error.actor.recover', error: transient },
  { type: 'xstate.error.actor.recover', error: permanent },
  { type: 'xstate.after.retryBackoff.tunLifecycle.error.recovering.backoff' },
  { type: 'xstate.done.actor.cleanup' },
  { type: 'xstate.error.actor.cleanup', error: new CleanupFailedError(['route'], { state: 'stopping', transient: true }) },
  { type: 'xstate.error.actor.cleanup', error: new CleanupFailedError(['route'], { state: 'stopping', transient: false }) },
  { type: 'xstate.after.cleanupBackoff.tunLifecycle.stopping.backoff' },
  { type: 'xstate.after.cleanupTimeout.tunLifecycle.stopping' },
  { type: 'RECONFIGURE' },
  { type: 'xstate.done.actor.reconfigure' },
  { type: 'xstate.error.actor.reconfigure', error: transient },
  { type: 'xstate.error.actor.reconfigure', error: permanent },
  { type: 'xstate.error.actor.reconfigure', error: new RollbackFailedError(transient, { state: 'reconfiguring', cause: permanent }) },
  { type: 'xstate.after.retryBackoff.tunLifecycle.reconfiguring.backoff' },
  { type: 'xstate.after.reconfigureTimeout.tunLifecycle.reconfiguring' },
] as any[];

function allNodes(root: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  const walk = (node: AnyNode) => {
    out.push(node);
    for (const child of Object.values(node.states) as AnyNode[]) walk(child);
  };
  walk(root);
  return out;
}

function valueOf(node: AnyNode): any {
  return node.path.reduceRight<any>((inner, key) => (inner === undefined ? key : { [key]: inner }), undefined);
}

function model(m: AnyStateMachine) {
  return new TestModel(m, {
    events: EVENTS,
    input: { policy: { retryAttempts: 1 } },
    // Counters grow without bound; what decides behaviour is the value, the attempt and the flags.
    serializeState: (s: any) => JSON.stringify([s.value, s.context.attempt, s.context.cleanupRound, s.context.cleanupRequested, s.context.errorFrom]),
  } as any);
}

describe('tunLifecycle machine under xstate/graph', () => {
  const testModel = model(machine);
  const adjacency = testModel.getAdjacencyMap() as Record<string, { state: any; transitions: Record<string, { event: any; state: any }> }>;
  const edges = Object.values(adjacency).flatMap((entry) =>
    Object.values(entry.transitions).map((t) => ({ from: entry.state, event: t.event, to: t.state })));
  const nodes = allNodes(machine.root as AnyNode).filter((n) => n !== machine.root);

  it('TestModel traverses the real machine (with invoke and after) from explicit events', () => {
    const paths = testModel.getShortestPaths();
    expect(paths.length).to.be.greaterThan(10);
  });

  it('the paths reach every state of the machine', () => {
    const reached = nodes.filter((node) => Object.values(adjacency).some((entry) => entry.state.matches(valueOf(node))));
    expect(reached.map((n) => n.id)).to.deep.equal(nodes.map((n) => n.id));
  });

  it('the paths take every transition of the machine', () => {
    const missing: string[] = [];
    for (const node of nodes) {
      for (const [eventType, list] of node.transitions) {
        for (const transition of list as any[]) {
          const targets = (transition.target ?? []) as AnyNode[];
          const taken = edges.some(({ from, event, to }) => {
            if (event.type !== eventType || !from.matches(valueOf(node))) return false;
            if (targets.length === 0) return JSON.stringify(to.value) === JSON.stringify(from.value);
            return targets.every((target) => to.matches(valueOf(target)));
          });
          const guard = typeof transition.guard === 'string' ? transition.guard : transition.guard?.type;
          if (!taken) missing.push(`${node.id} --${eventType}${guard ? ` [${guard}]` : ''}--> ${targets.map((t) => t.id).join(',') || '(self)'}`);
        }
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('initializing and error.recovering have the same attempt/backoff structure (one helper builds both)', () => {
    const shape = (node: AnyNode) => {
      const rename = (text: string) => text.replace(node.id, '<episode>').replace(/\.(create|recover)$/u, '.<actor>');
      return {
        initial: node.initial?.target?.map((t: AnyNode) => t.key),
        entry: node.entry.map((a: any) => a.type ?? a),
        children: Object.fromEntries((Object.values(node.states) as AnyNode[]).map((child) => [child.key, {
          entry: child.entry.map((a: any) => a.type ?? a),
          invoke: child.invoke.map((inv: any) => inv.src === inv.id),
          transitions: [...child.transitions.entries()].map(([event, list]) => [rename(event), (list as any[]).map((t) => ({
            guard: t.guard?.type ?? t.guard,
            targets: (t.target ?? []).map((target: AnyNode) => rename(target.id)),
          }))]),
        }])),
      };
    };
    const initializing = machine.states.initializing as AnyNode;
    const recovering = (machine.states.error as AnyNode).states.recovering as AnyNode;
    const a = shape(initializing);
    const b = shape(recovering);
    // The one difference the helper is told: cleanup() during the backoff goes to stopping at once only while initializing.
    const backoffCleanup = (a.children.backoff!.transitions as any[]).find(([event]) => event === 'CLEANUP');
    expect(backoffCleanup).to.deep.equal(['CLEANUP', [{ guard: undefined, targets: ['tunLifecycle.stopping'] }]]);
    a.children.backoff!.transitions = (a.children.backoff!.transitions as any[]).filter(([event]) => event !== 'CLEANUP');
    expect(b).to.deep.equal(a);
    expect(Object.keys(a.children)).to.deep.equal(['attempt', 'backoff']);
  });

  it('invoked actors have the stable ids the model-based tests name', () => {
    const ids = nodes.flatMap((node) => node.invoke.map((inv: { id: string }) => inv.id)).sort();
    expect(ids).to.deep.equal(['cleanup', 'create', 'linkMonitor', 'reconfigure', 'recover']);
  });
});

describe('toMermaid', () => {
  const diagram = toMermaid(machine);
  const lines = diagram.split('\n').map((line) => line.trim());

  it('is a stateDiagram-v2 with the initial and final states marked', () => {
    expect(lines[0]).to.equal('stateDiagram-v2');
    expect(lines).to.include('[*] --> uninitialized');
    expect(lines).to.include('stopped --> [*]');
    expect(lines).to.include('[*] --> initializing_attempt');
    expect(lines).to.include('[*] --> halted');
  });

  it('draws one edge per transition of the definition', () => {
    const drawn = lines.filter((line) => line.includes('-->') && !line.includes('[*]'));
    const defined = allNodes(machine.root as AnyNode).flatMap((node) => [...node.transitions.values()].flatMap((list) =>
      (list as any[]).map((t) => Math.max(1, (t.target ?? []).length)))).reduce((a, b) => a + b, 0);
    expect(drawn).to.have.length(defined);
  });

  it('names every event, actor outcome, delay and guard', () => {
    for (const label of [
      'START', 'CLEANUP', 'FAULT', 'RECOVER', 'done(create)', 'error(create)', 'done(recover)', 'error(recover)',
      'done(cleanup)', 'error(cleanup)', 'after(retryBackoff)', 'after(cleanupTimeout)', '[canRetry]', '[cleanupRequested]', '[canRecover]',
      'after(cleanupBackoff)', '[canRetryCleanup]',
    ]) expect(diagram, label).to.include(label);
    // Every cleanup round is drawn: the pass, its backoff, the next round.
    expect(lines).to.include('round --> stopping_backoff : error(cleanup) [canRetryCleanup]');
    expect(lines).to.include('stopping_backoff --> round : after(cleanupBackoff)');
    expect(lines).to.include('ready --> error : FAULT (to recovering)');
    expect(lines).to.include('stopping --> error : after(cleanupTimeout) (to halted)');
  });

  it('is generated from the definition it is given (exact output for a small machine)', () => {
    const small = setup({ guards: { ok: () => true } }).createMachine({
      id: 'small',
      initial: 'a',
      states: {
        a: { on: { GO: { guard: 'ok', target: 'b.inner' }, STAY: { actions: [] } } },
        b: { initial: 'inner', states: { inner: { after: { 50: '#small.done' } } } },
        done: { type: 'final' },
      },
    });
    expect(toMermaid(small)).to.equal([
      'stateDiagram-v2',
      '  [*] --> a',
      '  state b {',
      '    [*] --> inner',
      '  }',
      '  a --> b : GO [ok] (to inner)',
      '  a --> a : STAY',
      '  b --> done : after(50)',
      '  done --> [*]',
      '',
    ].join('\n'));
  });
});
