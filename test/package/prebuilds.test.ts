// The prebuilt addons the package ships (scripts/prebuild.mjs): each is an ELF
// shared object for its machine (e_machine 62 x86-64, 183 AArch64), needs only
// libc, libm, libgcc_s and libstdc++, and only symbol versions the glibc /
// libstdc++ floor recorded in the README has. Read with binutils (objdump -T,
// readelf -d; .ci/run installs them); without binutils the symbol check is
// skipped loudly, and under CI=true it fails instead.

import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CI = process.env.CI === 'true' || process.env.CI === '1';
const FILE = 'tun-lifecycle.napi.glibc.node';
const MACHINES = { x64: 62, arm64: 183 } as const;

/** The floor the README states: the newest version of each symbol namespace a prebuild may need. */
const FLOOR: Record<string, string> = { GLIBC: '2.32', GLIBCXX: '3.4.29', CXXABI: '1.3.13', GCC: '7.0.0' };
const LIBRARIES = ['libc.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libstdc++.so.6'];

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function elfHeader(file: string): { class64: boolean; littleEndian: boolean; type: number; machine: number } {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(20);
  try {
    readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  expect(head.subarray(0, 4).toString('latin1'), `${file} is an ELF file`).to.equal('\x7fELF');
  return { class64: head[4] === 2, littleEndian: head[5] === 1, type: head.readUInt16LE(16), machine: head.readUInt16LE(18) };
}

const haveBinutils = !spawnSync('objdump', ['--version']).error && !spawnSync('readelf', ['--version']).error;

describe('package: the prebuilt addons', () => {
  for (const [arch, machine] of Object.entries(MACHINES)) {
    const file = join(ROOT, 'prebuilds', `linux-${arch}`, FILE);

    it(`prebuilds/linux-${arch} is a 64-bit little-endian ELF shared object for e_machine ${machine}`, () => {
      expect(existsSync(file), `${file} (built by node scripts/prebuild.mjs)`).to.equal(true);
      expect(elfHeader(file)).to.deep.equal({ class64: true, littleEndian: true, type: 3 /* ET_DYN */, machine });
    });

    it(`prebuilds/linux-${arch} needs only ${LIBRARIES.join(', ')} and symbol versions at or below the README's floor`, function () {
      if (!haveBinutils) {
        if (CI) throw new Error('objdump/readelf (binutils) are missing: .ci/run installs them');
        process.stderr.write('\n!!! PREBUILD SYMBOL CHECK SKIPPED: binutils (objdump, readelf) not found. Under CI=true it fails instead.\n\n');
        this.skip();
      }
      const needed = [...execFileSync('readelf', ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/gu)].map((m) => m[1]!);
      expect(needed).to.include('libc.so.6');
      expect(needed.filter((lib) => !LIBRARIES.includes(lib)), 'libraries beyond libc and libstdc++').to.deep.equal([]);
      const versions = new Set([...execFileSync('objdump', ['-T', file], { encoding: 'utf8' }).matchAll(/\b([A-Z]+)_(\d+(?:\.\d+)*)\b/gu)]
        .map((m) => `${m[1]}_${m[2]}`));
      expect(versions.size, 'objdump found versioned symbols').to.be.greaterThan(0);
      const beyond = [...versions].filter((v) => {
        const [space, version] = v.split('_') as [string, string];
        return FLOOR[space] === undefined || compareVersions(version, FLOOR[space]!) > 0;
      });
      expect(beyond, 'symbol versions newer than the floor, or from elsewhere').to.deep.equal([]);
    });
  }

  it('the README states the same floor', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).to.contain(`glibc ≥ ${FLOOR.GLIBC}`);
    expect(readme).to.contain(`GLIBCXX_${FLOOR.GLIBCXX}`);
  });
});
