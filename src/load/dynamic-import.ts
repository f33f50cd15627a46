// import() for the package's own code. Loaded through the code cache
// (src/load/core.ts), that code runs inside a vm.Script, where import() has
// no loader to ask: Node 20 keeps no dynamic-import callback in code taken
// from cached data (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), and the option
// that gives one (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER) prints an
// experimental warning. So the loader, an ES module beside core.cjs (bare
// specifiers resolve alike from both), hands in its own import(). Elsewhere
// (dist/src, the bundle loaded by require) the plain import() is used.

export type Importer = (specifier: string) => Promise<unknown>;

let importer: Importer = (specifier) => import(specifier);

/** import(specifier), through the importer in use. */
export function importModule<T = unknown>(specifier: string): Promise<T> {
  return importer(specifier) as Promise<T>;
}

/** Called once by the loader, before anything imports. */
export function useImporter(next: Importer): void {
  importer = next;
}
