// The machine a table was measured on, printed above every table.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineDescription(): string {
  let cpu = 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    /* not Linux-like; keep 'unknown' */
  }
  return `${os.availableParallelism()} cores (nproc), ${cpu}, Linux ${os.release()}, Node ${process.version}`;
}
