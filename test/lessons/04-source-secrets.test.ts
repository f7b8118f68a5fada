// Lesson 4's attacker who has read the shop's code: which strings she tries as signing keys, and
// which keys computed from them; and the edits lessons 4 and 9 make to an attacker's own cookie.
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { derivedSecrets, secretsInSource } from '../../src/lessons/04-logged-out-at-random/source-secrets.ts';
import { bitFlips, digestSwaps, shiftedNumbers, showsName } from '../../src/lessons/cookie-edits.ts';

test("the strings of the app, of the modules of its folder it imports and of its .env files; not routes, SQL, markup or other files", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'source-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    path.join(dir, 'app.js'),
    [
      "import key from './keys.js';",
      "const keys = [process.env.SESSION_SECRET, 'old-key-2024', `tmpl-${key}`, \"it's \\\"quoted\\\"\"];",
      "app.get('/api/me', () => db.prepare('SELECT name FROM users WHERE id = ?'));",
      "res.send(`<p>hi</p>`);",
    ].join('\n'),
  );
  writeFileSync(path.join(dir, 'keys.js'), "export default 'imported-key';\n");
  writeFileSync(path.join(dir, '.env'), 'SESSION_SECRET=dotenv-key\n');
  writeFileSync(path.join(dir, 'notes.js'), "const unrelated = 'never-imported';\n");
  writeFileSync(path.join(dir, 'settings.py'), "SECRET_KEY = 'python-module-key'\n");
  writeFileSync(path.join(dir, 'app.py'), 'import settings\napp.secret_key = "py-literal-key"\n');

  const js = secretsInSource(path.join(dir, 'app.js'));
  assert.ok(js.includes('old-key-2024') && js.includes('imported-key') && js.includes('dotenv-key'), js.join(', '));
  assert.ok(js.includes('it\'s "quoted"'), 'escapes are undone');
  for (const not of ['/api/me', 'SELECT name FROM users WHERE id = ?', '<p>hi</p>', 'never-imported', 'python-module-key']) assert.ok(!js.includes(not), `${not} is not tried`);
  assert.ok(!js.some((s) => s.includes('${')), 'a template with a placeholder is not a literal');

  const py = secretsInSource(path.join(dir, 'app.py'));
  assert.ok(py.includes('py-literal-key') && py.includes('python-module-key') && py.includes('dotenv-key'), py.join(', '));
  assert.ok(!py.includes('imported-key'));
});

test('the keys the code computes from its strings: digests of each string and of each list of strings joined, in hex, base64 or raw bytes', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'source-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'app.js'), "const key = createHash('sha256').update(['corner', 'shop', 'v1'].join('/')).digest('hex');\nconst other = md5('pepper' + 'salt');\n");
  writeFileSync(path.join(dir, 'app.py'), 'app.secret_key = hashlib.sha1("-".join(["corner", "shop"]).encode()).digest()\n');
  const js = derivedSecrets(path.join(dir, 'app.js'));
  const sha256 = (text: string) => createHash('sha256').update(text).digest();
  assert.ok(js.some((d) => d.key === sha256('corner/shop/v1').toString('hex')), 'the whole list joined');
  assert.ok(js.some((d) => d.key === sha256('corner/shop').toString('base64')), 'a stretch of it');
  assert.ok(js.some((d) => d.key === createHash('md5').update('peppersalt').digest('hex')), 'strings joined with +');
  assert.ok(js.some((d) => d.key === sha256('v1').toString('base64url')), 'one short string');
  const py = derivedSecrets(path.join(dir, 'app.py'));
  const bytes = createHash('sha1').update('corner-shop').digest();
  assert.ok(py.some((d) => Buffer.isBuffer(d.key) && d.key.equals(bytes) && d.say.includes('sha1("corner-shop")')), 'raw bytes');
});

