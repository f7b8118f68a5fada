// The disguises an attacker takes off a cookie to find a name in it, and puts back on with
// another name: text that is only encoded (base64, hex, base32, rot13, written backwards) is
// read as easily as plain text.
import { decode } from '../cookie-edits.ts';

/**
 * The encodings an attacker undoes to find a name in a cookie, each with its way back: text
 * that is only disguised (hex, base32, base64, rot13, written backwards) is read as easily as
 * plain text. Each answers undefined for a part that is not in its encoding.
 */
interface Disguise {
  readonly open: (part: string) => string | undefined;
  readonly close: (text: string, like: string) => string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const rot13 = (text: string) => text.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (c <= 'Z' ? 65 : 97)));
const reversed = (text: string) => [...text].reverse().join('');

const DISGUISES: readonly Disguise[] = [
  {
    // base64 or base64url (cookie-session's JSON; a signed value's base64 between "s:" and ".")
    open: (part) => (part.length >= 8 && /^[A-Za-z0-9+/_-]+=*$/.test(part) ? Buffer.from(part, /[-_]/.test(part) ? 'base64url' : 'base64').toString('utf8') : undefined),
    close: (text, like) => Buffer.from(text, 'utf8').toString(/[-_]/.test(like) ? 'base64url' : 'base64'),
  },
  {
    open: (part) => (part.length >= 8 && part.length % 2 === 0 && /^[0-9a-f]+$/i.test(part) ? Buffer.from(part, 'hex').toString('utf8') : undefined),
    close: (text, like) => (like === like.toUpperCase() ? Buffer.from(text, 'utf8').toString('hex').toUpperCase() : Buffer.from(text, 'utf8').toString('hex')),
  },
  {
    open: (part) => {
      if (part.length < 8 || !/^[A-Z2-7]+=*$/i.test(part)) return undefined;
      let bits = '';
      for (const c of part.toUpperCase().replace(/=+$/, '')) bits += BASE32.indexOf(c).toString(2).padStart(5, '0');
      const bytes = bits.match(/.{8}/g) ?? [];
      return Buffer.from(bytes.map((b) => parseInt(b, 2))).toString('utf8');
    },
    close: (text, like) => {
      let bits = '';
      for (const byte of Buffer.from(text, 'utf8')) bits += byte.toString(2).padStart(8, '0');
      let out = (bits.match(/.{1,5}/g) ?? []).map((chunk) => BASE32[parseInt(chunk.padEnd(5, '0'), 2)]).join('');
      if (like.includes('=')) out = out.padEnd(Math.ceil(out.length / 8) * 8, '=');
      return like === like.toLowerCase() ? out.toLowerCase() : out;
    },
  },
  { open: rot13, close: rot13 },
  { open: reversed, close: reversed },
];

/** Put `to` where `from` is, in clear or inside disguised parts (base64, hex, base32, rot13, backwards); keep the value's encoding. */
export function swapName(value: string, from: string, to: string): string | undefined {
  const text = decode(value);
  const encode = (t: string) => (text === value ? t : encodeURIComponent(t));
  if (text.includes(from)) return encode(text.split(from).join(to));
  for (const parts of [[text], text.split(/([.:|])/)]) {
    let found = false;
    const swapped = parts.map((part) => {
      for (const disguise of DISGUISES) {
        const inside = disguise.open(part);
        if (inside === undefined || !inside.includes(from)) continue;
        found = true;
        return disguise.close(inside.split(from).join(to), part);
      }
      return part;
    });
    if (found) return encode(swapped.join(''));
  }
  return undefined;
}
