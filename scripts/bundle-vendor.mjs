// Part of `npm run build`: one-file copies of libraries made of many small modules, which the
// course loads on every start. Node resolves, reads and links each module on its own; for these
// that was most of the cost. Each copy is the library itself, bundled as it is.
// - execa (about 110 ES modules, a third of the command's start): src/runtime/processes/execa.ts
//   loads the copy, and the package when there is none (running from src/).
// - express (about 60 CommonJS modules, a quarter of a worker's boot): every worker preloads the
//   copy and gives it to the learner's `import express from 'express'` (src/runtime/worker-main.ts),
//   and the package when there is none.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle `contents` (an entry importing the library) into dist/vendor/`name`. */
function bundle(name, contents, format) {
  return build({
    stdin: { contents, resolveDir: root, sourcefile: `${name}-entry.js` },
    bundle: true,
    platform: 'node',
    format,
    target: 'node22',
    outfile: path.join(root, 'dist', 'vendor', name),
    legalComments: 'inline',
    logLevel: 'warning',
  });
}

await bundle('execa.js', "export * from 'execa';", 'esm');
await bundle('express.cjs', "module.exports = require('express');", 'cjs');
console.log('bundled execa and express into dist/vendor/');
