// The README's diagram and CLI usage are generated (scripts/update-readme.mjs);
// these fail when the machine or the CLI change and the README was not regenerated.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toMermaid } from '../../machines/diagram.js';
import { tunLifecycleMachine } from '../../machines/tunLifecycle.js';
import { USAGE } from '../../src/cli/usage.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

function block(name: string): string {
  const match = new RegExp(`<!-- ${name}:start[^\\n]*-->\\n([\\s\\S]*?)<!-- ${name}:end -->`, 'u').exec(readme);
  if (!match) throw new Error(`README.md has no ${name} block`);
  return match[1]!.trimEnd();
}

describe('README', () => {
  it('shows the lifecycle diagram generated from the machine that runs', () => {
    expect(block('diagram')).to.equal(`\`\`\`mermaid\n${toMermaid(tunLifecycleMachine).trimEnd()}\n\`\`\``);
  });

  it('shows the CLI usage the CLI prints', () => {
    expect(block('usage')).to.equal(USAGE.trimEnd());
  });
});
