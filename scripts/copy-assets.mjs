// After tsc: copy the lessons' Markdown next to their compiled modules, and mark the bin executable.
import { chmodSync, cpSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const src = path.resolve('src');
const dist = path.resolve('dist');

function copyMarkdown(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) copyMarkdown(full);
    else if (name.endsWith('.md')) cpSync(full, path.join(dist, path.relative(src, full)));
  }
}

copyMarkdown(src);
chmodSync(path.join(dist, 'cli.js'), 0o755);
