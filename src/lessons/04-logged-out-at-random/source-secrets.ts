// What an attacker who has read the shop's code tries as its signing secret: every string written
// in it that could be a key. Code gets published, copied and leaked; a secret written in it is
// no secret, whatever it looks like. Read: the app's file, the files of its folder it imports,
// and the folder's .env files (what a repository of the shop holds; never node_modules).
import { createHash } from 'node:crypto';
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
  const found = new Set<string>();
  for (const text of sourceTexts(appFile)) {
    for (const literal of literals(text)) {
      if (couldBeKey(literal)) found.add(literal);
      if (found.size >= MAX_CANDIDATES) return [...found];
    }
  }
  return [...found];
}

/** The texts an attacker who has the shop's repository reads: the app's file, the modules of its folder it imports, its .env files. */
function sourceTexts(appFile: string): string[] {
  const dir = path.dirname(appFile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const texts: string[] = [];
  const queue = [path.basename(appFile), ...names.filter((n) => n.startsWith('.env'))];
  const read = new Set<string>();
  for (const name of queue) {
    if (read.has(name)) continue;
    read.add(name);
    const text = readSmall(path.join(dir, name));
    if (text === undefined) continue;
    texts.push(text);
    // The modules of its own folder it imports: './config.js', require('./keys'), `import settings`.
    for (const match of text.matchAll(/["']\.\/([\w.-]+)["']|^\s*(?:from|import)\s+(\w+)/gm)) {
      const stem = match[1] ?? match[2]!;
      for (const other of names) if (other === stem || other.replace(/\.\w+$/, '') === stem) queue.push(other);
    }
  }
  return texts;
}

/** A key computed from the code's strings, and how a message names it. */
export interface DerivedKey {
  readonly key: string | Buffer;
  readonly say: string;
}

/** Enough for the strings of any app of the course and their lists; a bound for a folder full of other things. */
const MAX_DERIVED_INPUTS = 300;
/** How the strings of a list are joined into one before it is hashed: as .join(...) with these, or "+". */
const SEPARATORS = ['', '/', '-', '_', ':', '.', ' ', ',', '|', ';', '+'];

/**
 * Keys the code computes from its own strings, as its reader computes them again: each unkeyed
 * digest (md5, sha1, sha256, sha512) of each string of the code and of each list of strings
 * written side by side (['corner', 'shop', 'v1'], 'corner' + 'shop') joined with a usual
 * separator, written in hex, base64 or kept as raw bytes. Many (a few thousand at most), so the
 * check tries them offline, against the attacker's own signed cookie, before forging with one.
 */
export function derivedSecrets(appFile: string): DerivedKey[] {
  const inputs = new Set<string>();
  const add = (text: string) => {
    if (inputs.size < MAX_DERIVED_INPUTS && text.length > 0 && text.length <= 200) inputs.add(text);
  };
  for (const text of sourceTexts(appFile)) {
    for (const literal of literals(text)) if (couldBeKey(literal, 1)) add(literal);
    for (const run of literalRuns(text)) {
      // The whole list, and (for short lists) each stretch of two or more of its strings.
      const stretches: string[][] = [run];
      if (run.length <= 5) for (let a = 0; a < run.length; a++) for (let b = a + 2; b <= run.length; b++) if (b - a < run.length) stretches.push(run.slice(a, b));
      for (const stretch of stretches) for (const separator of SEPARATORS) add(stretch.join(separator));
    }
  }
  const keys: DerivedKey[] = [];
  for (const input of inputs) {
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512']) {
      const bytes = createHash(algorithm).update(input, 'utf8').digest();
      const name = `${algorithm}("${input}")`;
      keys.push(
        { key: bytes.toString('hex'), say: `${name} in hex` },
        { key: bytes.toString('base64'), say: `${name} in base64` },
        { key: bytes.toString('base64url'), say: `${name} in base64url` },
        { key: bytes, say: `the bytes of ${name}` },
      );
    }
  }
  return keys;
}

/** Strings written side by side in a list or joined with "+": ['corner', 'shop'], "a" + "b". */
function literalRuns(text: string): string[][] {
  const runs: string[][] = [];
  let run: string[] = [];
  let end = -1;
  for (const match of text.matchAll(LITERAL)) {
    const value = unquote(match);
    if (value === undefined) {
      if (run.length >= 2) runs.push(run);
      run = [];
      end = -1;
      continue;
    }
    const between = end < 0 ? '' : text.slice(end, match.index);
    if (end < 0 || !/^\s*[,+]\s*$/.test(between)) {
      if (run.length >= 2) runs.push(run);
      run = [];
    }
    run.push(value);
    end = match.index + match[0].length;
  }
  if (run.length >= 2) runs.push(run);
  return runs.filter((r) => r.length <= 12);
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
const LITERAL = /(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g;

/** A quoted string's text; undefined for a template with a placeholder. */
function unquote(match: RegExpMatchArray): string | undefined {
  if (match[1] === '`' && match[2]!.includes('${')) return undefined;
  return match[2]!.replace(/\\(.)/g, '$1');
}

function* literals(text: string): Generator<string> {
  for (const match of text.matchAll(LITERAL)) {
    const value = unquote(match);
    if (value !== undefined) yield value;
  }
  // KEY=value lines of a .env file
  for (const match of text.matchAll(/^[A-Z_][A-Z0-9_]*=([^\s"'#][^\n#]*)$/gm)) yield match[1]!.trim();
}

function couldBeKey(text: string, shortest = 4): boolean {
  if (text.length < shortest || text.length > 200) return false;
  if (/[<>\n]/.test(text)) return false; // markup
  if (/^(?:\/|\.\.?\/|node:|https?:)/.test(text)) return false; // routes, paths, modules, addresses
  if (/^\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|BEGIN|COMMIT|WITH)\b/i.test(text)) return false;
  return true;
}
