// Node's compile cache for the course's own processes (the command, its workers): the code of
// the course and of its libraries (execa, express, ...) is compiled once per Node version and
// read back on the next start. It lives in the user's cache folder
// ($XDG_CACHE_HOME or ~/.cache, then global-state-course/compile-cache), made private to the user;
// a folder that is a link or someone else's is left alone. Whatever fails, the course runs
// without the cache. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as for any Node program.
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The course's folder in the user's cache, or undefined when there is no home to put it in. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'global-state-course');
  const home = os.homedir();
  return home && path.isAbsolute(home) ? path.join(home, '.cache', 'global-state-course') : undefined;
}

/** A folder this user owns, not a link, not writable by others: creates it (private) when missing. */
function privateFolder(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.isSymbolicLink()) return false;
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return false;
  return (stat.mode & 0o022) === 0;
}

/** Turn Node's compile cache on for this process (modules loaded from now on); the folder it uses, if any. */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    if (typeof module.enableCompileCache !== 'function') return undefined;
    const base = userCacheDir(env);
    if (!base) return undefined;
    const dir = path.join(base, 'compile-cache');
    if (!privateFolder(dir)) return undefined;
    const result = module.enableCompileCache(dir);
    return result.directory ?? undefined;
  } catch {
    return undefined;
  }
}
