// The Corner Shop's account page: who you are, where your parcels go, what you have ordered.
//
// The host runs ONE worker process here, in Node's own way: while a request is parked at an
// await (the audit service, the warehouse...), the worker starts on the next one. Settings come from the
// environment, as on a real host:
//   SHOP_DB        the shop's SQLite database (customers, orders, audit_log)
//   COOKIE_SECRET  the key that signs the sign-in cookie
import Database from 'better-sqlite3';
import cookieParser from 'cookie-parser';
import express from 'express';

const db = new Database(process.env.SHOP_DB);
const findCustomer = db.prepare('SELECT id, name, full_name AS fullName, address FROM customers WHERE name = ?');
const selectOrders = db.prepare('SELECT id, item, total FROM orders WHERE customer_id = ? ORDER BY id');
const insertAudit = db.prepare('INSERT INTO audit_log (customer, path, at) VALUES (?, ?, ?)');

// Two services the shop calls over the network. Each call takes a moment, and the worker serves
// other requests meanwhile. (The course simulates the network with a timer: keep the awaits.)
const networkDelay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function writeAuditLog(customerName, path) {
  await networkDelay(20);
  insertAudit.run(customerName ?? 'anonymous', path, new Date().toISOString());
}

async function fetchOrders(customerId) {
  await networkDelay(600);
  return selectOrders.all(customerId);
}

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(cookieParser(process.env.COOKIE_SECRET));

// The customer who sent the request being handled.
let currentCustomer = null;

// Who is asking: the name in the signed sign-in cookie.
app.use((req, res, next) => {
  currentCustomer = findCustomer.get(req.signedCookies.customer ?? '') ?? null;
  next();
});

// Every page view goes to the audit log.
app.use(async (req, res, next) => {
  if (req.method === 'GET') await writeAuditLog(currentCustomer?.name, req.path);
  next();
});

// A demo shortcut: anyone may sign in by name alone, no password. Never do this in a real shop.
app.post('/login', (req, res) => {
  const customer = findCustomer.get(String(req.body?.name ?? '').trim().toLowerCase());
  if (!customer) return res.status(401).json({ error: 'No customer by that name: try alice or bob' });
  res.cookie('customer', customer.name, { signed: true, httpOnly: true, sameSite: 'lax' });
  if (req.is('urlencoded')) return res.redirect(303, '/'); // the page's form
  res.json({ name: customer.name });
});

app.post('/logout', (req, res) => {
  res.clearCookie('customer');
  res.redirect(303, '/');
});

app.get('/api/account', async (req, res) => {
  if (!currentCustomer) return res.status(401).json({ error: 'Sign in first' });
  const orders = await fetchOrders(currentCustomer.id);
  res.json({ name: currentCustomer.name, fullName: currentCustomer.fullName, address: currentCustomer.address, orders });
});

app.get('/', async (req, res) => {
  if (!currentCustomer) {
    return res.send(`<!doctype html><title>Sign in</title><h1>Your account</h1>
<p>A demo shortcut: you sign in by name alone, with no password (a real shop would ask for one).</p>
<form method="post" action="/login"><input name="name" placeholder="alice or bob" autofocus> <button>Sign in</button></form>`);
  }
  const orders = await fetchOrders(currentCustomer.id);
  const rows = orders.map((o) => `<li>#${o.id} ${escape(o.item)}: ${(o.total / 100).toFixed(2)} EUR</li>`).join('');
  res.send(`<!doctype html><title>${escape(currentCustomer.fullName)}</title><h1>${escape(currentCustomer.fullName)}</h1>
<p>Deliver to: ${escape(currentCustomer.address)}</p><h2>Your orders</h2><ul>${rows}</ul>
<form method="post" action="/logout"><button>Sign out</button></form>`);
});

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

export default app;
