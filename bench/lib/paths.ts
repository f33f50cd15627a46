// Where things live, resolved from this compiled file (dist/bench/lib/*.js),
// so the benches work from any working directory.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (the directory holding package.json). */
export const repoRoot = path.resolve(here, '..', '..', '..');
/** C sources of the baselines. */
export const cSourceDir = path.join(repoRoot, 'bench', 'c');
/** Where the baselines are compiled to (gitignored). */
export const cOutDir = path.join(repoRoot, 'bench', '.out');
/** Compiled bench scripts. */
export const distBenchDir = path.resolve(here, '..');
