// Lesson 4's forged cookies: mallory makes session cookies from scratch (unsigned, or signed
// with guessed secrets, with the strings of the app's code, with keys computed from them), edits
// the numbers and digests in her own, and frank flips the bits of his where his name could sit.
import { fail } from '../../check/expect.ts';
import type { CheckStep } from '../types.ts';
import { someWorker } from '../draws.ts';
import { flippedCookies } from '../cookie-edits.ts';
import { expectNobodyElse, expectUser, logInWithApi, PASSWORDS, userIn, whom } from './account.ts';
import { cookiesOf, editedNumbersAndDigests, forgeries, replaceCookies, signedWith, type Guesses } from './cookies.ts';
import { derivedSecrets, secretsInSource } from './source-secrets.ts';
import { where } from './diagnoses.ts';

export const forgedStep: CheckStep = {
  title: 'A forged session cookie logs nobody in',
  // Some fifteen forgeries per cookie, and one per string of the app's code, each tried on the API and the page.
  timeoutMs: 30_000,
  async run(ctx) {
    const mallory = ctx.visitor('mallory');
    const worker = someWorker(ctx);
    await logInWithApi(ctx, 'mallory', worker);
    const { cookies } = await cookiesOf(mallory);
    // First the secrets of tutorials; then, as someone who has read the shop's code (it is
    // published, or leaked), every string written in it, in the format the app signs in; then
    // the keys the code computes from its strings (digests of them), those that sign her own
    // cookie (she tries them on it, offline: they are thousands).
    const fromCode: Guesses = { secrets: secretsInSource(ctx.appFile), unsigned: false, ownFormatOnly: true, say: (secret) => `"${String(secret)}", a string written in the app's code` };
    const derived = derivedSecrets(ctx.appFile).filter((d) => signedWith(cookies, d.key) === 'secret');
    const computed: Guesses = {
      secrets: derived.map((d) => d.key),
      unsigned: false,
      ownFormatOnly: true,
      say: (secret) => `the key ${derived.find((d) => d.key === secret)?.say ?? '?'}, computed from strings written in the app's code`,
    };
    const attempts = [
      ...forgeries(cookies, 'mallory', 'alice'),
      ...forgeries(cookies, 'mallory', 'alice', fromCode),
      ...forgeries(cookies, 'mallory', 'alice', computed),
      // Her own cookie with a number moved (the sessions before and after hers) or a digest of her name made alice's.
      ...editedNumbersAndDigests(cookies, [['mallory', 'alice'], [PASSWORDS.mallory!, PASSWORDS.alice!]]),
    ];
    for (const [i, attempt] of attempts.entries()) {
      await replaceCookies(mallory, attempt.cookies);
      if (attempt.someoneElse) {
        await expectNobodyElse(ctx, 'mallory', ctx.workerAt(worker + i), 'mallory', (got, w, route) => {
          const what = `mallory sent ${attempt.what}, and ${where(w, route)} took it as ${got}'s session.`;
          if (attempt.what.includes(' changed to ')) return `${what} Session ids that count up (or any number a visitor can move) are guessed by moving them: make them long and random (${ctx.track === 'flask' ? 'secrets.token_urlsafe(32)' : 'crypto.randomUUID(), or express-session\'s own'}), or sign the cookie with SESSION_SECRET.`;
          return `${what} A digest of a name (md5, sha1, sha256...) is no secret: anyone computes the same digest of any other name. Sign the cookie with SESSION_SECRET (an HMAC, or the session library's signed cookie), or keep a random session id.`;
        });
        continue;
      }
      await expectUser(ctx, 'mallory', ctx.workerAt(worker + i), null, (got, w, route) => {
        const what = `mallory made ${attempt.what}, and ${where(w, route)} took it as ${got}'s session.`;
        const hostSecret = ctx.track === 'flask' ? 'os.environ["SESSION_SECRET"]' : 'process.env.SESSION_SECRET';
        if (attempt.what.includes('guessable secret')) return `${what} A secret written in the code (or copied from an example) is known to everyone: sign with ${hostSecret}, which only the host knows.`;
        if (attempt.what.includes('computed from strings')) return `${what} A key the code computes from strings written in it is as well known as they are: whoever reads the code runs the same lines. Sign and verify with ${hostSecret} only.`;
        if (attempt.what.includes("written in the app's code")) return `${what} A key written in the code is known to everyone who has seen the code (a repository, a copy, a leak), and stays valid after the host rotates SESSION_SECRET. Sign and verify with ${hostSecret} only (a rotation keeps old keys in the host's settings, never in the code).`;
        if (attempt.what.includes('with no signature (alg')) return `${what} The app accepted a token that says it needs no signature: verify every token with the one algorithm and key you sign with (HS256 and ${hostSecret}), never with what the token's own header asks for.`;
        if (attempt.what.includes('guessed id')) return `${what} Session ids must be long and random (${ctx.track === 'flask' ? 'secrets.token_urlsafe(32)' : 'express-session makes them so'}), or the cookie signed: 1, 2, 3 are the first ids anyone tries.`;
        return `${what} Anyone can write an unsigned cookie: sign it with SESSION_SECRET and check the signature.`;
      });
    }
    // A cookie that shows no name (encrypted, or a random id): frank, whose name is as long
    // as alice's, flips the bits of his own where his name could sit to make it hers, as
    // anyone can with what a stream cipher wrote. A signed, authenticated or random cookie
    // refuses every one.
    await logInWithApi(ctx, "frank's laptop", worker, 'frank');
    const franks = (await cookiesOf(ctx.visitor("frank's laptop"))).cookies;
    const flips = flippedCookies(franks, 'frank', 'alice');
    const flipped = ctx.visitor("frank's flips", { like: "frank's laptop" });
    for (const flip of flips) {
      await replaceCookies(flipped, flip.cookies);
      const got = userIn(await flipped.get('/api/me', { worker }));
      if (got !== null && got !== 'frank') {
        fail({
          expected: `nobody but frank for ${flip.what}, on worker ${worker}`,
          got: whom(got),
          diagnosis: `frank's cookie hides his name, encrypted, but nothing proves it unchanged: flipping bits of what a stream cipher wrote (AES-CTR, AES-OFB, a keystream XORed in) flips the same bits of the name inside, so whoever knows their own name turns it into another of the same length, without the key. Encryption is not a signature: sign what the cookie says with SESSION_SECRET (an HMAC checked on every request, ${ctx.track === 'flask' ? "Flask's own session" : 'cookie-session'}), use an encryption that refuses any edited byte (AES-GCM), or keep a random session id in the shared table.`,
        });
      }
    }
  },
};
