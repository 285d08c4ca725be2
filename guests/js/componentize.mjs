// Builds a procgate JavaScript guest with componentize-js's componentize()
// API (its CLI needs more care):
//
//   node guests/js/componentize.mjs TOOLCHAIN_DIR WIT_DIR SOURCE_DIR OUT.wasm
//
// SOURCE_DIR holds app.js (the program: it exports `run`, the wasi:cli/run
// interface) and procgate.js beside it. TOOLCHAIN_DIR's node_modules has the
// pinned
// @bytecodealliance/componentize-js and @bytecodealliance/preview2-shim
// (scripts/guests-other-languages.sh installs them).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [toolchain, witPath, sourceDir, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node componentize.mjs TOOLCHAIN_DIR WIT_DIR SOURCE_DIR OUT.wasm');
  process.exit(2);
}
const modules = resolve(toolchain, 'node_modules/@bytecodealliance');
// componentize-js's splicer is a WASI program run on preview2-shim, which
// since 0.2x starts with no preopened directory: give it the filesystem it
// reads the WIT and the sources from.
const { _setPreopens } = await import(pathToFileURL(resolve(modules, 'preview2-shim/dist/nodejs/filesystem.js')).href);
_setPreopens({ '/': '/' });
const { componentize } = await import(
  pathToFileURL(resolve(modules, 'componentize-js/src/componentize.js')).href
);

const { component } = await componentize({
  sourcePath: resolve(sourceDir, 'app.js'),
  witPath: resolve(witPath),
  worldName: 'procgate:subprocess/command',
  // A command guest: no HTTP server, no fetch.
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
