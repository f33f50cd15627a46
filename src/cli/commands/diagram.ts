// `tun-lifecycle diagram`: the statechart as Mermaid, generated from the machine itself.

import { toMermaid } from '../../../machines/diagram.js';
import { tunLifecycleMachine } from '../../../machines/tunLifecycle.js';
import { ExitCode } from '../exit-codes.js';
import { print } from '../output.js';
import type { Output } from '../output.js';

export function runDiagram(out: Output): ExitCode {
  const mermaid = toMermaid(tunLifecycleMachine);
  if (out.json) out.record('diagram', { format: 'mermaid', text: mermaid });
  else print(mermaid);
  return ExitCode.Ok;
}
