// The Corner Shop, all of it: a catalogue, sign-in, an account page and a checkout.
//
// The host runs this file on three worker processes, each serving many requests at once, as
// Node does. Settings come from the environment:
//   SHOP_DB         the shop's SQLite database:
//                     products  (id, name, price, stock)      prices in cents
//                     customers (name, full_name)
//                     orders    (id, customer, product_id, price)
//   SESSION_SECRET  a secret for signing cookies
//   PAYMENTS_DB     the card provider's ledger, which chargeCard below writes to
import Database from 'better-sqlite3';
import express from 'express';
import session from 'express-session';

const db = new Database(process.env.SHOP_DB);
const findCustomer = db.prepare('SELECT name, full_name AS fullName FROM customers WHERE name = ?');
const selectOrders = db.prepare(
  'SELECT orders.id, products.name AS item, orders.price FROM orders JOIN products ON products.id = orders.product_id WHERE customer = ? ORDER BY orders.id',
);
const readStock = db.prepare('SELECT stock FROM products WHERE id = ?').pluck();
const writeStock = db.prepare('UPDATE products SET stock = ? WHERE id = ?');
const insertOrder = db.prepare('INSERT INTO orders (customer, product_id, price) VALUES (?, ?, ?)');

// The catalogue, loaded once so that pages are fast.
const catalogue = db.prepare('SELECT id, name, price, stock FROM products ORDER BY id').all();

// Services the shop calls over the network; each call takes a moment, and the worker serves
// other requests meanwhile. (The course simulates the network with a timer: keep the awaits.)
const networkDelay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fetchOrders(customerName) {
  await networkDelay(300);
  return selectOrders.all(customerName);
}

// The card provider's client: the provider records each charge in its ledger (PAYMENTS_DB).
// It is not part of the exercise: leave it as it is (the course plays the provider and keeps
// its ledger).
const ledger = new Database(process.env.PAYMENTS_DB);
const recordCharge = ledger.prepare('INSERT INTO charges (customer, amount) VALUES (?, ?)');

async function chargeCard(customerName, amount) {
  await networkDelay(500);
  recordCharge.run(customerName, amount);
  return { paid: amount, by: customerName };
}

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false }));

// The customer who sent the request being handled.
let currentCustomer = null;

app.use((req, res, next) => {
  currentCustomer = req.session.customer ? findCustomer.get(req.session.customer) ?? null : null;
  next();
});

function requireSignIn(req, res, next) {
  if (!currentCustomer) return res.status(401).json({ error: 'Sign in first' });
  next();
}

app.post('/login', (req, res) => {
  const customer = findCustomer.get(String(req.body?.name ?? '').trim().toLowerCase());
  if (!customer) return res.status(401).json({ error: 'No customer by that name: try alice, bob or carol' });
  req.session.customer = customer.name;
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.json({ name: customer.name });
});

app.get('/api/products', (req, res) => {
  res.json({ products: catalogue });
});

app.get('/api/me', requireSignIn, (req, res) => {
  res.json({ name: currentCustomer.name, fullName: currentCustomer.fullName });
});

app.get('/api/account', requireSignIn, async (req, res) => {
  const orders = await fetchOrders(currentCustomer.name);
  res.json({ name: currentCustomer.name, fullName: currentCustomer.fullName, orders });
});

app.post('/api/buy', requireSignIn, async (req, res) => {
  const product = catalogue.find((p) => p.id === Number(req.body?.product));
  if (!product) return res.status(404).json({ error: 'No such product' });
  const stock = readStock.get(product.id);
  if (stock < 1) return res.status(409).json({ error: `${product.name} is sold out` });
  await chargeCard(currentCustomer.name, product.price);
  writeStock.run(stock - 1, product.id);
  const order = insertOrder.run(currentCustomer.name, product.id, product.price);
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ order: Number(order.lastInsertRowid), product: product.name, price: product.price });
});

app.get('/', (req, res) => {
  const rows = catalogue
    .map(
      (p) => `<li>${escape(p.name)}: ${(p.price / 100).toFixed(2)} EUR (${p.stock} left)
<form method="post" action="/api/buy" style="display:inline"><input type="hidden" name="product" value="${p.id}"><button>Buy</button></form></li>`,
    )
    .join('');
  const who = currentCustomer
    ? `<p>Signed in as ${escape(currentCustomer.fullName)}.</p>`
    : `<form method="post" action="/login"><input name="name" placeholder="alice, bob or carol"> <button>Sign in</button></form>
<p><small>A demo shortcut: signing in takes only a customer's name, no password.</small></p>`;
  res.send(`<!doctype html><title>The Corner Shop</title><h1>The Corner Shop</h1>${who}<ul>${rows}</ul>`);
});

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

export default app;
