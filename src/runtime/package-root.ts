// The course package's root folder: the nearest folder above this module holding the course's
// package.json, whether running from src/, dist/ or another build. In a module of its own so that
// what only needs the path (the catalogue, the workspace) does not load the process machinery.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'global-state-course') return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..', '..');
  }
}
