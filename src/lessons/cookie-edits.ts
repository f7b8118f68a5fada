// Edits an attacker makes to her own session cookie when it does not name her in any way the
// check can read: a number in it moved a little (the session before hers, the one after), and a
// digest of her name (md5, sha1, sha256, sha512, with no key) replaced by the same digest of her
// victim's; and, for a value that shows no name at all, its bits flipped where her name could sit
// (what turns a name encrypted without a signature into another). Shared by lesson 4 (sessions)
// and lesson 9 (the capstone's sign-in). A right app refuses every one of them: its ids are
// random, its cookie signed (or its encryption authenticated) with a key nobody outside the host
// has.
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
 * The ids next to one read in a cookie, however it is written: each run of digits (also inside
 * a word: "v124" gives "v123") and each short run of hex digits read as a hex number ("1f3a"
 * gives "1f39"), moved by one to three. A random id has neighbours nobody holds.
 */
export function neighbourIds(value: string): CookieEdit[] {
  const text = decode(value);
  const encode = (t: string) => (text === value ? t : encodeURIComponent(t));
  const edits: CookieEdit[] = [];
  const seen = new Set([value]);
  const runs = [
    ...[...text.matchAll(/\d{1,15}/g)].map((m) => ({ at: m.index, run: m[0], radix: 10 })),
    ...[...text.matchAll(/[0-9a-f]{2,12}/gi)].filter((m) => /[a-f]/i.test(m[0])).map((m) => ({ at: m.index, run: m[0], radix: 16 })),
  ].slice(0, 12);
  for (const { at, run, radix } of runs) {
    const n = parseInt(run, radix);
    for (const k of [n - 1, n + 1, n - 2, n + 2, n - 3, n + 3]) {
      if (k < 0) continue;
      let written = k.toString(radix);
      if (radix === 16 && run === run.toUpperCase()) written = written.toUpperCase();
      written = written.padStart(run.length, '0');
      const edited = encode(text.slice(0, at) + written + text.slice(at + run.length));
      if (seen.has(edited)) continue;
      seen.add(edited);
      edits.push({ what: `${run} in it changed to ${written}`, value: edited });
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

/** The bytes of one piece of a cookie value as one encoding reads them, and the piece with other bytes written the same way. */
interface ByteReading {
  readonly how: string;
  readonly bytes: Buffer;
  write(bytes: Buffer): string;
}

/** Padding as the piece had it: a piece written with "=" keeps it, one without stays bare. */
const padded = (encoded: string, like: string): string => {
  const bare = encoded.replace(/=+$/, '');
  return like.endsWith('=') ? bare.padEnd(Math.ceil(bare.length / 4) * 4, '=') : bare;
};

/**
 * How to read a piece of a cookie value as bytes: hex, or base64 (base64url when it has "-" or
 * "_"; a piece with neither is written back in plain base64, which base64url decoders accept
 * too), each only when it reads faithfully (written back, it gives the piece); else the piece's
 * own characters.
 */
function byteReading(piece: string): ByteReading {
  if (/^(?:[0-9a-f]{2})+$/i.test(piece)) {
    const upper = !/[a-f]/.test(piece) && /[A-F]/.test(piece);
    return { how: 'hex', bytes: Buffer.from(piece, 'hex'), write: (b) => (upper ? b.toString('hex').toUpperCase() : b.toString('hex')) };
  }
  const url = /[-_]/.test(piece);
  if ((url ? /^[A-Za-z0-9_-]+={0,2}$/ : /^[A-Za-z0-9+/]+={0,2}$/).test(piece) && piece.replace(/=+$/, '').length % 4 !== 1) {
    const encoding = url ? 'base64url' : 'base64';
    const bytes = Buffer.from(piece, encoding);
    const write = (b: Buffer) => padded(b.toString(encoding), piece);
    if (write(bytes) === piece) return { how: encoding, bytes, write };
  }
  const latin1 = [...piece].every((c) => c.charCodeAt(0) < 256);
  return { how: 'its characters', bytes: Buffer.from(piece, latin1 ? 'latin1' : 'utf8'), write: (b) => b.toString(latin1 ? 'latin1' : 'utf8') };
}

/** Characters a cookie value may hold as they are (RFC 6265's cookie-octet). */
const cookieOctets = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/** At most this many flipped values of one cookie: a name sits in its first bytes in every format seen. */
const MAX_FLIPS = 160;

/**
 * Whether a cookie value shows `name` where the other edits can find it: in the value itself,
 * or in the bytes one of its pieces decodes to.
 */
export function showsName(value: string, name: string): boolean {
  const text = decode(value);
  const needle = Buffer.from(name, 'utf8');
  if (text.includes(name)) return true;
  return [text, ...text.split(/[.:|]/)].some((piece) => byteReading(piece).bytes.includes(needle));
}

/**
 * The cookie value with its bits flipped where `from` (the owner's name) could sit, to make it
 * `to`: for each "."/":"/"|"-separated piece (or "-"/"_"-separated hex piece), and the whole value, read as bytes (hex, base64,
 * base64url, or its own characters), and each offset, the bytes there XORed with (from XOR to),
 * written back the same way. Without a key, this turns a name encrypted with a stream cipher
 * (AES-CTR, AES-OFB, a keystream XORed in) into another name of the same length, and one in the
 * first block of AES-CBC through its IV. Only for names of the same length in bytes; none when
 * they differ.
 */
export function bitFlips(value: string, from: string, to: string): CookieEdit[] {
  if (from === to || Buffer.byteLength(from) !== Buffer.byteLength(to)) return [];
  const [mine, theirs] = [Buffer.from(from, 'utf8'), Buffer.from(to, 'utf8')];
  const mask = mine.map((b, i) => b ^ theirs[i]!);
  const text = decode(value);
  const encoded = text !== value;
  // Pieces joined by "-" or "_" (characters base64url has too) count as pieces when each is hex.
  const parts = /^[0-9a-f]+(?:[-_][0-9a-f]+)+$/i.test(text) ? text.split(/([-_])/) : text.split(/([.:|])/);
  const pieces = parts.map((piece, at) => ({ at, reading: byteReading(piece) })).filter((p) => p.at % 2 === 0);
  // A value of pieces (a token, a signed id) is read piece by piece; read as its own characters
  // as a whole when no piece decodes to bytes (separators may be bytes of it then).
  const places =
    parts.length > 1 && pieces.some((p) => p.reading.how !== 'its characters') ? pieces : [{ at: -1, reading: byteReading(text) }];
  const edits: CookieEdit[] = [];
  const seen = new Set<string>([value]);
  for (const { at, reading } of places) {
    for (let offset = 0; offset + mask.length <= reading.bytes.length; offset++) {
      const bytes = Buffer.from(reading.bytes);
      for (let i = 0; i < mask.length; i++) bytes[offset + i]! ^= mask[i]!;
      const written = reading.write(bytes);
      const whole = at < 0 ? written : [...parts.slice(0, at), written, ...parts.slice(at + 1)].join('');
      const edited = encoded || !cookieOctets.test(whole) ? encodeURIComponent(whole) : whole;
      if (seen.has(edited)) continue;
      seen.add(edited);
      const where = at < 0 ? '' : ` of its part ${at / 2 + 1}`;
      edits.push({ what: `its bits flipped at byte ${offset}${where} (read as ${reading.how}) by "${from}" XOR "${to}"`, value: edited });
      if (edits.length >= MAX_FLIPS) return edits;
    }
  }
  return edits;
}

/** One cookie of a set, as a browser holds it. */
export interface NamedValue {
  readonly key: string;
  readonly value: string;
}

/**
 * A visitor's cookies (signed in as `from`), each time with one of them bit-flipped where `from`
 * could sit, to read `to` (a name of the same length): only cookies whose value shows no name the
 * other edits could read (an encrypted one, a random id); signatures (".sig") are left alone, and
 * the other cookies are sent as they were.
 */
export function flippedCookies(cookies: readonly NamedValue[], from: string, to: string): Array<{ what: string; cookies: NamedValue[] }> {
  return cookies.flatMap((cookie, i) =>
    cookie.key.endsWith('.sig') || showsName(cookie.value, from)
      ? []
      : bitFlips(cookie.value, from, to).map((edit) => ({
          what: `${from}'s cookie "${cookie.key}" with ${edit.what}`,
          cookies: cookies.map((c, j) => (j === i ? { key: c.key, value: edit.value } : c)),
        })),
  );
}
