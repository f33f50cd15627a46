// `npm run bench`: runs every bench in sequence (each in its own private
// network namespace, as its own process), prints their tables, and writes the
// whole to bench/RESULTS.md for the README.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { machineDescription } from './lib/machine.js';
import { distBenchDir, repoRoot } from './lib/paths.js';

const BENCHES = ['throughput', 'lifecycle', 'adapter', 'tunnel', 'cold-start', 'reconfigure'];

if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.log('bench: root is needed (the benches create TUN interfaces in private network namespaces); no tables.');
  process.exit(0);
}

const sections: string[] = [];
let allRan = true;
for (const name of BENCHES) {
  process.stderr.write(`== bench: ${name}\n`);
  const started = Date.now();
  const child = spawnSync(process.execPath, [path.join(distBenchDir, `${name}.js`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const out = (child.stdout ?? '').trim();
  process.stderr.write(`== bench: ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (child.status !== 0 || !out.startsWith('#')) {
    allRan = false;
    sections.push(`### ${name}\n\nNo table: ${out || `exited with ${child.status ?? child.signal}`}`);
  } else if (/native binding unavailable|No table:/.test(out)) {
    // A table without the binding's rows must not replace a complete one.
    allRan = false;
    sections.push(out);
  } else {
    sections.push(out);
  }
}

const report = [
  '# Benchmark results',
  '',
  `Produced by \`npm run bench\` (bench/run-all.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  `Machine: ${machineDescription()}. Each bench runs in a private network namespace; baselines are measured in the same run.`,
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');

console.log(report);
if (allRan) {
  writeFileSync(path.join(repoRoot, 'bench', 'RESULTS.md'), report);
  process.stderr.write('written to bench/RESULTS.md\n');
} else {
  process.stderr.write('some bench produced no table or ran without the native binding; bench/RESULTS.md left as it was\n');
  process.exitCode = 1;
}
