// Compiles the C baselines with `cc -O2` into bench/.out/ at run time, so the
// limit we compare against is built on the machine it is measured on.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { cSourceDir, cOutDir } from './paths.js';

/** Returns the path of the compiled program, rebuilding it when its source is newer. */
export function buildC(name: string): string {
  mkdirSync(cOutDir, { recursive: true });
  const source = path.join(cSourceDir, `${name}.c`);
  const header = path.join(cSourceDir, 'common.h');
  const out = path.join(cOutDir, name);
  const newest = Math.max(statSync(source).mtimeMs, existsSync(header) ? statSync(header).mtimeMs : 0);
  if (!existsSync(out) || statSync(out).mtimeMs < newest) {
    execFileSync('cc', ['-O2', '-Wall', '-o', out, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return out;
}
