// The Corner Shop's flash sale: a handful of teapots, and a crowd of buyers at the same moment.
//
// The host runs this app on three worker processes, and each worker handles many requests at
// once (Node's own way: while one request is parked at an await, the next one runs). From the environment:
//   SHOP_DB      the shop's SQLite database, shared by every worker. Its tables:
//                  stock  (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL)
//                  orders (id INTEGER PRIMARY KEY AUTOINCREMENT, product TEXT NOT NULL, buyer TEXT NOT NULL, charge INTEGER)
//   PAYMENTS_DB  the card provider's ledger, used by charge() below.
// The shop sells one product, id 'teapot' (its name, price and stock vary).
import Database from 'better-sqlite3';
import express from 'express';

const PRODUCT = 'teapot';

const db = new Database(process.env.SHOP_DB);
const selectStock = db.prepare('SELECT name, qty, price FROM stock WHERE id = ?');
// Test and take in one statement: SQLite runs it atomically, whatever other workers do. It
// returns a row only when a teapot was taken, with what is left, so no second read is needed.
const takeOne = db.prepare('UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0 RETURNING qty, price');
const putBack = db.prepare('UPDATE stock SET qty = qty + 1 WHERE id = ?');
const insertOrder = db.prepare('INSERT INTO orders (product, buyer, charge) VALUES (?, ?, NULL)');
const markPaid = db.prepare('UPDATE orders SET charge = ? WHERE id = ?');
const deleteOrder = db.prepare('DELETE FROM orders WHERE id = ?');
const countOrders = db.prepare('SELECT count(*) FROM orders WHERE product = ?').pluck();

// The teapot and its order, together or not at all: an order whose charge is still empty is
// reserved, not paid. A crash during the payment leaves that order behind (to be charged again
// with the same key, or cancelled), never a teapot that left the shelf with no order.
// Synchronous, and run with .immediate(): the transaction is the writer from its first statement.
const reserve = db.transaction((buyer) => {
  const taken = takeOne.get(PRODUCT);
  if (!taken) return undefined;
  const order = Number(insertOrder.run(PRODUCT, buyer).lastInsertRowid);
  return { order, left: taken.qty, price: taken.price };
});
const cancel = db.transaction((order) => {
  deleteOrder.run(order);
  putBack.run(PRODUCT);
});

// The card provider's client. charge(buyer, cents, key) resolves with the charge's id once the
// provider has answered, which takes it a moment. `key` is optional: an idempotency key, as real
// providers take one; asking again with the same key (a retry after a crash) charges only once.
// It is not part of the exercise: leave it as it is (the course plays the provider and watches
// its ledger).
const ledger = new Database(process.env.PAYMENTS_DB);
const openCharge = ledger.prepare("INSERT INTO charges (buyer, amount, status, idempotency_key) VALUES (?, ?, 'pending', ?)");
const findCharge = ledger.prepare('SELECT id, status FROM charges WHERE idempotency_key = ?');
const closeCharge = ledger.prepare("UPDATE charges SET status = 'paid' WHERE id = ?");

async function charge(buyer, amount, key = null) {
  const known = key === null ? undefined : findCharge.get(String(key));
  if (known?.status === 'paid') return known.id;
  const id = known ? known.id : Number(openCharge.run(buyer, amount, key === null ? null : String(key)).lastInsertRowid);
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

  // Take a teapot and reserve its order first; only a buyer who got one is charged.
  const reserved = reserve.immediate(buyer);
  if (!reserved) return res.status(409).json({ error: 'Sold out' });
  let chargeId;
  try {
    // The order's id as the idempotency key: charging the same order again charges it once. The
    // orders' id is AUTOINCREMENT, so a cancelled (deleted) order's id, and its key, never come back.
    chargeId = await charge(buyer, reserved.price, `order-${reserved.order}`);
  } catch (error) {
    cancel.immediate(reserved.order); // the payment failed: the teapot goes back on the shelf
    throw error;
  }
  markPaid.run(chargeId, reserved.order);
  const order = reserved.order;

  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.status(201).json({ order, left: reserved.left });
});

app.get('/api/stock', (req, res) => {
  const { name, qty } = selectStock.get(PRODUCT);
  res.json({ product: name, left: qty, sold: countOrders.get(PRODUCT) });
});

app.get('/', (req, res) => {
  const { name, qty, price } = selectStock.get(PRODUCT);
  res.send(`<!doctype html><title>Flash sale</title><h1>Flash sale: ${escape(name)}, ${(price / 100).toFixed(2)}</h1>
<p>${qty} left, ${countOrders.get(PRODUCT)} sold.</p>
<form method="post" action="/api/buy"><input name="buyer" placeholder="your name" autofocus> <button>Buy one</button></form>`);
});

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

export default app;
