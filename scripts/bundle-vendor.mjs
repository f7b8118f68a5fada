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

await build({
  stdin: { contents: "export * from 'execa';", resolveDir: root, sourcefile: 'execa-entry.js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  outfile: path.join(root, 'dist', 'vendor', 'execa.js'),
  legalComments: 'inline',
  logLevel: 'warning',
});
await build({
  stdin: { contents: "module.exports = require('express');", resolveDir: root, sourcefile: 'express-entry.js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  outfile: path.join(root, 'dist', 'vendor', 'express.cjs'),
  legalComments: 'inline',
  logLevel: 'warning',
});
console.log('bundled execa and express into dist/vendor/');
