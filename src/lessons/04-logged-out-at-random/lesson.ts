import { randomBytes, scryptSync } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { cookiesOf, forgeries, replaceCookies, tampered } from './cookies.ts';

const PASSWORDS: Readonly<Record<string, string>> = { alice: 'wonderland', bob: 'builder', mallory: 'mischief' };


function userIn(reply: Reply): string | null {
  const body = expectJson(reply, 'JSON like {"user": "alice"} or {"user": null}') as Record<string, unknown> | null;
  const user = body?.user;
  if (user !== null && typeof user !== 'string') {
    fail({
      expected: `JSON like {"user": "alice"} or {"user": null} from ${describe(reply)}`,
      got: reply.body,
      diagnosis: 'Keep the answer\'s shape: "user" is the name of whoever is logged in, or null.',
    });
  }
  return user;
}

async function logIn(ctx: CheckContext, name: string, worker: number): Promise<void> {
  const reply = await ctx.visitor(name).post('/api/login', { name, password: PASSWORDS[name] }, { worker });
  const user = userIn(reply);
  if (user !== name) fail({ expected: `${describe(reply)} to log ${name} in`, got: reply.body });
}

const whom = (user: string | null) => (user === null ? 'nobody (user: null)' : `"${user}"`);

/** Ask as `visitor` on `worker` who is logged in; it must be `want`. */
async function expectUser(
  ctx: CheckContext,
  visitor: string,
  worker: number,
  want: string | null,
  diagnose: (got: string | null, worker: number) => string,
): Promise<void> {
  const reply = await ctx.visitor(visitor).get('/api/me', { worker });
  const user = userIn(reply);
  if (user !== want) {
    fail({ expected: `${whom(want)} logged in for ${describe(reply)}`, got: whom(user), diagnosis: diagnose(user, worker) });
  }
}

function sessionLost(visitor: string, loggedInOn: number) {
  return (got: string | null, worker: number): string => {
    if (got === null) {
      return `${visitor} logged in on worker ${loggedInOn}, but worker ${worker} has never heard of that session. A session kept in the memory of the worker that created it (express-session's default MemoryStore, a dict) is invisible to the others, and a cookie signed with a key each worker made for itself (a secret made at import) is one the others cannot check. Keep sessions where every worker finds them: in a store on ACCOUNTS_DB, or in the cookie itself, signed with the host's SESSION_SECRET.`;
    }
    return `${visitor}'s request was answered as ${got}: who is logged in must come from ${visitor}'s own session, found through ${visitor}'s own cookie, not from anything every visitor shares.`;
  };
}

