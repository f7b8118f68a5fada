// The Corner Shop's basket: visitors put items in it and see what they have put there.
//
// For now the host runs a single worker process, as your laptop's dev server does.
import { randomUUID } from 'node:crypto';
import cookieParser from 'cookie-parser';
import express from 'express';

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(cookieParser());

// One basket per visitor, found by the random id in the visitor's cookie.
const baskets = new Map();

function basketOf(req, res) {
  let id = req.cookies.visitor;
  if (!id) {
    id = randomUUID();
    res.cookie('visitor', id, { httpOnly: true, sameSite: 'lax' });
  }
  if (!baskets.has(id)) baskets.set(id, []);
  return baskets.get(id);
}

app.get('/api/basket', (req, res) => {
  res.json({ items: basketOf(req, res) });
});

app.post('/api/basket', (req, res) => {
  const item = String(req.body?.item ?? '').trim();
  if (!item) return res.status(400).json({ error: 'Send an item, like {"item": "tea"}' });
  const basket = basketOf(req, res);
  basket.push(item);
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ items: basket });
});

app.get('/', (req, res) => {
  const rows = basketOf(req, res).map((item) => `<li>${escape(item)}</li>`).join('');
  res.send(`<!doctype html><title>Your basket</title><h1>Your basket</h1><ul>${rows}</ul>
<form method="post" action="/api/basket"><input name="item" autofocus> <button>Add</button></form>`);
});

function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

export default app;
