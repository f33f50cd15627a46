// Which diagram nodes are active: a snapshot value ({ initializing: 'backoff' })
// mapped to the ids machines/diagram.ts gives state nodes in the Mermaid text
// (a state's key when unique in the machine, else its path joined with '_'),
// so the page can highlight exactly what the diagram drew.

import type { AnyStateMachine, StateNode } from 'xstate';

type AnyNode = StateNode<any, any>;

/** State path ('initializing.backoff') → Mermaid id ('initializing_backoff' or 'backoff'). */
export function mermaidStateIds(machine: AnyStateMachine): Record<string, string> {
  const nodes: AnyNode[] = [];
  const walk = (node: AnyNode) => {
    for (const child of Object.values(node.states) as AnyNode[]) {
      nodes.push(child);
      walk(child);
    }
  };
  walk(machine.root as AnyNode);
  const keyCounts = new Map<string, number>();
  for (const node of nodes) keyCounts.set(node.key, (keyCounts.get(node.key) ?? 0) + 1);
  const ids: Record<string, string> = {};
  for (const node of nodes) ids[node.path.join('.')] = keyCounts.get(node.key) === 1 ? node.key : node.path.join('_');
  return ids;
}

/** Every active state path of a snapshot value, outermost first. */
export function activePaths(value: unknown, prefix: string[] = []): string[] {
  if (typeof value === 'string') return [[...prefix, value].join('.')];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    out.push([...prefix, key].join('.'));
    out.push(...activePaths(child, [...prefix, key]));
  }
  return out;
}