test("an attacker's edits of her own cookie: its numbers moved, a digest of her name made her victim's", () => {
  const shifted = shiftedNumbers('s%3A7.c2lnbmF0dXJl').map((e) => decodeURIComponent(e.value));
  for (const want of ['s:6.c2lnbmF0dXJl', 's:8.c2lnbmF0dXJl', 's:1.c2lnbmF0dXJl']) assert.ok(shifted.includes(want), `${want} in ${shifted.join(', ')}`);
  assert.deepEqual(shiftedNumbers('a3f9c2e1b7d4'), [], 'digits inside a random id are not numbers');
  const json = Buffer.from('{"uid":12}').toString('base64url');
  assert.ok(shiftedNumbers(json).some((e) => Buffer.from(e.value, 'base64url').toString() === '{"uid":11}'), 'a number inside base64 JSON');
  const hex = (text: string) => createHash('sha256').update(text).digest('hex');
  const swaps = digestSwaps(`t=${hex('bob')}`, [['bob', 'alice']]);
  assert.deepEqual(swaps.map((e) => e.value), [`t=${hex('alice')}`]);
  const b64 = createHash('md5').update('bob').digest('base64');
  assert.equal(digestSwaps(b64, [['bob', 'alice']])[0]?.value, createHash('md5').update('alice').digest('base64'), 'base64 with its padding');
});

test("bits flipped where the owner's name could sit: an encrypted name without a signature becomes another; an authenticated one does not", () => {
  const key = randomBytes(32);
  const seal = (mode: 'aes-256-ctr' | 'aes-256-cbc', name: string) => {
    const iv = randomBytes(16);
    const cipher = createCipheriv(mode, key, iv);
    return Buffer.concat([iv, cipher.update(name, 'utf8'), cipher.final()]);
  };
  const open = (mode: 'aes-256-ctr' | 'aes-256-cbc', raw: Buffer) => {
    try {
      const decipher = createDecipheriv(mode, key, raw.subarray(0, 16));
      return Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  };
  // AES-CTR, iv || ciphertext in base64url: the name sits after the IV.
  const ctr = seal('aes-256-ctr', 'carol').toString('base64url');
  assert.ok(bitFlips(ctr, 'carol', 'alice').some((e) => open('aes-256-ctr', Buffer.from(e.value, 'base64url')) === 'alice'), 'AES-CTR in base64url');
  // The same, written "iv:ciphertext" in hex, URL-encoded.
  const raw = seal('aes-256-ctr', 'carol');
  const hexed = encodeURIComponent(`${raw.subarray(0, 16).toString('hex')}:${raw.subarray(16).toString('hex')}`);
  const fromHex = (value: string) => Buffer.from(decodeURIComponent(value).replace(':', ''), 'hex');
  assert.ok(bitFlips(hexed, 'carol', 'alice').some((e) => open('aes-256-ctr', fromHex(e.value)) === 'alice'), 'AES-CTR in hex pieces');
  // AES-CBC: the first block's plaintext is flipped through the IV.
  const cbc = seal('aes-256-cbc', 'carol').toString('base64');
  assert.ok(bitFlips(cbc, 'carol', 'alice').some((e) => open('aes-256-cbc', Buffer.from(e.value, 'base64')) === 'alice'), 'AES-CBC through its IV');
  // AES-GCM refuses every flip.
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([gcm.update('carol', 'utf8'), gcm.final()]);
  const sealed = Buffer.concat([iv, gcm.getAuthTag(), body]).toString('base64url');
  const flips = bitFlips(sealed, 'carol', 'alice');
  assert.ok(flips.length > 0);
  for (const flip of flips) {
    const bytes = Buffer.from(flip.value, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    assert.throws(() => Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]), flip.what);
  }
  assert.deepEqual(bitFlips(ctr, 'bob', 'alice'), [], 'only names of the same length');
  // A value that shows the name is left to the other edits.
  assert.ok(showsName(Buffer.from('{"customer":"carol"}').toString('base64'), 'carol'));
  assert.ok(showsName(`${Buffer.from('{"customer":"carol"}').toString('base64url')}.Zx1.c2ln`, 'carol'));
  assert.ok(showsName('s%3Acarol.c2lnbmF0dXJl', 'carol'));
  assert.ok(!showsName(ctr, 'carol'));
});
