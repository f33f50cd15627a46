// The binding is the ground floor (the README's "Where things are"): it
// imports nothing from the rooms that use it, its contract imports neither
// binding, and the native binding never loads the twin. Read from the sources,
// so a new import that breaks a rule fails here, not in a reviewer's head.

import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bindingDir = join(root, 'src', 'binding');

/** Every .ts file under dir, recursively. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The module specifiers a source names: static imports and re-exports, side-effect imports, import('…'). */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

interface Import {
  file: string;
  specifier: string;
  /** the imported file, relative to the repository root, for a relative specifier */
  target: string | undefined;
}

function importsUnder(dir: string): Import[] {
  return sourcesUnder(dir).flatMap((file) => specifiersOf(readFileSync(file, 'utf8')).map((specifier) => ({
    file: relative(root, file),
    specifier,
    target: specifier.startsWith('.') ? relative(root, resolve(dirname(file), specifier)) : undefined,
  })));
}

function outside(imports: Import[], allowedPrefix: string): string[] {
  return imports
    .filter((i) => i.target === undefined ? !i.specifier.startsWith('node:') : !i.target.startsWith(allowedPrefix))
    .map((i) => `${i.file} imports ${i.specifier}`);
}

describe('the binding import rules', () => {
  it('finds the imports it checks (a static import, a multi-line one, a re-export, an import())', () => {
    const source = "import { a } from './a.js';\nimport {\n  b,\n} from '../b.js';\nexport type { C } from './c.js';\n" +
      "import 'node:fs';\nconst m = await import('./d.js');";
    expect(specifiersOf(source).sort()).to.deep.equal(['../b.js', './a.js', './c.js', './d.js', 'node:fs']);
    expect(importsUnder(join(bindingDir, 'contract')).length, 'the contract folder has imports to check').to.be.greaterThan(5);
  });

  it('src/binding/ imports only itself and node: builtins (not src/lifecycle, src/adapter, machines, packages)', () => {
    expect(outside(importsUnder(bindingDir), join('src', 'binding') + '/')).to.deep.equal([]);
  });

  it('the contract imports neither binding', () => {
    expect(outside(importsUnder(join(bindingDir, 'contract')), join('src', 'binding', 'contract') + '/')).to.deep.equal([]);
  });

  it('the native binding never imports the simulated twin', () => {
    const twin = join('src', 'binding', 'simulated') + '/';
    const offenders = importsUnder(join(bindingDir, 'native')).filter((i) => i.target?.startsWith(twin));
    expect(offenders.map((i) => `${i.file} imports ${i.specifier}`)).to.deep.equal([]);
  });
});
