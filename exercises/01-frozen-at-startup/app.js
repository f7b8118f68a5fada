// The Corner Shop: a product list backed by a SQLite database.
//
// The course runs this file as a host does: several worker processes, each importing it once
// when it starts. Two settings come from the environment, as on a real host:
//   SHOP_DB      the shop's SQLite database (the stock team edits prices there)
//   SITE_CONFIG  the site's settings, a JSON file that changes only with a redeploy
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import express from 'express';

const site = JSON.parse(readFileSync(process.env.SITE_CONFIG, 'utf8'));
const db = new Database(process.env.SHOP_DB);

const products = db.prepare('SELECT id, name, price FROM products ORDER BY id').all();

const app = express();

app.get('/api/products', (req, res) => {
  res.json({ shop: site.shopName, currency: site.currency, products });
});

app.get('/', (req, res) => {
  const rows = products.map((p) => `<li>${escape(p.name)}: ${(p.price / 100).toFixed(2)} ${site.currency}</li>`);
  const name = escape(site.shopName);
  res.send(`<!doctype html><title>${name}</title><h1>${name}</h1><ul>${rows.join('')}</ul>`);
});

// Names can hold "&" or "<": escape them before they go into HTML.
function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

export default app;
