// The package as a TypeScript consumer sees it: a small project importing
// 'tun-lifecycle' through its package.json "exports" (the built .d.ts),
// compiled with the settings the README's quick start gives (strict,
// exactOptionalPropertyTypes, module NodeNext, lib with ESNext.Disposable,
// types node). Its @ts-expect-error lines (a misspelled option, a wrong value
// type, a misspelled event, a listener of the wrong shape) must each fail to
// compile: the project compiles with zero errors, and with one of those lines
// made valid it no longer does. Also: require('tun-lifecycle') from CommonJS.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'consumer');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** A project dir whose node_modules holds tun-lifecycle (this package) and @types/node. */
function makeConsumer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tun-consumer-'));
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'tun-lifecycle'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  copyFileSync(join(FIXTURE, 'app.ts.txt'), join(dir, 'app.ts'));
  copyFileSync(join(FIXTURE, 'tsconfig.json.txt'), join(dir, 'tsconfig.json'));
  copyFileSync(join(FIXTURE, 'package.json.txt'), join(dir, 'package.json'));
  return dir;
}

async function compile(dir: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the package from a TypeScript and a CommonJS consumer', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = makeConsumer(); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles with the README settings, every @ts-expect-error line (bad option, value, event, listener) refused', async () => {
    const result = await compile(dir);
    expect(result.output, 'tsc output').to.equal('');
    expect(result.ok).to.equal(true);
  });

  it('a misspelled event made right leaves its @ts-expect-error unused: the compile fails', async () => {
    const app = join(dir, 'app.ts');
    const source = readFileSync(app, 'utf8');
    expect(source).to.include("tun.on('pakcet'");
    writeFileSync(app, source.replace("tun.on('pakcet'", "tun.on('packet'"));
    try {
      const result = await compile(dir);
      expect(result.ok).to.equal(false);
      expect(result.output).to.match(/Unused '@ts-expect-error' directive/);
    } finally {
      writeFileSync(app, source);
    }
  });

  it("require('tun-lifecycle') works from CommonJS (require of an ES module)", async () => {
    const script = "const t = require('tun-lifecycle'); process.stdout.write(JSON.stringify([typeof t.createAdapter, typeof t.createNativeBinding, typeof t.TunError]))";
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: dir });
    expect(JSON.parse(stdout)).to.deep.equal(['function', 'function', 'function']);
  });
});
