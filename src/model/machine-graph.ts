// What the statechart is made of, read from its definition (never listed by
// hand): every state node, and every transition — one per candidate of each
// event on each node, so each guarded branch counts on its own. Coverage of a
// set of model paths is measured against these, so a transition added to the
// machine without a path that takes it shows up as missing.

import type { AnyStateMachine, AnyStateNode, EventObject } from 'xstate';

export interface MachineTransition {
  /** `<source id>|<event type>|<candidate index>` — stable while the definition is. */
  key: string;
  source: string;
  event: string;
  /** Position among the candidates for this event on this node (guards are tried in this order). */
  index: number;
  guard: string | undefined;
  /** Target state ids; empty for a targetless (actions-only) transition. */
  targets: string[];
}

function walk(node: AnyStateNode, out: AnyStateNode[] = []): AnyStateNode[] {
  out.push(node);
  for (const child of Object.values(node.states) as AnyStateNode[]) walk(child, out);
  return out;
}

/** Every state node id, the root included. */
export function machineStateIds(machine: AnyStateMachine): string[] {
  return walk(machine.root).map((node) => node.id);
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'inline';
  return (guard as { type?: string }).type ?? 'inline';
}

interface TransitionIndex {
  list: MachineTransition[];
  byDefinition: Map<object, MachineTransition>;
}

const indexes = new WeakMap<AnyStateMachine, TransitionIndex>();

function transitionIndex(machine: AnyStateMachine): TransitionIndex {
  let index = indexes.get(machine);
  if (index) return index;
  const list: MachineTransition[] = [];
  const byDefinition = new Map<object, MachineTransition>();
  for (const node of walk(machine.root)) {
    for (const [event, candidates] of node.transitions) {
      candidates.forEach((definition, i) => {
        const transition: MachineTransition = {
          key: `${node.id}|${event}|${i}`,
          source: node.id,
          event,
          index: i,
          guard: guardName(definition.guard),
          targets: (definition.target ?? []).map((target) => target.id),
        };
        list.push(transition);
        byDefinition.set(definition, transition);
      });
    }
  }
  index = { list, byDefinition };
  indexes.set(machine, index);
  return index;
}

/** Every transition of the machine's definition (event-driven, delayed, invoke done/error). */
export function machineTransitions(machine: AnyStateMachine): MachineTransition[] {
  return [...transitionIndex(machine).list];
}

/** The transitions the machine takes on `event` from `snapshot` (asked of the machine itself). */
export function transitionsTaken(machine: AnyStateMachine, snapshot: unknown, event: EventObject): MachineTransition[] {
  const { byDefinition } = transitionIndex(machine);
  const taken = machine.getTransitionData(snapshot as never, event as never) as unknown as object[];
  return taken.map((definition) => {
    const found = byDefinition.get(definition);
    if (!found) throw new Error(`transitionsTaken: a transition that is not in the machine's definition (${event.type})`);
    return found;
  });
}

/** The state node ids active for a state value (every level, root included). */
export function activeStateIds(machine: AnyStateMachine, value: unknown): string[] {
  const ids: string[] = [machine.root.id];
  const descend = (node: AnyStateNode, v: unknown) => {
    const entries: Array<[string, unknown]> = typeof v === 'string' ? [[v, undefined]] : Object.entries(v as object);
    for (const [key, child] of entries) {
      const next = (node.states as Record<string, AnyStateNode>)[key];
      if (!next) throw new Error(`activeStateIds: no state ${key} under ${node.id}`);
      ids.push(next.id);
      if (child !== undefined) descend(next, child);
    }
  };
  descend(machine.root, value);
  return ids;
}
