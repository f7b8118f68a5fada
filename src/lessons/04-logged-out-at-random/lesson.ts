import { randomBytes, scryptSync } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expectJson, fail } from '../../check/expect.ts';
import type { Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { firstRead } from '../../check/race.ts';
import { expectNotUser, expectUser, logInWithApi, logInWithForm, logOutWithForm, NEWCOMERS, PASSWORDS, userIn } from './account.ts';
import { cookiesOf, replaceCookies, tampered } from './cookies.ts';
import { daysLaterStep, visitSteps } from './visits.ts';
import { forgedStep } from './forged.ts';
import { loggedOut, loginLostAtOnce, reloaded, sessionLost, sessionLostOrOwnKey, stillIn, takenOver, where } from './diagnoses.ts';
import { someWorker } from '../draws.ts';

/** At most this many rounds of two logins at once: the held login is held after its first read, its second... */
const AT_ONCE_ROUNDS = 6;

/** A customer's account, and the browser they log in from. */
interface Customer {
  readonly name: string;
  readonly visitor: string;
}

/** erin's phone app: a program calling the API, not a browser. */
const APP = "erin's phone app";

const lesson: Lesson = {
  number: 4,
  slug: '04-logged-out-at-random',
  title: 'Logged out at random',
  track: 'advanced',
  summary: 'Log in, click once, and you are logged out again; click again and you are back.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'The login works; it is remembering it that fails. express-session puts a session id in the cookie and keeps the session itself in a store, and with no `store` option that store is a plain object in the memory of one worker. The page `/` and the API both read it.',
    'Either give express-session a `store` every worker shares (a small class extending `session.Store` with `get`, `set` and `destroy` over the `sessions` table in ACCOUNTS_DB), or keep the whole session in the cookie with cookie-session, signed: `cookieSession({ keys: [process.env.SESSION_SECRET] })`; log out with `req.session = null`. On login, start a new session (`req.session.regenerate(...)` with express-session) rather than writing the user into the one the browser brought.',
    'A cookie the app trusts must be signed with the host\'s SESSION_SECRET, and the signature checked: cookie-session with `signed: false`, or a plain cookie holding the user name, lets anyone type in someone else\'s name. A secret written in the code is not a secret, and one made with `crypto.randomBytes` when the app starts differs in every worker. With cookie-session, also put an expiry inside the session (`req.session.expires = Date.now() + ...`) and refuse a session past it: the cookie\'s own expiry is only a request to the browser.',
  ],
  workers: 3,
  mode: 'sequential',
  // The course's clock: a step lets an hour pass for the workers (and the visitors' browsers).
  clock: 'manual',
  brief(json) {
    const user = (json as { user?: unknown }).user;
    return user === null ? 'user: nobody' : typeof user === 'string' ? `user: ${user}` : undefined;
  },
  seed(dir) {
    const file = path.join(dir, 'accounts.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE users (name TEXT PRIMARY KEY, salt TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE sessions (sid TEXT PRIMARY KEY, data TEXT NOT NULL, expires INTEGER NOT NULL);`);
    const insert = db.prepare('INSERT INTO users (name, salt, hash) VALUES (?, ?, ?)');
    for (const [name, password] of Object.entries(PASSWORDS)) {
      const salt = randomBytes(16).toString('hex');
      insert.run(name, salt, scryptSync(password, salt, 32, { N: 1024 }).toString('hex'));
    }
    db.close();
    return { ACCOUNTS_DB: file, SESSION_SECRET: randomBytes(32).toString('hex') };
  },
  flask: {
    file: 'app.py',
    // gunicorn's default: every worker imports the app itself, so a key made at import differs per worker.
    load: 'lazy',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'The login works; it is remembering it that fails. Flask signs the session cookie with `app.secret_key`, and each worker made its own key with `os.urandom(32)` when it imported `app.py`.',
      'Every worker, now and after a reload, must sign and check with the same key: take it from the host, `app.secret_key = os.environ["SESSION_SECRET"]`.',
      'A key written in the code (`"dev"`, as in the tutorial) is not a secret: anyone can sign a session that says alice with it. Nor is a plain cookie holding the user name.',
    ],
  },
  steps: [
    {
      title: "alice logs in with the page's form on one worker and is logged in on every worker",
      async run(ctx) {
        const worker = someWorker(ctx);
        const page = await ctx.visitor('alice').page('/', { worker });
        await logInWithForm(ctx, 'alice', 'alice', page, worker, sessionLost(ctx, 'alice', worker));
        const diagnose = await sessionLostOrOwnKey(ctx, 'alice', worker);
        for (let k = 1; k <= ctx.workers; k++) await expectUser(ctx, 'alice', ctx.workerAt(worker + k), 'alice', diagnose);
      },
    },
    {
      title: "bob logs in through the page's script, and erin through the shop's phone app: each stays themselves on every worker",
      async run(ctx) {
        // bob works in alice's office: same network, same company browser build.
        ctx.visitor('bob', { like: 'alice' });
        const worker = someWorker(ctx);
        await logInWithApi(ctx, 'bob', worker);
        const bobLost = await sessionLostOrOwnKey(ctx, 'bob', worker);
        const aliceLost = sessionLost(ctx, 'alice', worker);
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'bob', ctx.workerAt(worker + k), 'bob', bobLost);
          await expectUser(ctx, 'alice', ctx.workerAt(worker + k), 'alice', aliceLost);
        }
        // A program calls the same API: no browser, none of a browser's headers, a cookie jar of its own.
        ctx.visitor(APP, { kind: 'api' });
        const appWorker = someWorker(ctx);
        await logInWithApi(ctx, APP, appWorker, 'erin');
        const appLost = await sessionLostOrOwnKey(ctx, APP, appWorker);
        for (let k = 1; k <= ctx.workers; k++) await expectUser(ctx, APP, ctx.workerAt(appWorker + k), 'erin', appLost);
        ctx.visitor('carol', { like: 'alice' });
        await expectUser(ctx, 'carol', someWorker(ctx), null, (got) => `carol never logged in, yet the app says she is ${got}: a session must belong to the visitor whose cookie found it.`);
      },
    },
    ...visitSteps,
    {
      title: 'alice and bob stay logged in across a reload, and when others log in after it',
      reloads: true,
      // Every worker starts again: on a busy machine that alone can take several seconds.
      timeoutMs: 30_000,
      async run(ctx) {
        await ctx.reload();
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'alice', k, 'alice', reloaded(ctx));
          await expectUser(ctx, 'bob', k, 'bob', reloaded(ctx));
        }
        // The shop goes on after the deploy: on every worker, someone who was not logged in
        // loads the page and logs in with its form, as alice did before it.
        const newcomers = Array.from({ length: ctx.workers }, (_, i) => {
          const name = NEWCOMERS[i % NEWCOMERS.length]!;
          return { visitor: `${name}'s phone${i < NEWCOMERS.length ? '' : ` ${i + 1}`}`, name, worker: i + 1 };
        });
        for (const { visitor, name, worker } of newcomers) {
          const page = await ctx.visitor(visitor).page('/', { worker });
          await logInWithForm(ctx, visitor, name, page, worker, sessionLost(ctx, name, worker));
        }
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'alice', k, 'alice', takenOver(ctx, 'alice'));
          await expectUser(ctx, 'bob', k, 'bob', takenOver(ctx, 'bob'));
        }
        for (const { visitor, name, worker } of newcomers) {
          await expectUser(ctx, visitor, ctx.workerAt(worker + 1), name, (got, w, route) =>
            `${name} logged in on worker ${worker} after the reload, and ${where(w, route)} answers as ${got ?? 'nobody'}: a login must start a session of its own, under an id no other session has had.`,
          );
        }
      },
    },
    {
      title: 'Two customers logging in at the same moment on two workers both stay logged in',
      skip: (ctx) => (ctx.workers < 2 ? 'a race between two workers needs two workers' : undefined),
      timeoutMs: 30_000,
      async run(ctx) {
        // Two customers press "Log in" at the same moment, answered by two workers. Each round
        // holds the first worker after one more read of its login (its first, then its second...),
        // while the other worker serves the other login from start to end.
        for (let round = 1; round <= AT_ONCE_ROUNDS; round++) {
          // Two customers in fresh browsers (the same people again, on other devices, in later rounds).
          const customer = (i: number): Customer => {
            const name = NEWCOMERS[(2 * round - 2 + i) % NEWCOMERS.length]!;
            return { name, visitor: round <= NEWCOMERS.length / 2 ? name : `${name}-${round}` };
          };
          const [held, other] = ctx.random() < 0.5 ? [customer(0), customer(1)] : [customer(1), customer(0)];
          const first = someWorker(ctx);
          const second = ctx.workerAt(first + 1);
          const logIn = (who: Customer, worker: number) => () => ctx.visitor(who.visitor).post('/api/login', { name: who.name, password: PASSWORDS[who.name] }, { worker });
          let reads = 0;
          const replies = await ctx.race(
            { worker: first, send: logIn(held, first), holdAfter: (operation) => firstRead(operation) && ++reads === round },
            { worker: second, send: logIn(other, second) },
          );
          for (const [i, who] of [held, other].entries()) {
            const reply = replies[i]!;
            if (reply.status >= 500) {
              fail({
                expected: `${who.name}'s login on worker ${reply.worker ?? (i ? second : first)} to log ${who.name} in`,
                got: `status ${reply.status}: ${reply.body}`,
                diagnosis: `${held.name} and ${other.name} logged in at the same moment, and ${who.name}'s login failed. Two logins at once must both work. A new session that takes its id from what the table already holds (the largest id plus one) takes the same id as the other login's: make session ids long and random. The error and its line are in the output below.`,
              });
            }
            if (userIn(reply) !== who.name) fail({ expected: `${who.name}'s login on worker ${i ? second : first} to log ${who.name} in`, got: reply.body });
          }
          for (const who of [held, other]) {
            for (let k = 0; k < ctx.workers; k++) {
              await expectUser(ctx, who.visitor, ctx.workerAt(first + k), who.name, loginLostAtOnce(ctx, who.name, (who === held ? other : held).name, [first, second]));
            }
          }
          // The held login made no more reads than this: no later point of it is left to hold at.
          if (reads < round) break;
        }
      },
    },
    {
      title: "alice logs out with the page's button, bob through the API: each is logged out on every worker",
      async run(ctx) {
        const first = someWorker(ctx);
        await logOutWithForm(ctx, 'alice', first);
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'alice', ctx.workerAt(first + k), null, loggedOut('alice', first, 'with the page\'s button'));
          await expectUser(ctx, 'bob', ctx.workerAt(first + k), 'bob', stillIn('bob', 'alice'));
        }
        const second = ctx.workerAt(first + 1);
        expectJson(await ctx.visitor('bob').post('/api/logout', undefined, { worker: second }), 'a JSON answer');
        for (let k = 1; k <= ctx.workers; k++) await expectUser(ctx, 'bob', ctx.workerAt(second + k), null, loggedOut('bob', second, 'through the API'));
      },
    },
    {
      title: 'A request alice sent before logging out does not bring her session back',
      skip: (ctx) => (ctx.workers < 2 ? 'a race between two workers needs two workers' : undefined),
      async run(ctx) {
        const reader = someWorker(ctx);
        const leaver = ctx.workerAt(reader + 1);
        await logInWithApi(ctx, 'alice', leaver);
        const alice = ctx.visitor('alice');
        // alice's page asks who she is on one worker and, while that request is held after it read
        // her session, she presses "log out", answered by another worker.
        const [, logout] = await ctx.race(
          { worker: reader, send: () => alice.get('/api/me', { worker: reader }) },
          { worker: leaver, send: () => alice.post('/api/logout', undefined, { worker: leaver }) },
        );
        expectJson(logout, 'a JSON answer');
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'alice', ctx.workerAt(leaver + k), null, (got, w, route) =>
            got === 'alice'
              ? `alice logged out on worker ${leaver} while worker ${reader} was still answering a request she had sent before, and ${where(w, route)} finds her logged in again: when that request ended, worker ${reader} saved the session it had read at its start, back into the store. A request that did not change the session must not write it back (and a write must not bring back a session that is gone).`
              : `${where(w, route)} answered alice, who logged out, as ${got}.`,
          );
        }
      },
    },
    {
      title: "A session cookie planted before a login (by the form or the page's script) does not log its planter in as the new user, nor does a copy of the user's cookie once she has logged out and in again",
      async run(ctx) {
        // alice opens the login page on a shared computer; mallory, logged in as herself, slips
        // her own session cookie into that browser and keeps a copy; alice logs in there.
        const worker = someWorker(ctx);
        const kiosk = ctx.visitor('kiosk', { like: 'alice' });
        const page = await kiosk.page('/', { worker });
        await logInWithApi(ctx, 'mallory', ctx.workerAt(worker + 1));
        const { cookies } = await cookiesOf(ctx.visitor('mallory'));
        await replaceCookies(kiosk, cookies);
        await logInWithForm(ctx, 'kiosk', 'alice', page, worker, (got) => `alice logged in on a browser that carried mallory's session cookie, and the page shows ${got ?? 'nobody'}: a login must start a session of alice's own.`);
        for (const k of [0, 1]) {
          await expectNotUser(ctx, 'mallory', ctx.workerAt(worker + k), 'alice', (w, route) =>
            `mallory's copy of the session cookie she planted is now logged in as alice (${where(w, route)}): the login wrote alice into the session the browser brought, the one mallory knows the id of. On login, start a new session and drop the old one.`,
          );
        }
        // mallory keeps a copy of the kiosk's cookies while alice is logged in there (a glance at
        // the browser, a proxy's log); alice logs out at the kiosk, and later logs in again on her
        // own laptop. A copy that died with the logout must stay dead.
        const copy = await cookiesOf(kiosk);
        await logOutWithForm(ctx, 'kiosk', worker);
        const replay = ctx.visitor("mallory's copy", { like: 'kiosk' });
        await replaceCookies(replay, copy.cookies);
        const afterLogout = userIn(await replay.get('/api/me', { worker: ctx.workerAt(worker + 1) }));
        await logInWithApi(ctx, 'alice', ctx.workerAt(worker + 2));
        // A copy still good after the logout is a signed cookie that carries its session (cookie-session,
        // Flask's): it lasts until its expiry. What must not happen is a dead session coming back.
        if (afterLogout === null) {
          for (const k of [0, 1]) {
            await expectUser(ctx, "mallory's copy", ctx.workerAt(worker + k), null, (got, w, route) =>
              got === 'alice'
                ? `mallory copied alice's session cookie at the kiosk before alice logged out there; the copy logged nobody in after the logout, but once alice logged in again on her laptop, ${where(w, route)} took the copy as alice's session: her new login was given the very id of the session she had ended (an id made from her name, one per customer, or the table's largest id plus one, which comes back once the last session is deleted). Every login must get a new random id (express-session's own, crypto.randomUUID(), secrets.token_urlsafe(32)), never one derived from who logs in or from what the table holds.`
                : `mallory's copy of alice's cookie, dead since alice logged out, was taken by ${where(w, route)} as ${got}'s session.`,
            );
          }
        }
        // The same trap on another shared computer, whose page logs in through its own script
        // (the JSON API): bob logs in there, and mallory's planted cookie must not become bob's.
        // (alice's login at the kiosk ended the session mallory planted there: she logs in again first.)
        const library = ctx.visitor("the library's computer", { like: 'alice' });
        await library.page('/', { worker });
        await logInWithApi(ctx, 'mallory', ctx.workerAt(worker + 2));
        await replaceCookies(library, (await cookiesOf(ctx.visitor('mallory'))).cookies);
        await logInWithApi(ctx, "the library's computer", ctx.workerAt(worker + 1), 'bob');
        for (const k of [0, 1]) {
          await expectNotUser(ctx, 'mallory', ctx.workerAt(worker + k), 'bob', (w, route) =>
            `bob logged in through the page's script (POST /api/login with JSON) on a browser that carried mallory's session cookie, and mallory's copy is now logged in as bob (${where(w, route)}): that login wrote bob into the session the browser brought. Every way in (the form and the API alike) must start a new session and drop the old one.`,
          );
        }
        // A session need not be logged in to be planted: mallory opens the shop in another browser
        // without logging in, and slips whatever it was given into a hotel's computer, where alice
        // then logs in with the form.
        const anonymous = ctx.visitor("mallory's other browser", { like: 'mallory' });
        await anonymous.page('/', { worker });
        const given = (await cookiesOf(anonymous)).cookies;
        if (given.length) {
          const hotel = ctx.visitor("the hotel's computer", { like: 'alice' });
          const hotelPage = await hotel.page('/', { worker: ctx.workerAt(worker + 1) });
          await replaceCookies(hotel, given);
          await logInWithForm(ctx, "the hotel's computer", 'alice', hotelPage, ctx.workerAt(worker + 1), (got) => `alice logged in on a browser that carried a session cookie mallory had been given without logging in, and the page shows ${got ?? 'nobody'}: a login must start a session of alice's own.`);
          for (const k of [0, 1]) {
            await expectNotUser(ctx, "mallory's other browser", ctx.workerAt(worker + k), 'alice', (w, route) =>
              `mallory was given a session without logging in, slipped its cookie into the hotel's computer, and once alice logged in there, mallory's copy is alice's session (${where(w, route)}): the login wrote alice into the session the browser brought, logged in or not. Every login must start a new session (a new id) and drop the old one.`,
            );
          }
        }
      },
    },
    {
      title: 'A tampered session cookie logs nobody in',
      async run(ctx) {
        const mallory = ctx.visitor('mallory');
        const worker = someWorker(ctx);
        await logInWithApi(ctx, 'mallory', worker);
        await expectUser(ctx, 'mallory', ctx.workerAt(worker + 1), 'mallory', sessionLost(ctx, 'mallory', worker));
        const { cookies } = await cookiesOf(mallory);
        const edited = tampered(cookies, 'mallory', 'alice');
        if (!edited) fail({ expected: 'a session cookie for mallory after logging in', got: 'no cookie at all' });
        await replaceCookies(mallory, edited);
        for (const k of [0, 1]) {
          await expectUser(ctx, 'mallory', ctx.workerAt(worker + k), null, (got, w, route) =>
            got === 'alice'
              ? `mallory edited her own cookie to say alice, and ${where(w, route)} believed it: the cookie is not signed, or its signature is not checked for this request. Sign what the cookie holds with SESSION_SECRET (${ctx.track === 'flask' ? "Flask's session with app.secret_key set from it" : 'cookie-session with `keys`, or express-session with a shared store'}) and check it on every request, whoever sends it.`
              : `mallory edited her cookie and ${where(w, route)} still took it as ${got}'s: a cookie whose signature no longer matches must be ignored.`,
          );
        }
      },
    },
    forgedStep,
    daysLaterStep,
  ],
};

export default lesson;
