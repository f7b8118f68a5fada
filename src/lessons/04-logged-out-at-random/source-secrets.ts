// What an attacker who has read the shop's code tries as its signing secret: every string written
// in it that could be a key. Code gets published, copied and leaked; a secret written in it is
// no secret, whatever it looks like. Read: the app's file, the files of its folder it imports,
// and the folder's .env files (what a repository of the shop holds; never node_modules).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const MAX_FILE_BYTES = 256 * 1024;
/** Enough for any app of the course; a bound for an app folder full of other things. */
const MAX_CANDIDATES = 200;

/**
 * The string literals in the app's folder that could be a key: 4 to 200 characters on one line,
 * not a route, a module name, SQL or markup. In the order they appear, without repeats.
 */
export function secretsInSource(appFile: string): string[] {
  const dir = path.dirname(appFile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found = new Set<string>();
  const queue = [path.basename(appFile), ...names.filter((n) => n.startsWith('.env'))];
  const read = new Set<string>();
  for (const name of queue) {
    if (read.has(name)) continue;
    read.add(name);
    const text = readSmall(path.join(dir, name));
    if (text === undefined) continue;
    // The modules of its own folder it imports: './config.js', require('./keys'), `import settings`.
    for (const match of text.matchAll(/["']\.\/([\w.-]+)["']|^\s*(?:from|import)\s+(\w+)/gm)) {
      const stem = match[1] ?? match[2]!;
      for (const other of names) if (other === stem || other.replace(/\.\w+$/, '') === stem) queue.push(other);
    }
    for (const literal of literals(text)) {
      if (couldBeKey(literal)) found.add(literal);
      if (found.size >= MAX_CANDIDATES) return [...found];
    }
  }
  return [...found];
}

function readSmall(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return stat.isFile() && stat.size <= MAX_FILE_BYTES ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** The quoted strings of JavaScript, Python and settings files: '...', "...", `...` without ${}. */
function* literals(text: string): Generator<string> {
  const pattern = /(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g;
  for (const match of text.matchAll(pattern)) {
    if (match[1] === '`' && match[2]!.includes('${')) continue;
    yield match[2]!.replace(/\\(.)/g, '$1');
  }
  // KEY=value lines of a .env file
  for (const match of text.matchAll(/^[A-Z_][A-Z0-9_]*=([^\s"'#][^\n#]*)$/gm)) yield match[1]!.trim();
}

function couldBeKey(text: string): boolean {
  if (text.length < 4 || text.length > 200) return false;
  if (/[<>\n]/.test(text)) return false; // markup
  if (/^(?:\/|\.\.?\/|node:|https?:)/.test(text)) return false; // routes, paths, modules, addresses
  if (/^\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|BEGIN|COMMIT|WITH)\b/i.test(text)) return false;
  return true;
}
