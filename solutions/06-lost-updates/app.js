// The Corner Shop's flash sale: a handful of teapots, and a crowd of buyers at the same moment.
//
// The host runs this app on three worker processes, and each worker handles many requests at
// once (Node's own way: while one request waits, the next one runs). From the environment:
//   SHOP_DB      the shop's SQLite database, shared by every worker. Its tables:
//                  stock  (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL)
//                  orders (id INTEGER PRIMARY KEY, product TEXT NOT NULL, buyer TEXT NOT NULL, charge INTEGER)
//   PAYMENTS_DB  the card provider's ledger, used by charge() below.
import Database from 'better-sqlite3';
import express from 'express';

const PRODUCT = 'teapot';

const db = new Database(process.env.SHOP_DB);
const selectStock = db.prepare('SELECT name, qty, price FROM stock WHERE id = ?');
// Check and decrement in one statement: SQLite runs it atomically, whatever other workers do.
const takeOne = db.prepare('UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0');
const putBack = db.prepare('UPDATE stock SET qty = qty + 1 WHERE id = ?');
const insertOrder = db.prepare('INSERT INTO orders (product, buyer, charge) VALUES (?, ?, ?)');
const countOrders = db.prepare('SELECT count(*) FROM orders WHERE product = ?').pluck();

// The card provider's client. charge(buyer, cents) resolves with the charge's id once the
// provider has answered, which takes it a moment. It is not part of the exercise: leave it as
// it is (the course plays the provider and watches its ledger).
const ledger = new Database(process.env.PAYMENTS_DB);
const openCharge = ledger.prepare("INSERT INTO charges (buyer, amount, status) VALUES (?, ?, 'pending')");
const closeCharge = ledger.prepare("UPDATE charges SET status = 'paid' WHERE id = ?");

async function charge(buyer, amount) {
  const id = Number(openCharge.run(buyer, amount).lastInsertRowid);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the provider's answer
  closeCharge.run(id);
  return id;
}

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

// A purchase: {"buyer": "dana"}
app.post('/api/buy', async (req, res) => {
  const buyer = String(req.body?.buyer ?? '').trim();
  if (!buyer) return res.status(400).json({ error: 'Send a buyer, like {"buyer": "dana"}' });

  // Take a teapot off the stock first; only a buyer who got one is charged.
  if (takeOne.run(PRODUCT).changes === 0) return res.status(409).json({ error: 'Sold out' });
  const { qty, price } = selectStock.get(PRODUCT);
  let chargeId;
  try {
    chargeId = await charge(buyer, price);
  } catch (error) {
    putBack.run(PRODUCT); // the payment failed: the teapot goes back on the shelf
    throw error;
  }
  const order = Number(insertOrder.run(PRODUCT, buyer, chargeId).lastInsertRowid);

  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ order, left: qty });
});

app.get('/api/stock', (req, res) => {
  const { name, qty } = selectStock.get(PRODUCT);
  res.json({ product: name, left: qty, sold: countOrders.get(PRODUCT) });
});

app.get('/', (req, res) => {
  const { name, qty, price } = selectStock.get(PRODUCT);
  res.send(`<!doctype html><title>Flash sale</title><h1>Flash sale: ${name}, ${(price / 100).toFixed(2)}</h1>
<p>${qty} left, ${countOrders.get(PRODUCT)} sold.</p>
<form method="post" action="/api/buy"><input name="buyer" placeholder="your name" autofocus> <button>Buy one</button></form>`);
});

export default app;
