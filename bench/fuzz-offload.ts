// The native fuzz run of the segmentation code (issue 12): builds
// fuzz/offload_fuzz.cc with clang's libFuzzer and AddressSanitizer +
// UndefinedBehaviorSanitizer against native/offload/*.cc into bench/.out/,
// runs it for --runs inputs (default 10,000,000) split over --jobs processes
// (default 2) on a fresh corpus, and prints one markdown table row: runs,
// seconds, inputs/s, result. Exits 1 on any crash or broken invariant (the
// crashing input is left in bench/.out/fuzz-offload/).
//
// Needs clang (Debian: apt-get install -y clang). CPU-bound: run it with
// `nice -n 19 node dist/bench/fuzz-offload.js` on a shared machine.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cOutDir, repoRoot } from './lib/paths.js';
import { markdownTable } from './lib/stats.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} wants a positive integer`);
  return value;
}

const runs = option('runs', 10_000_000);
const jobs = option('jobs', 2);
const maxLen = option('max-len', 2048);

const sources = ['checksum', 'vnet_hdr', 'split', 'coalesce'].map((name) => path.join(repoRoot, 'native', 'offload', `${name}.cc`));
const work = path.join(cOutDir, 'fuzz-offload');
const binary = path.join(cOutDir, 'offload_fuzz');
rmSync(work, { recursive: true, force: true });
mkdirSync(path.join(work, 'corpus'), { recursive: true });

execFileSync(
  'clang++',
  ['-std=c++17', '-g', '-O2', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined',
    path.join(repoRoot, 'fuzz', 'offload_fuzz.cc'), ...sources, '-o', binary],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);

// One libFuzzer process per job, each with its share of the runs, sharing the corpus.
const perJob = Math.ceil(runs / jobs);
const started = process.hrtime.bigint();
const exits = await Promise.all(
  Array.from({ length: jobs }, (_, job) => new Promise<number>((resolve) => {
    const child = spawn(binary, [`-runs=${perJob}`, `-max_len=${maxLen}`, '-print_final_stats=1',
      `-artifact_prefix=${work}/`, path.join(work, 'corpus')], {
      cwd: work,
      env: { ...process.env, ASAN_OPTIONS: 'quarantine_size_mb=8:malloc_context_size=2:abort_on_error=0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.length > 1 << 20) log = log.slice(-(1 << 19));
    });
    child.on('close', (code) => {
      const done = /Done (\d+) runs in (\d+) second/.exec(log);
      if (code !== 0 || !done) process.stderr.write(`job ${job}:\n${log.slice(-4000)}\n`);
      resolve(code === 0 && done ? Number(done[1]) : -1);
    });
  })),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const crashes = readdirSync(work).filter((f) => /^(crash|leak|timeout|oom)-/.test(f));
const done = exits.filter((n) => n >= 0).reduce((a, b) => a + b, 0);
const ok = exits.every((n) => n >= 0) && crashes.length === 0;
const corpus = readdirSync(path.join(work, 'corpus')).length;

console.log(markdownTable(
  ['fuzz run', 'inputs', 'seconds', 'inputs/s', 'corpus', 'result'],
  [[
    `offload Split + Coalesce (libFuzzer, ASan+UBSan, ${jobs} job${jobs > 1 ? 's' : ''})`,
    done.toLocaleString('en-US'),
    seconds.toFixed(0),
    Math.round(done / seconds).toLocaleString('en-US'),
    String(corpus),
    ok ? 'no crash, no invariant broken' : `FAILED: ${crashes.join(', ') || 'a job did not finish'}`,
  ]],
));
if (!ok) {
  for (const crash of crashes) {
    const file = path.join(work, crash);
    if (existsSync(file)) console.error(`${file}: ${readFileSync(file).toString('base64')}`);
  }
  process.exit(1);
}
