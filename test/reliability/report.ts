#!/usr/bin/env node
// Prints the reliability table (Markdown, for the README) from the figures the
// reliability and model suites recorded in their last run:
//   node scripts/run-tests.mjs dist/test/model/*.test.js dist/test/reliability/*.test.js
//   node dist/test/reliability/report.js
// Every number is what a test did and observed; a section that did not run
// says so rather than showing a number.

import { RESULTS_FILE, readResults } from './results.js';

const ROWS: Array<[key: string, label: string, unit: string]> = [
  ['model-coverage', 'Model: statechart coverage', 'states + transitions'],
  ['model-simulated', 'Model paths replayed (simulated binding)', 'paths'],
  ['model-native', 'Model paths replayed (native, in a namespace)', 'paths'],
  ['soak', 'Soak: create/cleanup cycles (native)', 'cycles'],
  ['cleanup-faults', 'Cleanup steps failing once / always / hanging', 'faults injected'],
  ['signals', 'Signals and crashes in child processes', 'signals/crashes'],
  ['privilege', 'Without CAP_NET_ADMIN', 'runs'],
  ['fuzz-simulated', 'Fuzzing, fast-check (simulated binding)', 'runs'],
  ['fuzz-native', 'Fuzzing, fast-check (native binding)', 'runs'],
  ['bad-input', 'Bad input (names, options, addresses, routes, packets, API misuse)', 'inputs'],
  ['workers', 'worker_threads (4 at once, 1 terminated mid-traffic)', 'workers'],
];

const results = readResults();
if (Object.keys(results).length === 0) {
  console.error(`reliability-report: no results in ${RESULTS_FILE}; run the suites first:\n  node scripts/run-tests.mjs dist/test/model/*.test.js dist/test/reliability/*.test.js`);
  process.exit(1);
}

const escape = (text: string) => text.replace(/\|/g, '\\|');
const lines = [
  '| Check | Tried | Held | Leaks found | Details |',
  '|---|---:|---:|---:|---|',
];
let totalLeaks = 0;
let allHeld = true;
for (const [key, label, unit] of ROWS) {
  const r = results[key];
  if (!r) {
    lines.push(`| ${label} | — | — | — | not run |`);
    allHeld = false;
    continue;
  }
  totalLeaks += r.leaks;
  if (r.held !== r.tried) allHeld = false;
  lines.push(`| ${label} | ${r.tried} ${unit} | ${r.held} | ${r.leaks} | ${escape(r.notes)} |`);
}
const newest = Object.values(results).map((r) => r.at).sort().at(-1);
console.log(lines.join('\n'));
console.log('');
console.log(`Leaks found in total: ${totalLeaks}. ${allHeld ? 'Every check held.' : 'Not every check held or ran (see above).'} Latest run: ${newest}.`);
