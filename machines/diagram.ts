// Mermaid stateDiagram-v2 generated from a machine definition, so the README's
// picture is whatever the code does (a test compares the two). Walks the
// StateNode tree: initial states, transitions (events, invoke done/error,
// delayed `after`, eventless), guards as [name]; actions are shown only on
// transitions that stay in place (otherwise they would be invisible).

import type { AnyStateMachine, StateNode } from 'xstate';

type AnyNode = StateNode<any, any>;

interface TransitionLike {
  eventType: string;
  target?: readonly AnyNode[] | undefined;
  guard?: unknown;
  actions?: readonly unknown[];
}

export interface MermaidOptions {
  /** Leading indentation for every line after the first ('  ' by default). */
  indent?: string;
}

export function toMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const indent = options.indent ?? '  ';
  const root = machine.root as AnyNode;
  const keyCounts = new Map<string, number>();
  walk(root, (node) => {
    if (node !== root) keyCounts.set(node.key, (keyCounts.get(node.key) ?? 0) + 1);
  });

  // A state's Mermaid id: its key when unique in the machine, else its path.
  const idOf = (node: AnyNode): string => {
    if (keyCounts.get(node.key) === 1) return node.key;
    return node.path.join('_');
  };

  // Mermaid cannot draw an edge between states inside different composites, so
  // each edge is drawn in the block of the endpoints' nearest common ancestor,
  // between the children of that block that contain them; when the target had
  // to be lifted that way, the label names the real target.
  const edgesByBlock = new Map<AnyNode, string[]>();
  walk(root, (source) => {
    if (source === root) return;
    for (const transition of transitionsOf(source)) {
      const targets = transition.target ?? [];
      if (targets.length === 0) {
        addEdge(edgesByBlock, source.parent!, `${idOf(source)} --> ${idOf(source)} : ${label(transition, true)}`);
        continue;
      }
      for (const target of targets) {
        const block = commonBlock(source, target);
        const from = childWithin(block, source);
        const to = childWithin(block, target);
        const lifted = to !== target ? ` (to ${target.key})` : '';
        addEdge(edgesByBlock, block, `${idOf(from)} --> ${idOf(to)} : ${label(transition, false)}${lifted}`);
      }
    }
  });

  const lines: string[] = ['stateDiagram-v2'];
  const emit = (depth: number, text: string) => lines.push(indent.repeat(depth) + text);

  const render = (node: AnyNode, depth: number) => {
    const initial = node.initial?.target?.[0] as AnyNode | undefined;
    if (initial) emit(depth, `[*] --> ${idOf(initial)}`);
    for (const child of Object.values(node.states) as AnyNode[]) {
      const id = idOf(child);
      if (Object.keys(child.states).length > 0) {
        emit(depth, `state ${id} {`);
        render(child, depth + 1);
        emit(depth, '}');
      } else if (id !== child.key) {
        emit(depth, `state "${child.key}" as ${id}`);
      }
    }
    for (const edge of edgesByBlock.get(node) ?? []) emit(depth, edge);
    for (const child of Object.values(node.states) as AnyNode[]) {
      if (child.type === 'final') emit(depth, `${idOf(child)} --> [*]`);
    }
  };

  render(root, 1);
  return `${lines.join('\n')}\n`;
}

function addEdge(map: Map<AnyNode, string[]>, block: AnyNode, line: string): void {
  const list = map.get(block);
  if (list) list.push(line);
  else map.set(block, [line]);
}

function ancestors(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (let n: AnyNode | undefined = node.parent; n; n = n.parent) out.push(n);
  return out;
}

/** Deepest proper ancestor of source that also strictly contains target. */
function commonBlock(source: AnyNode, target: AnyNode): AnyNode {
  const targetAncestors = new Set(ancestors(target));
  for (const candidate of ancestors(source)) if (targetAncestors.has(candidate)) return candidate;
  return ancestors(source).at(-1)!;
}

/** The child of block that is node or contains it. */
function childWithin(block: AnyNode, node: AnyNode): AnyNode {
  let n = node;
  while (n.parent && n.parent !== block) n = n.parent;
  return n;
}

function walk(node: AnyNode, visit: (node: AnyNode) => void): void {
  visit(node);
  for (const child of Object.values(node.states) as AnyNode[]) walk(child, visit);
}

function transitionsOf(node: AnyNode): TransitionLike[] {
  const out: TransitionLike[] = [];
  for (const list of node.transitions.values()) out.push(...(list as unknown as TransitionLike[]));
  for (const transition of (node.always ?? []) as unknown as TransitionLike[]) out.push(transition);
  return out;
}

function eventLabel(eventType: string): string {
  if (eventType === '') return 'always';
  let m = /^xstate\.done\.actor\.(.+)$/u.exec(eventType);
  if (m) return `done(${m[1]})`;
  m = /^xstate\.error\.actor\.(.+)$/u.exec(eventType);
  if (m) return `error(${m[1]})`;
  m = /^xstate\.after\.([^.]+)\./u.exec(eventType);
  if (m) return `after(${m[1]})`;
  return eventType;
}

function nameOf(thing: unknown): string | undefined {
  if (typeof thing === 'string') return thing;
  if (thing && typeof thing === 'object' && typeof (thing as { type?: unknown }).type === 'string') {
    return (thing as { type: string }).type;
  }
  if (typeof thing === 'function' && thing.name) return thing.name;
  return undefined;
}

function label(transition: TransitionLike, withActions: boolean): string {
  let text = eventLabel(transition.eventType);
  const guard = transition.guard === undefined ? undefined : (nameOf(transition.guard) ?? 'guard');
  if (guard) text += ` [${guard}]`;
  if (withActions) {
    const actions = (transition.actions ?? []).map(nameOf).filter((n): n is string => n !== undefined);
    if (actions.length) text += ` / ${actions.join(', ')}`;
  }
  return text;
}
