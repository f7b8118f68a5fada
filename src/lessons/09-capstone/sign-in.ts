// The capstone's sign-in: a customer signed in with the page's form, or through the phone app,
// stays signed in on every worker and after a deploy, and an edited or forged cookie signs no
// one in but its owner.
import { describe, expectJson, fail } from '../../check/expect.ts';
import { formsOf } from '../../check/pages.ts';
import { pageText } from '../../check/visitor.ts';
import type { CheckStep } from '../types.ts';
import { someWorker } from '../draws.ts';
import { signIn } from './prices.ts';
import { editedFrom, flippedFrom, forgedFrom, pageOf, shopOf } from './shop.ts';

export const signInStep: CheckStep = {
  title: 'A signed-in customer stays signed in on every worker, on every page, and after a deploy; an edited cookie signs nobody in',
  reloads: true,
  async run(ctx) {
    const { customers } = shopOf(ctx);
    const alice = customers.find((c) => c.name === 'alice')!;
    const first = someWorker(ctx);
    const home = await ctx.visitor('alice').page('/', { worker: first });
    const homeText = await pageOf(home, 'the shop page');
    if (!(await formsOf(home.text)).some((form) => /\/login$/.test(form.action))) {
      const shown = customers.find((c) => homeText.includes(c.fullName) || new RegExp(`\\b${c.name}\\b`).test(homeText));
      fail({
        expected: `the sign-in form on the shop page from ${describe(home)}: alice has not signed in yet`,
        got: shown ? `a page for ${shown.name}, signed in` : 'a page with no form posting to /login',
        diagnosis: shown
          ? `alice has never signed in, yet worker ${first} showed her ${shown.name}'s page: it answered with a customer an earlier request left behind (in a module-level variable, or a thread-local that is set only when a session exists and never cleared). Decide who is asking on every request, from this request's own cookie, and when it has none, nobody is signed in.`
          : 'Someone who has not signed in must find the sign-in form (posting to /login) on the page /.',
      });
    }
    await pageOf(await ctx.visitor('alice').fillIn(home, { name: 'alice' }, { action: '/login', worker: first }), 'the shop page after signing in');
    for (let k = 1; k <= ctx.workers; k++) {
      const reply = await ctx.visitor('alice').get('/api/me', { worker: k });
      const body = reply.status === 401 ? undefined : (expectJson(reply, 'JSON like {"name": "alice"}') as { name?: unknown });
      const page = await ctx.visitor('alice').page('/', { worker: k });
      const text = await pageOf(page, 'the shop page');
      if (body?.name !== 'alice' || !text.includes(alice.fullName)) {
        fail({
          expected: `alice, signed in with the page's form on worker ${first}, to be signed in on worker ${k} too, in the API and on the page`,
          got: body?.name !== 'alice' ? `${describe(reply)}: ${reply.status} ${reply.body}` : `a page without "${alice.fullName}" (${describe(page)})`,
          diagnosis: `Worker ${k} does not know alice's session: it was kept in the memory of the worker that signed her in. Keep the session where every worker can read it, and where nobody can rewrite it.`,
        });
      }
    }
    // carol signs in through the shop's phone app: a program calling the API, with none of a
    // browser's headers and a cookie jar of its own. She too is herself on every worker.
    const app = ctx.visitor("carol's phone app", { kind: 'api' });
    const signedIn = await app.post('/login', { name: 'carol' }, { worker: ctx.workerAt(first + 2) });
    expectJson(signedIn, 'JSON like {"name": "carol"}');
    for (let k = 1; k <= ctx.workers; k++) {
      const reply = await app.get('/api/me', { worker: k });
      const name = reply.status < 300 ? (reply.json as { name?: unknown } | undefined)?.name : undefined;
      if (name !== 'carol') {
        fail({
          expected: `carol, signed in through the phone app on worker ${ctx.workerAt(first + 2)}, to be signed in on worker ${k} too`,
          got: `${describe(reply)}: ${reply.status} ${reply.body}`,
          diagnosis: `Worker ${k} does not know the session carol's phone app signed in with. A program calling the API is a visitor like any other: its session must be kept, and checked, the same way as a browser's, where every worker can read it.`,
        });
      }
    }
    await signIn(ctx, 'bob', ctx.workerAt(first + 1));
    const forged = forgedFrom(ctx, 'bob', 'alice');
    for (let k = 1; k <= ctx.workers; k++) {
      const reply = await ctx.visitor('mallory').get('/api/me', { worker: k, headers: { cookie: forged } });
      const page = await ctx.visitor('mallory').page('/', { worker: k, headers: { cookie: forged } });
      const name = (reply.json as { name?: unknown } | undefined)?.name;
      const pageShown = await pageOf(page, 'the shop page');
      // Anyone but bob (whose cookie it was) is someone the edit must not sign in.
      const taken = customers.find((c) => c.name !== 'bob' && ((reply.status < 300 && name === c.name) || pageShown.includes(c.fullName)));
      if (taken) {
        fail({
          expected: `mallory, who copied bob's cookie and wrote "alice" into it, not to be signed in as ${taken.name} on worker ${k}`,
          got: name === taken.name ? reply.body : `a page greeting ${taken.fullName}`,
          diagnosis:
            taken.name === 'alice'
              ? 'A cookie is text the visitor can edit, even when it looks scrambled: base64, hex or the middle of a token decode in one step, and encode back as easily. If it says who they are, its signature must be checked on every request; or it must hold only a random session id that the server looks up.'
              : `mallory's edited cookie names no valid session, yet worker ${k} answered as ${taken.name}, a customer an earlier request left behind (in a module-level variable, an AsyncLocalStorage entered only when someone is signed in, a thread-local never cleared). Decide who is asking on every request, from its own cookie; when that cookie proves no one, no one is signed in.`,
        });
      }
    }
    // Then bob's cookie edited where it says who he is without his name: a number in it moved
    // (the session before his, the one after, the first ones), a digest of his name made
    // alice's. Such an edit counts only when it signs someone else in: a right app may
    // ignore a number that is no id, and leave bob signed in as bob.
    const bob = customers.find((c) => c.name === 'bob')!;
    const others = customers.filter((c) => c.name !== 'bob');
    const edits = editedFrom(ctx, 'bob', [['bob', 'alice'], [bob.fullName, alice.fullName]]);
    for (const [i, edit] of edits.entries()) {
      const k = ctx.workerAt(first + i);
      const reply = await ctx.visitor('mallory').get('/api/me', { worker: k, headers: { cookie: edit.cookie } });
      const page = await ctx.visitor('mallory').page('/', { worker: k, headers: { cookie: edit.cookie } });
      const name = reply.status < 300 ? (reply.json as { name?: unknown } | undefined)?.name : undefined;
      const text = page.status === 200 && /html/.test(page.contentType) ? await pageText(page.text) : '';
      const someone = typeof name === 'string' && name !== 'bob' ? name : others.find((c) => text.includes(c.fullName))?.name;
      if (someone === undefined) continue;
      fail({
        expected: `mallory, who sent ${edit.what}, not to be signed in as anyone on worker ${k}`,
        got: typeof name === 'string' && name !== 'bob' ? `${describe(reply)}: ${reply.body}` : `a page greeting ${others.find((c) => c.name === someone)!.fullName}`,
        diagnosis: edit.what.includes(' changed to ')
          ? `Session ids that count up are guessed by counting: bob's neighbour's session is one number away. A session id must be long and random (${ctx.track === 'flask' ? 'secrets.token_urlsafe(32)' : 'crypto.randomUUID()'}), or the session kept in a cookie signed with SESSION_SECRET.`
          : `A digest of a name (md5, sha1, sha256...) is no secret: anyone computes it for any name, in one line. Sign what the cookie says with SESSION_SECRET (${ctx.track === 'flask' ? "Flask's session" : 'cookie-session'}, or an HMAC with it), or keep a random session id that the server looks up.`,
      });
    }
    // Last, a cookie that shows no name at all (encrypted, or a random id), its bits flipped
    // wherever its owner's name could sit to read another customer's name of the same length
    // (carol's phone app's cookie made to say "alice"), on one worker. Each flip must sign in no
    // one else: a random id flipped is no session, and a signed or authenticated cookie refuses it.
    const holders = [["carol's phone app", 'carol'], ['bob', 'bob'], ['alice', 'alice']] as const;
    const pair = holders.flatMap(([holder, owner]) =>
      customers.filter((c) => c.name !== owner && Buffer.byteLength(c.name) === Buffer.byteLength(owner)).map((victim) => ({ holder, owner, victim: victim.name })),
    )[0];
    if (pair) {
      const k = ctx.workerAt(first + 1);
      for (const flip of flippedFrom(ctx, pair.holder, pair.owner, pair.victim)) {
        const reply = await ctx.visitor('mallory').get('/api/me', { worker: k, headers: { cookie: flip.cookie } });
        const name = reply.status < 300 ? (reply.json as { name?: unknown } | undefined)?.name : undefined;
        if (typeof name !== 'string' || name === pair.owner || !customers.some((c) => c.name === name)) continue;
        fail({
          expected: `mallory, who sent ${flip.what}, not to be signed in as anyone but ${pair.owner} on worker ${k}`,
          got: `${describe(reply)}: ${reply.body}`,
          diagnosis:
            name === pair.victim
              ? `${pair.owner}'s cookie hides her name, encrypted with SESSION_SECRET, but nothing proves it unchanged: flipping bits of what a stream cipher wrote (AES-CTR, AES-OFB, a keystream XORed in) flips the same bits of the name inside, so whoever knows her own name turns it into any other name of the same length, without the key. Encryption is not a signature. Sign what the cookie says with SESSION_SECRET (${ctx.track === 'flask' ? "Flask's session" : 'cookie-session'}, or an HMAC checked on every request), use an encryption that refuses any edited byte (AES-GCM), or keep a random session id that the server looks up.`
              : `mallory's flipped cookie names no valid session, yet worker ${k} answered as ${name}, a customer an earlier request left behind. Decide who is asking on every request, from its own cookie; when that cookie proves no one, no one is signed in.`,
        });
      }
    }
    // A deploy restarts every worker: a customer signed in before it is still signed in after it.
    await ctx.reload();
    const after = someWorker(ctx);
    // alice in her browser, and carol in the phone app, are still signed in.
    for (const [who, name] of [['alice', 'alice'], ["carol's phone app", 'carol']] as const) {
      const reply = await ctx.visitor(who).get('/api/me', { worker: after });
      if ((reply.json as { name?: unknown } | undefined)?.name !== name) {
        fail({
          expected: `${name}, signed in before the deploy${who === name ? '' : ` (through ${who})`}, to be signed in on worker ${after} after it (every worker restarted)`,
          got: `${describe(reply)}: ${reply.status} ${reply.body.slice(0, 120)}`,
          diagnosis:
            "The sessions did not survive a restart of the workers: they were kept in the workers' memory, or signed with a key the app makes when it starts (a random one at import). Keep them where a restart cannot lose them, signed with the key the host gives the app (SESSION_SECRET), for browsers and programs alike.",
        });
      }
    }
  },
};
