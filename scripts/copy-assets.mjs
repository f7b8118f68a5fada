// Part of `npm run build`: copy the files tsc does not emit (the lessons' Markdown, the Python host) from src/
// to dist/, at the same relative paths, so `markdown(import.meta.url, 'text.md')` finds them;
// and mark the bin executable.
import { chmodSync, cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');
const ASSET = /\.(md|json|py)$/;

let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !ASSET.test(entry.name)) continue;
  const from = path.join(entry.parentPath, entry.name);
  cpSync(from, path.join(dist, path.relative(src, from)));
  copied++;
}
console.log(`copied ${copied} asset${copied === 1 ? '' : 's'} to dist/`);
chmodSync(path.join(dist, 'cli.js'), 0o755);
