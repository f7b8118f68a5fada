// The Corner Shop's price list, with a page where the shop's staff change a price.
//
// The host runs this app on three worker processes. SHOP_DB names a SQLite database that every
// worker can open; its table is:
//   CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL)
// Prices are in cents.
import Database from 'better-sqlite3';
import express from 'express';

const db = new Database(process.env.SHOP_DB);
const selectProducts = db.prepare('SELECT id, name, price FROM products ORDER BY id');
const updatePrice = db.prepare('UPDATE products SET price = ? WHERE id = ?');

// No copy in memory: every request reads the prices from the database that every worker
// shares. A prepared statement is a plan, not data, so it may stay at module level.
function products() {
  return selectProducts.all();
}

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

app.get('/api/products', (req, res) => {
  res.json({ products: products() });
});

// The staff's edit: {"id": 2, "price": 199}
app.post('/api/admin/price', (req, res) => {
  const id = Number(req.body?.id);
  const price = Number(req.body?.price);
  if (!Number.isInteger(id) || !Number.isInteger(price) || price < 0) {
    return res.status(400).json({ error: 'Send a product id and a price in cents, like {"id": 2, "price": 199}' });
  }
  if (updatePrice.run(price, id).changes === 0) return res.status(404).json({ error: `No product ${id}` });
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.json({ products: products() });
});

app.get('/', (req, res) => {
  const rows = products().map((p) => `<li>${p.id}. ${escapeHtml(p.name)}: ${(p.price / 100).toFixed(2)}</li>`).join('');
  res.send(`<!doctype html><title>Prices</title><h1>Prices</h1><ul>${rows}</ul>
<form method="post" action="/api/admin/price">Product <input name="id" size="3"> new price in cents
<input name="price" size="6"> <button>Change</button></form>`);
});

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export default app;
