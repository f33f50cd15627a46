// Optional peer dependencies: packages only one feature needs (Stately's
// inspector needs @statelyai/inspect and ws), so a plain install does not
// carry them. Importing one that is not installed fails with one line that
// names the feature and the install command, instead of a resolver trace.

export class MissingPeerError extends Error {
  readonly code = 'ERR_TUN_MISSING_PEER';
  constructor(readonly specifier: string, feature: string, install: string, options?: ErrorOptions) {
    super(`${feature} needs ${specifier}, which is not installed: run \`${install}\``, options);
    this.name = 'MissingPeerError';
  }
}

import { importModule, type Importer } from '../load/dynamic-import.js';

/** How a module is imported; a seam so a test can stand in for a resolver that finds nothing. */
export type { Importer };

/** import(specifier), or a MissingPeerError when that very package cannot be found (other failures pass through). */
export async function importPeer<T>(specifier: string, feature: string, install: string, importer: Importer = importModule): Promise<T> {
  try {
    return await importer(specifier) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${specifier}'`);
    if (missing) throw new MissingPeerError(specifier, feature, install, { cause: error });
    throw error;
  }
}
