// The naive-Node baseline: what a Node program does with a TUN fd and nothing
// but the fs module — one fs.read (or fs.write) at a time on a blocking fd,
// each a threadpool round trip. bench/c/tun_rw.c `exec` opens the TUN (Node
// cannot issue TUNSETIFF) and hands it over as fd 3.
//   node naive-tun.js read IDLE_MS MAX_S
//   node naive-tun.js write SECONDS PAYLOAD SRC DST DPORT
// Prints "ready", then one JSON line like the C loop's.
import fs from 'node:fs';
import { buildUdp4 } from './packet.js';

const TUN_FD = 3;

function readLoop(idleMs: number, maxS: number): void {
  const buf = Buffer.alloc(65536);
  let packets = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const finish = () => {
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    console.log(JSON.stringify({ packets, bytes, seconds: packets ? (last - first) / 1000 : 0, cpuSeconds }));
    // The last fs.read stays parked in a threadpool thread, blocked in the
    // kernel, and libuv joins its threads at exit: a normal exit would hang
    // (this is the close-hangs problem of thread-per-device TUN packages).
    // stdout is a pipe (synchronous on Linux), so the line is out; end hard.
    process.kill(process.pid, 'SIGKILL');
  };
  setInterval(() => {
    const t = performance.now();
    if ((packets && t - last > idleMs) || t - start > maxS * 1000) finish();
  }, 20);
  const next = () =>
    fs.read(TUN_FD, buf, 0, buf.length, null, (err, n) => {
      if (err) throw err;
      last = performance.now();
      if (!packets) first = last;
      packets++;
      bytes += n;
      next();
    });
  console.log('ready');
  next();
}

function writeLoop(seconds: number, payload: number, src: string, dst: string, dport: number): void {
  const pkt = buildUdp4(src, dst, 40000, dport, payload);
  let packets = 0;
  let errors = 0;
  console.log('ready');
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  const next = () =>
    fs.write(TUN_FD, pkt, 0, pkt.length, null, (err) => {
      if (err) errors++;
      else packets++;
      const t = performance.now();
      if (t < end) return next();
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      console.log(JSON.stringify({ packets, bytes: packets * pkt.length, errors, seconds: (t - start) / 1000, cpuSeconds }));
      process.exit(0);
    });
  next();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'read') readLoop(Number(args[0]), Number(args[1]));
else if (mode === 'write') writeLoop(Number(args[0]), Number(args[1]), args[2]!, args[3]!, Number(args[4]));
else {
  console.error('usage: naive-tun.js read IDLE_MS MAX_S | write SECONDS PAYLOAD SRC DST DPORT');
  process.exit(2);
}
