// The course package's root folder, whether running from src/ or dist/. In a module of its own so
// that what only needs the path (the catalogue, the workspace) does not load the process machinery.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
