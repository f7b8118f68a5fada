// Edits an attacker makes to her own session cookie when it does not name her in any way the
// check can read: a number in it moved a little (the session before hers, the one after), and a
// digest of her name (md5, sha1, sha256, sha512, with no key) replaced by the same digest of her
// victim's. Shared by lesson 4 (sessions) and lesson 9 (the capstone's sign-in). A right app
// refuses every one of them: its ids are random, its cookie signed with a key nobody outside the
// host has.
import { createHash } from 'node:crypto';

/** One cookie value edited, and what the edit was, for a message. */
export interface CookieEdit {
  readonly what: string;
  readonly value: string;
}

export const DIGESTS = ['md5', 'sha1', 'sha256', 'sha512'] as const;

/** How a digest is written: its bytes as text. */
const FORMS = {
  hex: (bytes: Buffer) => bytes.toString('hex'),
  'upper-case hex': (bytes: Buffer) => bytes.toString('hex').toUpperCase(),
  base64: (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, ''),
  base64url: (bytes: Buffer) => bytes.toString('base64url'),
} as const;

/** Every unkeyed digest of `text`, written in each form: what anyone computes in one line. */
export function digestsOf(text: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const algorithm of DIGESTS) {
    const bytes = createHash(algorithm).update(text, 'utf8').digest();
    for (const [form, write] of Object.entries(FORMS)) out.push({ name: `${algorithm}("${text}") in ${form}`, value: write(bytes) });
  }
  return out;
}

/** A cookie's value with its URL-encoding taken off (as it was, when it is not URL-encoded). */
export function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Text a person could read and edit: no control characters, no bytes that are not UTF-8. */
const readable = (text: string): boolean => text.length > 0 && !/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(text);

/**
 * The ways to read a cookie value as text and write it back: the value itself (URL-decoded when
 * it was encoded), and each "."/":"-separated piece written in base64 or base64url that reads as
 * text (a JSON session, a token's body).
 */
function views(value: string): Array<{ text: string; write: (edited: string) => string }> {
  const text = decode(value);
  const encode = (t: string) => (text === value ? t : encodeURIComponent(t));
  const out = [{ text, write: encode }];
  const parts = text.split(/([.:])/);
  parts.forEach((part, i) => {
    if (part.length < 8 || !/^[A-Za-z0-9+/_-]+=*$/.test(part)) return;
    const urlSafe = /[-_]/.test(part);
    const inside = Buffer.from(part, urlSafe ? 'base64url' : 'base64').toString('utf8');
    if (!readable(inside)) return;
    const again = (t: string) => {
      const encoded = Buffer.from(t, 'utf8').toString(urlSafe ? 'base64url' : 'base64');
      return part.endsWith('=') ? encoded : encoded.replace(/=+$/, '');
    };
    if (again(inside) !== part) return; // not a faithful reading
    out.push({ text: inside, write: (edited) => encode([...parts.slice(0, i), again(edited), ...parts.slice(i + 1)].join('')) });
  });
  return out;
}

/** At most this many numbers of one cookie are moved: enough for an id, a user number and a counter. */
const MAX_NUMBERS = 4;

/**
 * The cookie value with each number written in it (a whole run of digits, not part of a word or
 * of a random id) moved to its neighbours and to the first ids: what someone whose session is 7
 * tries to become the customer of session 6, 8 or 1.
 */
export function shiftedNumbers(value: string): CookieEdit[] {
  const edits: CookieEdit[] = [];
  const seen = new Set<string>([value]);
  for (const view of views(value)) {
    const numbers = [...view.text.matchAll(/(?<![A-Za-z0-9])\d{1,15}(?![A-Za-z0-9])/g)].slice(0, MAX_NUMBERS);
    for (const match of numbers) {
      const n = Number(match[0]);
      const others = new Set([n - 1, n + 1, n - 2, n + 2, n - 3, n + 3, 1, 2, 3].filter((k) => k >= 0 && k !== n));
      for (const k of others) {
        const edited = view.write(view.text.slice(0, match.index) + String(k) + view.text.slice(match.index + match[0].length));
        if (seen.has(edited)) continue;
        seen.add(edited);
        edits.push({ what: `the number ${match[0]} in it changed to ${k}`, value: edited });
      }
    }
  }
  return edits;
}

/**
 * The cookie value with every unkeyed digest of one of `pairs`' first values (the attacker's
 * name, say) replaced by the same digest, in the same form, of its second (her victim's).
 */
export function digestSwaps(value: string, pairs: ReadonlyArray<readonly [string, string]>): CookieEdit[] {
  const edits: CookieEdit[] = [];
  const text = decode(value);
  const encode = (t: string) => (text === value ? t : encodeURIComponent(t));
  for (const [from, to] of pairs) {
    const theirs = digestsOf(to);
    digestsOf(from).forEach((digest, i) => {
      if (!text.includes(digest.value)) return;
      edits.push({ what: `${digest.name} in it replaced by ${theirs[i]!.name}`, value: encode(text.split(digest.value).join(theirs[i]!.value)) });
    });
  }
  return edits;
}
