// Builds a procgate JavaScript guest with componentize-js's componentize()
// API (its CLI needs more care):
//
//   node guests/js/componentize.mjs TOOLCHAIN_DIR WIT_DIR SOURCE_DIR OUT.wasm
//
// SOURCE_DIR holds app.js (the program: a module that exports `run`, the
// wasi:cli/run interface, or a Node script that exports nothing, see
// below), procgate.js and node/ (guests/js/node) beside it. TOOLCHAIN_DIR's node_modules has the
// pinned
// @bytecodealliance/componentize-js and @bytecodealliance/preview2-shim
// (scripts/guests-other-languages.sh installs them).
import { readFile, writeFile } from 'node:fs/promises';
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

// Node's module names, served by guests/js/node/ (copied beside app.js).
const NODE_MODULES = ['child_process', 'events', 'util', 'buffer', 'process', 'timers'];
const nodeModule = (specifier) => {
  const name = specifier?.replace(/^node:/, '');
  return NODE_MODULES.includes(name) ? `./node/${name}.js` : null;
};

// app.js as the guest runs it (written to procgate-entry.js beside it):
//  - 'node:child_process', 'child_process' and the other modules of
//    NODE_MODULES are imported from ./node/ (an import map, applied with
//    es-module-lexer, the lexer componentize-js itself depends on);
//  - a program that exports nothing is a Node script: its top-level code
//    would run while the component is built (componentize-js snapshots the
//    module), so it becomes the body of the guest's `run` (procgate.js's
//    `command`), its static imports hoisted. `require(name)` of those Node
//    modules works in it. Line numbers stay those of app.js: the hoisted
//    imports and the wrapper share its first line.
// A program that exports `run` (procgate.js's `command(main)`) is kept
// as it is, its Node specifiers mapped.
const { init, parse } = await import(pathToFileURL(resolve(toolchain, 'node_modules/es-module-lexer/dist/lexer.js')).href);
await init;
const source = await readFile(resolve(sourceDir, 'app.js'), 'utf8');
const [imports, exports] = parse(source, 'app.js');
const script = exports.length === 0;
let entry = source;
const hoisted = [];
for (const imp of [...imports].sort((a, b) => b.s - a.s)) {
  const target = nodeModule(imp.n);
  if (imp.d === -1 && script) {
    // A static import of a script: hoisted, its lines kept blank.
    let statement = entry.slice(imp.ss, imp.se);
    if (target) statement = statement.slice(0, imp.s - imp.ss) + target + statement.slice(imp.e - imp.ss);
    hoisted.unshift(statement.replace(/\s*\n\s*/g, ' ').replace(/;?$/, ';'));
    entry = entry.slice(0, imp.ss) + entry.slice(imp.ss, imp.se).replace(/[^\n]/g, ' ') + entry.slice(imp.se);
  } else if (target && imp.d !== -2) {
    entry = entry.slice(0, imp.s) + target + entry.slice(imp.e);
  }
}
if (script) {
  const requirable = NODE_MODULES.map((name) => `import * as __procgate_${name} from './node/${name}.js';`);
  // Node's globals `require`, `process`, `Buffer` and the timers, in a scope around
  // the script's own (which may declare the same names).
  const require =
    `const require = (id) => { const m = { ${NODE_MODULES.map((n) => `${n}: __procgate_${n}`).join(', ')} }[String(id).replace(/^node:/, '')]; ` +
    "if (!m) throw new Error(`require('${id}'): only node:child_process, events, util, buffer, process and timers exist in a procgate guest`); " +
    "return typeof m.default === 'function' || m === __procgate_process ? m.default : m; };";
  entry =
    [
      "import { command as __procgate_command } from './procgate.js';",
      ...requirable,
      ...hoisted,
      'export const run = __procgate_command(async () => {',
      require,
      'const process = __procgate_process.default; const Buffer = __procgate_buffer.Buffer;',
      'const { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate } = __procgate_timers;',
      'return (async () => {',
    ].join(' ') +
    entry +
    '\n})(); });\n';
}
await writeFile(resolve(sourceDir, 'procgate-entry.js'), entry);

const { component } = await componentize({
  sourcePath: resolve(sourceDir, 'procgate-entry.js'),
  witPath: resolve(witPath),
  worldName: 'procgate:subprocess/command',
  // A command guest: no HTTP server, no fetch.
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
