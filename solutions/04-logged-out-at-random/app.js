// The Corner Shop's accounts: log in, see who you are, log out.
//
// The host runs this app on three worker processes. Two settings come from the environment:
//   ACCOUNTS_DB     a SQLite database that every worker can open. Its tables:
//                     users    (name TEXT PRIMARY KEY, salt TEXT, hash TEXT)
//                     sessions (sid TEXT PRIMARY KEY, data TEXT NOT NULL, expires INTEGER NOT NULL)
//                   `sessions` is empty, ready for a session store that wants it.
//   SESSION_SECRET  a long random secret for signing cookies, the same on every worker
import { scryptSync, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import express from 'express';
import session from 'express-session';

const db = new Database(process.env.ACCOUNTS_DB);
const selectUser = db.prepare('SELECT name, salt, hash FROM users WHERE name = ?');

function checkPassword(name, password) {
  const user = selectUser.get(name);
  if (!user) return false;
  const hash = scryptSync(String(password), user.salt, 32, { N: 1024 });
  return timingSafeEqual(hash, Buffer.from(user.hash, 'hex'));
}

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

// A session store on the database every worker opens. express-session calls get, set and
// destroy with the session id from the visitor's signed cookie; touch keeps a session alive.
const DAY = 24 * 60 * 60 * 1000;

class SqliteStore extends session.Store {
  #get = db.prepare('SELECT data FROM sessions WHERE sid = ? AND expires > ?').pluck();
  #set = db.prepare(
    'INSERT INTO sessions (sid, data, expires) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires = excluded.expires',
  );
  #touch = db.prepare('UPDATE sessions SET expires = ? WHERE sid = ?');
  #destroy = db.prepare('DELETE FROM sessions WHERE sid = ?');

  get(sid, done) {
    try {
      const data = this.#get.get(sid, Date.now());
      done(null, data ? JSON.parse(data) : null);
    } catch (error) {
      done(error);
    }
  }

  set(sid, data, done) {
    try {
      this.#set.run(sid, JSON.stringify(data), expiresAt(data));
      done?.(null);
    } catch (error) {
      done?.(error);
    }
  }

  touch(sid, data, done) {
    try {
      this.#touch.run(expiresAt(data), sid);
      done?.(null);
    } catch (error) {
      done?.(error);
    }
  }

  destroy(sid, done) {
    try {
      this.#destroy.run(sid);
      done?.(null);
    } catch (error) {
      done?.(error);
    }
  }
}

function expiresAt(data) {
  const expires = data.cookie?.expires;
  return expires ? new Date(expires).getTime() : Date.now() + DAY;
}

app.use(
  session({
    store: new SqliteStore(),
    secret: process.env.SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
    // Behind a TLS proxy (production, and the course's host), secure: true here with
    // app.set('trust proxy', 1) keeps the cookie off plain http.
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: DAY },
  }),
);

app.post('/api/login', (req, res, next) => {
  const { name, password } = req.body ?? {};
  if (!checkPassword(name, password)) return res.status(401).json({ error: 'Wrong name or password' });
  // A new session for the new login, never the one the browser brought: someone who planted
  // that session id in the browser (session fixation) would be logged in with it too.
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = name;
    if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
    res.json({ user: name });
  });
});

app.get('/api/me', (req, res) => {
  res.json({ user: req.session.user ?? null });
});

app.post('/api/logout', (req, res, next) => {
  req.session.destroy((error) => {
    if (error) return next(error);
    if (req.is('urlencoded')) return res.redirect(303, '/');
    res.json({ user: null });
  });
});

app.get('/', (req, res) => {
  const user = req.session.user;
  const body = user
    ? `<p>Logged in as <b>${escapeHtml(user)}</b>.</p><form method="post" action="/api/logout"><button>Log out</button></form>`
    : `<p>Not logged in. (Try alice / wonderland or bob / builder.)</p>
<form method="post" action="/api/login"><input name="name" placeholder="name" autofocus>
<input name="password" type="password" placeholder="password"> <button>Log in</button></form>`;
  res.send(`<!doctype html><title>Your account</title><h1>Your account</h1>${body}`);
});

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export default app;
