// mermaidToDot: the inspector's Graphviz drawing says what the README's
// Mermaid text says — every state, every transition with its label — and
// refuses text it does not understand instead of drawing something else.

import { expect } from 'chai';
import { toMermaid } from '../../machines/diagram.js';
import { tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import { mermaidToDot } from '../../src/inspect/diagram-dot.js';
import { mermaidStateIds } from '../../src/inspect/state-ids.js';

describe('inspect: the diagram as DOT, from the Mermaid text', () => {
  const mermaid = toMermaid(tunLifecycleMachine);
  const dot = mermaidToDot(mermaid);

  it('draws each state once under its Mermaid id (composites as clusters) and each Mermaid edge once', () => {
    for (const id of Object.values(mermaidStateIds(tunLifecycleMachine))) {
      const declared = dot.match(new RegExp(`(^|[\\s[])id="${id}"`, 'gmu')) ?? [];
      expect(declared, id).to.have.length(1);
    }
    const mermaidEdges = mermaid.split('\n').filter((line) => line.includes(' --> '));
    const dotEdges = dot.split('\n').filter((line) => line.includes(' -> '));
    expect(dotEdges).to.have.length(mermaidEdges.length);
    for (const line of mermaidEdges) {
      const label = line.split(' : ')[1];
      if (label !== undefined) expect(dot, line).to.contain(`label="${label}"`);
    }
    // An edge leaving the composite `initializing` starts at its border, one entering `error` ends at it.
    expect(dot).to.match(/initializing__anchor -> error__anchor \[label="error\(create\) \(to halted\)", ltail="cluster_initializing", lhead="cluster_error"\]/u);
  });

  it('refuses what toMermaid does not write', () => {
    expect(() => mermaidToDot('graph TD\n  a --> b\n')).to.throw(/not a stateDiagram-v2/u);
    expect(() => mermaidToDot('stateDiagram-v2\n  a -> b\n')).to.throw(/cannot read 'a -> b'/u);
    expect(() => mermaidToDot('stateDiagram-v2\n  state a {\n  [*] --> b\n')).to.throw(/not closed/u);
  });
});
