// The snapshot watch on its own: state values in, top-level transitions,
// log lines and settled promises out — fed hand-made snapshots, no actor.

import { expect } from 'chai';
import type { StateValue } from 'xstate';
import { InterfaceState } from '../../src/index.js';
import type { LifecycleSnapshot } from '../../src/adapter/actors.js';
import { SnapshotWatch, valueKey } from '../../src/adapter/snapshot-watch.js';
import { createLog, type Level } from '../../src/log.js';

const snapshot = (value: StateValue, lastError?: Error) =>
  ({ value, context: { attempt: 1, lastError } }) as unknown as LifecycleSnapshot;

function watchWith() {
  const lines: Array<[Level, string]> = [];
  const record = (level: Level) => (_fields: unknown, message: string) => { lines.push([level, message]); };
  const log = createLog({ debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') });
  const transitions: string[] = [];
  const watch = new SnapshotWatch('uninitialized', log, {
    name: () => 'tun0',
    transition: (to, from) => transitions.push(`${from}→${to}`),
  });
  return { watch, lines, transitions };
}

describe('snapshot watch', () => {
  it('valueKey: one dotted key per state value', () => {
    expect(valueKey('ready')).to.equal('ready');
    expect(valueKey({ initializing: 'backoff' })).to.equal('initializing.backoff');
    expect(valueKey({ error: { recovering: 'attempt' } })).to.equal('error.recovering.attempt');
  });

  it('reports each top-level transition once; a repeated value is ignored', () => {
    const { watch, transitions } = watchWith();
    watch.observe(snapshot({ initializing: 'attempt' }));
    watch.observe(snapshot({ initializing: 'attempt' }));
    watch.observe(snapshot({ initializing: 'backoff' }));
    watch.observe(snapshot('ready'));
    expect(watch.state).to.equal(InterfaceState.Ready);
    expect(transitions).to.deep.equal(['uninitialized→initializing', 'initializing→ready']);
  });

  it('logs sub-state steps at debug, transitions at info, entering error at warn with its message', () => {
    const { watch, lines } = watchWith();
    watch.observe(snapshot({ initializing: 'attempt' }));
    watch.observe(snapshot({ initializing: 'backoff' }));
    watch.observe(snapshot({ error: 'halted' }, new Error('EPERM')));
    expect(lines.map(([level]) => level)).to.deep.equal(['info', 'debug', 'warn']);
    expect(lines[2]![1]).to.equal('tun-lifecycle: tun0 initializing → error: EPERM');
  });

  it('until(): settles on the first verdict, asked only on top-level changes', async () => {
    const { watch } = watchWith();
    const asked: InterfaceState[] = [];
    const ready = watch.until<string>((state) => {
      asked.push(state);
      return state === InterfaceState.Ready ? { value: 'up' } : undefined;
    });
    watch.observe(snapshot({ initializing: 'attempt' }));
    watch.observe(snapshot({ initializing: 'backoff' }));
    watch.observe(snapshot('ready'));
    watch.observe(snapshot('stopping'));
    expect(await ready).to.equal('up');
    expect(asked).to.deep.equal([InterfaceState.Initializing, InterfaceState.Ready]);
  });

  it('until(everyStep): asked on every change of the value; an error verdict rejects', async () => {
    const { watch } = watchWith();
    let asked = 0;
    const failure = new Error('halted');
    const settled = watch.until<void>(() => (++asked === 2 ? { error: failure } : undefined), true);
    watch.observe(snapshot({ initializing: 'attempt' }));
    watch.observe(snapshot({ initializing: 'backoff' }));
    expect(await settled.then(() => undefined, (e: unknown) => e)).to.equal(failure);
  });

  it('the transition hook runs before pending promises hear of the change', async () => {
    const order: string[] = [];
    const watch = new SnapshotWatch('uninitialized', createLog(undefined), {
      name: () => 'tun0',
      transition: () => order.push('transition'),
    });
    const heard = watch.until<void>(() => {
      order.push('watcher');
      return { value: undefined };
    });
    watch.observe(snapshot({ initializing: 'attempt' }));
    await heard;
    expect(order).to.deep.equal(['transition', 'watcher']);
  });
});
