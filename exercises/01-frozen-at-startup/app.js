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
  const rows = products.map((p) => `<li>${p.name}: ${(p.price / 100).toFixed(2)} ${site.currency}</li>`);
  res.send(`<!doctype html><title>${site.shopName}</title><h1>${site.shopName}</h1><ul>${rows.join('')}</ul>`);
});

export default app;
