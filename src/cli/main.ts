// The CLI's dispatcher: parse, run the command, turn expected failures into
// one clear line on stderr (plus a hint) and the documented exit code.
// Only a bug prints a stack trace.

import { TunError } from '../errors.js';
import { parseCommandLine } from './args.js';
import { describeError } from './bindings.js';
import { CliError, ExitCode } from './exit-codes.js';
import { createOutput, print } from './output.js';
import { privilegeErrorFrom } from './privilege.js';

/** The texts main prints for help and version (src/cli/usage.ts, given by the bin's entry). */
export interface About {
  usage: string;
  version: string;
}

export async function main(argv: readonly string[], about: About): Promise<number> {
  const json = argv.includes('--json');
  try {
    const args = parseCommandLine(argv);
    const out = createOutput(args.json);
    switch (args.command) {
      case 'help': print(about.usage); return ExitCode.Ok;
      case 'version': print(`${about.version}\n`); return ExitCode.Ok;
      // Each command loads only what it needs (a usage error should not wait for xstate and the addon).
      case 'up':
      case 'inspect': return await (await import('./commands/up.js')).runUp(args, out);
      case 'status': return await (await import('./commands/status.js')).runStatus(args, out);
      case 'down': return await (await import('./commands/down.js')).runDown(args, out);
      case 'diagram': return (await import('./commands/diagram.js')).runDiagram(out);
      case 'demo': return await (await import('./demo/run.js')).runDemo({ inspectPort: args.inspectPort, out });
    }
  } catch (error) {
    const expected = error instanceof CliError ? error
      : privilegeErrorFrom(error, 'tun-lifecycle')
        ?? (error instanceof TunError || (error as { syscall?: unknown })?.syscall !== undefined
          ? new CliError(describeError(error), ExitCode.Failed) : undefined);
    if (!expected) {
      process.stderr.write(`tun-lifecycle: unexpected error (a bug; please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
      return ExitCode.Failed;
    }
    if (json) process.stderr.write(`${JSON.stringify({ type: 'error', message: expected.message, exitCode: expected.exitCode, hint: expected.hint })}\n`);
    else process.stderr.write(`tun-lifecycle: ${expected.message}\n${expected.hint ? `${expected.hint}\n` : ''}`);
    return expected.exitCode;
  }
}
