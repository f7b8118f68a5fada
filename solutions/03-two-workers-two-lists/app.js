// The Corner Shop's basket, now on a host that runs three worker processes.
//
// Each visitor already has an id of their own, in a cookie that every worker understands.
// BASKET_DB names a SQLite database that every worker can open; its table is:
//   CREATE TABLE basket_items (id INTEGER PRIMARY KEY, visitor TEXT NOT NULL, item TEXT NOT NULL)
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import cookieParser from 'cookie-parser';
import express from 'express';

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(cookieParser());

// Who is asking: the id in the visitor's cookie, or a new one.
function visitorId(req, res) {
  let id = req.cookies.visitor;
  if (!id) {
    id = randomUUID();
    res.cookie('visitor', id, { httpOnly: true, sameSite: 'lax' });
  }
  return id;
}

// Every worker opens the same database file; the rows live there, not in this process.
const db = new Database(process.env.BASKET_DB);
const selectItems = db.prepare('SELECT item FROM basket_items WHERE visitor = ? ORDER BY id').pluck();
const insertItem = db.prepare('INSERT INTO basket_items (visitor, item) VALUES (?, ?)');

function itemsOf(visitor) {
  return selectItems.all(visitor);
}

function addItem(visitor, item) {
  insertItem.run(visitor, item);
}

app.get('/api/basket', (req, res) => {
  res.json({ items: itemsOf(visitorId(req, res)) });
});

app.post('/api/basket', (req, res) => {
  const item = String(req.body?.item ?? '').trim();
  if (!item) return res.status(400).json({ error: 'Send an item, like {"item": "tea"}' });
  const visitor = visitorId(req, res);
  addItem(visitor, item);
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ items: itemsOf(visitor) });
});

app.get('/', (req, res) => {
  const rows = itemsOf(visitorId(req, res)).map((item) => `<li>${escape(item)}</li>`).join('');
  res.send(`<!doctype html><title>Your basket</title><h1>Your basket</h1><ul>${rows}</ul>
<form method="post" action="/api/basket"><input name="item" autofocus> <button>Add</button></form>`);
});

function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

export default app;
