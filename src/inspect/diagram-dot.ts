// The statechart as Graphviz DOT, translated from the Mermaid text that
// machines/diagram.ts generates (the README's diagram), so the inspector page
// draws exactly that picture without shipping Mermaid: the server lays it out
// with Graphviz (./diagram-svg.ts). Only the stateDiagram-v2 subset toMermaid
// writes is understood; anything else is refused rather than drawn wrong.
//
// Each state keeps its Mermaid id as its SVG element id (`id=` on a node, on
// a composite's cluster), so the page highlights by the ids the feed sends.
// A composite is a cluster with an invisible anchor node: edges to and from
// it meet the anchor and are clipped at the cluster's border (lhead/ltail).

interface Block {
  id: string | undefined;
  label: string;
  lines: Array<string | Block>;
}

const EDGE = /^(\[\*\]|[\w]+) --> (\[\*\]|[\w]+)(?: : (.*))?$/u;
const ALIAS = /^state "([^"]+)" as (\w+)$/u;
const OPEN = /^state (\w+) \{$/u;

function quote(text: string): string {
  return `"${text.replace(/\\/gu, '\\\\').replace(/"/gu, '\\"')}"`;
}

/** Mermaid stateDiagram-v2 text as toMermaid writes it → DOT with one element id per state. */
export function mermaidToDot(mermaid: string): string {
  const rows = mermaid.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (rows.shift() !== 'stateDiagram-v2') throw new Error('mermaidToDot: not a stateDiagram-v2 text');

  const composites = new Set<string>();
  const labels = new Map<string, string>();
  for (const row of rows) {
    const open = OPEN.exec(row);
    if (open) composites.add(open[1]!);
    const alias = ALIAS.exec(row);
    if (alias) labels.set(alias[2]!, alias[1]!);
  }
  const nodeOf = (id: string) => (composites.has(id) ? `${id}__anchor` : id);
  const declared = new Set<string>();
  let starts = 0;
  let ends = 0;

  const root: Block = { id: undefined, label: '', lines: [] };
  const stack: Block[] = [root];
  const declare = (block: Block, id: string) => {
    if (composites.has(id) || declared.has(id)) return;
    declared.add(id);
    block.lines.push(`${id} [id=${quote(id)}, label=${quote(labels.get(id) ?? id)}];`);
  };

  for (const row of rows) {
    const block = stack.at(-1)!;
    const open = OPEN.exec(row);
    if (open) {
      const child: Block = { id: open[1]!, label: labels.get(open[1]!) ?? open[1]!, lines: [] };
      child.lines.push(`${child.id}__anchor [shape=point, style=invis, width=0.01, label=""];`);
      block.lines.push(child);
      stack.push(child);
      continue;
    }
    if (row === '}') {
      if (stack.length === 1) throw new Error('mermaidToDot: unbalanced }');
      stack.pop();
      continue;
    }
    if (ALIAS.test(row)) {
      declare(block, ALIAS.exec(row)![2]!);
      continue;
    }
    const edge = EDGE.exec(row);
    if (!edge) throw new Error(`mermaidToDot: cannot read '${row}'`);
    const [, from, to, label] = edge as unknown as [string, string, string, string | undefined];
    let tail: string;
    let head: string;
    if (from === '[*]') {
      tail = `__start${starts++}`;
      block.lines.push(`${tail} [shape=point, style=filled, fillcolor=black, color=black, width=0.12, label=""];`);
    } else {
      declare(block, from);
      tail = nodeOf(from);
    }
    if (to === '[*]') {
      head = `__end${ends++}`;
      block.lines.push(`${head} [shape=doublecircle, style=filled, fillcolor=black, width=0.08, label=""];`);
    } else {
      declare(block, to);
      head = nodeOf(to);
    }
    const attrs: string[] = [];
    if (label !== undefined) attrs.push(`label=${quote(label)}`);
    // A self-transition on a composite cannot be clipped at its own border: it stays on the anchor.
    if (from !== to && composites.has(from)) attrs.push(`ltail=${quote(`cluster_${from}`)}`);
    if (from !== to && composites.has(to)) attrs.push(`lhead=${quote(`cluster_${to}`)}`);
    block.lines.push(`${tail} -> ${head}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  if (stack.length !== 1) throw new Error('mermaidToDot: a state { block is not closed');

  const out: string[] = [
    'digraph statechart {',
    '  graph [compound=true, rankdir=TB, fontname="Helvetica", fontsize=12, nodesep=0.35, ranksep=0.45];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", color="#5b6b7a", fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=9, color="#5b6b7a", fontcolor="#39424c", arrowsize=0.7];',
  ];
  const emit = (block: Block, depth: number) => {
    const pad = '  '.repeat(depth);
    for (const line of block.lines) {
      if (typeof line === 'string') {
        out.push(pad + line);
        continue;
      }
      const child = line;
      out.push(`${pad}subgraph ${quote(`cluster_${child.id!}`)} {`);
      out.push(`${pad}  id=${quote(child.id!)}; label=${quote(child.label)};`);
      out.push(`${pad}  style="rounded,filled"; fillcolor="#fbfcfd"; color="#5b6b7a";`);
      emit(child, depth + 1);
      out.push(`${pad}}`);
    }
  };
  emit(root, 1);
  out.push('}');
  return `${out.join('\n')}\n`;
}