const RELOADED =
  'The reload started every worker afresh, and a session kept in process memory went with the old processes: a deploy would log everyone out. Keep sessions in the database, or in a signed cookie.';

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
    'The login works; it is remembering it that fails. express-session puts a session id in the cookie and keeps the session itself in a store, and with no `store` option that store is a plain object in the memory of one worker.',
    'Either give express-session a `store` every worker shares (a small class extending `session.Store` with `get`, `set` and `destroy` over the `sessions` table in ACCOUNTS_DB), or keep the whole session in the cookie with cookie-session, signed: `cookieSession({ keys: [process.env.SESSION_SECRET] })`; log out with `req.session = null`.',
    'A cookie the app trusts must be signed with the host\'s SESSION_SECRET, and the signature checked: cookie-session with `signed: false`, or a plain cookie holding the user name, lets anyone type in someone else\'s name. A secret written in the code is not a secret either.',
  ],
  workers: 3,
  mode: 'sequential',
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
      title: 'alice logs in on worker 1 and is still logged in on worker 2',
      async run(ctx) {
        await logIn(ctx, 'alice', ctx.workerAt(1));
        for (const k of [2, 3, 1]) await expectUser(ctx, 'alice', ctx.workerAt(k), 'alice', sessionLost('alice', ctx.workerAt(1)));
      },
    },
    {
      title: 'bob logs in on worker 3: alice and bob each stay themselves on every worker',
      async run(ctx) {
        await logIn(ctx, 'bob', ctx.workerAt(3));
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'bob', k, 'bob', sessionLost('bob', ctx.workerAt(3)));
          await expectUser(ctx, 'alice', k, 'alice', sessionLost('alice', ctx.workerAt(1)));
        }
        await expectUser(ctx, 'carol', ctx.workerAt(2), null, (got) => `carol never logged in, yet the app says she is ${got}: a session must belong to the visitor whose cookie found it.`);
      },
    },
    {
      title: 'alice and bob stay logged in across a reload',
      reloads: true,
      async run(ctx) {
        await ctx.reload();
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'alice', k, 'alice', () => RELOADED);
          await expectUser(ctx, 'bob', k, 'bob', () => RELOADED);
        }
      },
    },
    {
      title: 'alice logs out on worker 2 and is logged out on every worker; bob is not',
      async run(ctx) {
        const reply = await ctx.visitor('alice').post('/api/logout', undefined, { worker: ctx.workerAt(2) });
        expectJson(reply, 'a JSON answer');
        for (let k = 1; k <= ctx.workers; k++) {
          await expectUser(ctx, 'alice', k, null, (_, worker) =>
            `alice logged out on worker ${ctx.workerAt(2)}, but worker ${worker} still finds her session: it kept a copy of its own. Logging out must remove the session where every worker looks (or clear the session cookie), and every worker must look there on every request.`,
          );
          await expectUser(ctx, 'bob', k, 'bob', () => 'alice logged out, and bob lost his session too: log out only the session of the visitor who asked.');
        }
      },
    },
    {
      title: 'A tampered session cookie logs nobody in',
      async run(ctx) {
        const mallory = ctx.visitor('mallory');
        await logIn(ctx, 'mallory', ctx.workerAt(1));
        await expectUser(ctx, 'mallory', ctx.workerAt(2), 'mallory', sessionLost('mallory', ctx.workerAt(1)));
        const { domain, cookies } = await cookiesOf(mallory);
        const edited = tampered(cookies, 'mallory', 'alice');
        if (!edited) fail({ expected: 'a session cookie for mallory after logging in', got: 'no cookie at all' });
        await replaceCookies(mallory, domain, edited);
        for (const k of [1, 2]) {
          await expectUser(ctx, 'mallory', ctx.workerAt(k), null, (got) =>
            got === 'alice'
              ? 'mallory edited her own cookie to say alice, and the app believed it: the cookie is not signed, or its signature is not checked. Sign what the cookie holds with SESSION_SECRET (cookie-session with `keys`, or express-session with a shared store) and leave the check on.'
              : `mallory edited her cookie and the app still took it as ${got}'s: a cookie whose signature no longer matches must be ignored.`,
          );
        }
      },
    },
    {
      title: 'A forged session cookie logs nobody in',
      async run(ctx) {
        const mallory = ctx.visitor('mallory');
        await logIn(ctx, 'mallory', ctx.workerAt(1));
        const { domain, cookies } = await cookiesOf(mallory);
        for (const attempt of forgeries(cookies, 'mallory', 'alice')) {
          await replaceCookies(mallory, domain, attempt.cookies);
          await expectUser(ctx, 'mallory', ctx.workerAt(3), null, (got) => {
            const what = `mallory made ${attempt.what}, and the app took it as ${got}'s session.`;
            if (attempt.what.includes('guessable secret')) return `${what} A secret written in the code (or copied from an example) is known to everyone: sign with the SESSION_SECRET the host sets in the environment, which only the host knows.`;
            if (attempt.what.includes('guessed id')) return `${what} Session ids must be long and random (express-session makes them so), or the cookie signed: 1, 2, 3 are the first ids anyone tries.`;
            return `${what} Anyone can write an unsigned cookie: sign it with SESSION_SECRET and check the signature.`;
          });
        }
      },
    },
  ],
};

export default lesson;
