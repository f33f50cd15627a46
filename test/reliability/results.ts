// What the reliability suites measured, kept for the report script
// (test/reliability/report.ts): each suite merges its figures into one JSON
// file beside the compiled tests. Figures are only ever what a test really
// did and observed, recorded after its assertions passed or failed.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = fileURLToPath(new URL('./reliability-results.json', import.meta.url));

export interface SectionResult {
  /** What was exercised (cycles, faults, signals, inputs, runs). */
  tried: number;
  /** How many of them held (no leak, no crash, the expected outcome). */
  held: number;
  /** Leaks found (interfaces, addresses, routes, fds left). */
  leaks: number;
  /** Free text: timings, memory, counts worth a line. */
  notes: string;
  at: string;
}

export type Results = Record<string, SectionResult>;

export function readResults(file = RESULTS_FILE): Results {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Results;
  } catch {
    return {};
  }
}

export function recordResult(section: string, result: Omit<SectionResult, 'at'>, file = RESULTS_FILE): void {
  const all = readResults(file);
  all[section] = { ...result, at: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}
