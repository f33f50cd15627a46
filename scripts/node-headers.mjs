// Where the running Node's own headers are (node_api.h under <prefix>/include/node),
// so node-gyp builds against them and never downloads any: Debian's nodejs puts
// them in /usr/include/node, the official tarballs and nvm in <prefix>/include/node.
// Shared by the install script's fallback compile and the prebuild script.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The --nodedir for node-gyp, or undefined when this Node came without headers. */
export function localNodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, 'include', 'node', 'node_api.h'))) return configured;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

/** node-gyp's entry: npm's own (npm_config_node_gyp in lifecycle scripts), else the package's devDependency. */
export function nodeGypCommand(requireFrom) {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    return requireFrom.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}
