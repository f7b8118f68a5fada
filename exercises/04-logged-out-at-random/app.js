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

app.use(
  session({
    secret: process.env.SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }),
);

app.post('/api/login', (req, res) => {
  const { name, password } = req.body ?? {};
  if (!checkPassword(name, password)) return res.status(401).json({ error: 'Wrong name or password' });
  req.session.user = name;
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.json({ user: name });
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
