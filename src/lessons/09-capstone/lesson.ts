import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { inTurn, LET_TIME_PASS_MS, type Turn } from '../waiting.ts';

interface Product {
  readonly id: number;
  readonly name: string;
  readonly price: number;
  readonly stock: number;
}

const PRODUCTS: readonly Product[] = [
  { id: 1, name: 'Green tea', price: 450, stock: 20 },
  { id: 2, name: 'Oat milk', price: 239, stock: 30 },
  { id: 3, name: 'Rye bread', price: 380, stock: 10 },
  { id: 4, name: 'Honey', price: 620, stock: 2 },
];
const HONEY = PRODUCTS[3];
const CUSTOMERS = [
  { name: 'alice', fullName: 'Alice Martin' },
  { name: 'bob', fullName: 'Bob Okafor' },
  { name: 'carol', fullName: 'Carol Nguyen' },
];
/** Orders already in the database: id → customer. */
const PAST_ORDERS = [
  { id: 1, customer: 'alice', product: 1 },
  { id: 2, customer: 'bob', product: 2 },
  { id: 3, customer: 'alice', product: 3 },
];

function openDb(ctx: CheckContext): Database.Database {
  return new Database(ctx.env.SHOP_DB);
}


async function signIn(ctx: CheckContext, name: string, worker: number): Promise<void> {
  const reply = await ctx.visitor(name).post('/login', { name }, { worker });
  expectJson(reply, `JSON like {"name": "${name}"}`);
}

function productsOf(reply: Reply): Product[] {
  const body = expectJson(reply, 'JSON like {"products": [...]}') as { products?: unknown };
  const products = body?.products;
  if (!Array.isArray(products) || !products.every((p) => p && typeof p.id === 'number' && typeof p.price === 'number')) {
    fail({ expected: `JSON like {"products": [{"id", "name", "price", "stock"}]} from ${describe(reply)}`, got: reply.body });
  }
  return products as Product[];
}

/**
 * Bob's cookies, edited as a visitor could edit them in the browser: "bob" becomes "alice"
 * wherever it shows, in plain text, URL-encoded or inside base64 JSON.
 */
function forgedFrom(ctx: CheckContext, from: string, to: string): string {
  const cookies = ctx.visitor(from).jar.serializeSync()?.cookies ?? [];
  return cookies
    .map((c) => {
      const value = String(c.value ?? '');
      let forged = value.replaceAll(from, to);
      try {
        const decoded = decodeURIComponent(value);
        if (decoded !== value && decoded.includes(from)) forged = encodeURIComponent(decoded.replaceAll(from, to));
      } catch {
        /* not URL-encoded */
      }
      const json = Buffer.from(value, 'base64').toString('utf8');
      if (/^[\s{[]/.test(json) && json.includes(from)) {
        forged = Buffer.from(json.replaceAll(from, to)).toString('base64');
      }
      return `${c.key}=${forged}`;
    })
    .join('; ');
}

function briefOf(json: unknown): string | undefined {
  const body = json as Record<string, unknown>;
  if (Array.isArray(body.products)) {
    return body.products.map((p: Product) => `${p.name} ${(p.price / 100).toFixed(2)} (${p.stock} left)`).join(', ');
  }
  if (Array.isArray(body.orders)) return `${String(body.name)}: orders ${body.orders.map((o: { id?: unknown }) => `#${String(o?.id)}`).join(' ')}`;
  if (typeof body.order === 'number') return `order #${body.order}: ${String(body.product)}`;
  if (typeof body.name === 'string') return `signed in as ${body.name}`;
  return undefined;
}

const lesson: Lesson = {
  number: 9,
  slug: '09-capstone',
  title: 'Capstone: the whole shop',
  track: 'advanced',
  summary: 'The whole shop on three busy workers, with several of these bugs at once. No hints unless you ask.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'The check has four steps, and each one is a different problem you have met before in another costume. Read which behaviour fails, then ask yourself which earlier lesson showed that behaviour.',
    'The four, by behaviour: prices that stay old on some workers (lessons 1 and 5); customers who are signed out when another worker answers (lesson 4); one customer\'s page showing another\'s details when both load at once (lesson 7); more jars sold than the shop had (lesson 6).',
    'Concretely: read the products from the database in every request that shows or sells them; keep the session in a signed cookie (`cookie-session` with SESSION_SECRET) instead of express-session\'s memory; keep the customer on `req`; and take a jar with `UPDATE products SET stock = stock - 1 WHERE id = ? AND stock > 0`, going on only when `.changes` is 1.',
  ],
  workers: 3,
  mode: 'concurrent',
  clock: 'manual',
  brief: briefOf,
  seed(dir) {
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL, stock INTEGER NOT NULL);
      CREATE TABLE customers (name TEXT PRIMARY KEY, full_name TEXT NOT NULL);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL REFERENCES customers (name), product_id INTEGER NOT NULL REFERENCES products (id), price INTEGER NOT NULL);
    `);
    const addProduct = db.prepare('INSERT INTO products (id, name, price, stock) VALUES (?, ?, ?, ?)');
    for (const p of PRODUCTS) addProduct.run(p.id, p.name, p.price, p.stock);
    const addCustomer = db.prepare('INSERT INTO customers (name, full_name) VALUES (?, ?)');
    for (const c of CUSTOMERS) addCustomer.run(c.name, c.fullName);
    const addOrder = db.prepare('INSERT INTO orders (id, customer, product_id, price) VALUES (?, ?, ?, ?)');
    for (const o of PAST_ORDERS) addOrder.run(o.id, o.customer, o.product, PRODUCTS[o.product - 1].price);
    db.close();
    return { SHOP_DB: file, SESSION_SECRET: randomBytes(16).toString('hex') };
  },
  steps: [
    {
      title: 'A price changed in the database shows at once, on every worker',
      async run(ctx) {
        for (let k = 1; k <= ctx.workers; k++) productsOf(await ctx.visitor('alice').get('/api/products', { worker: k }));
        const db = openDb(ctx);
        try {
          db.prepare('UPDATE products SET price = ? WHERE id = ?').run(199, 2);
        } finally {
          db.close();
        }
        for (let k = 1; k <= ctx.workers; k++) {
          const reply = await ctx.visitor('alice').get('/api/products', { worker: k });
          const oatMilk = productsOf(reply).find((p) => p.id === 2);
          if (oatMilk?.price !== 199) {
            fail({
              expected: `Oat milk at 199 from ${describe(reply)}, after the price was cut in the database`,
              got: oatMilk ? `${oatMilk.price}` : 'no Oat milk at all',
              diagnosis: `Worker ${k} answers from a copy of the products it made earlier (when it started, or on some earlier request), not from the database. Every worker must show the price the database holds now.`,
            });
          }
        }
      },
    },
    {
      title: 'A signed-in customer stays signed in on every worker, and an edited cookie signs nobody in',
      async run(ctx) {
        await signIn(ctx, 'alice', ctx.workerAt(1));
        for (let k = 1; k <= ctx.workers; k++) {
          const reply = await ctx.visitor('alice').get('/api/me', { worker: k });
          const body = reply.status === 401 ? undefined : (expectJson(reply, 'JSON like {"name": "alice"}') as { name?: unknown });
          if (body?.name !== 'alice') {
            fail({
              expected: `alice, signed in on worker ${ctx.workerAt(1)}, to be signed in on worker ${k} too (${describe(reply)})`,
              got: `${reply.status}: ${reply.body}`,
              diagnosis: `Worker ${k} does not know alice's session: sessions are kept in the memory of the worker that created them. Keep the session where every worker can read it: in a signed cookie, or in the database.`,
            });
          }
        }
        await signIn(ctx, 'bob', ctx.workerAt(2));
        const forged = forgedFrom(ctx, 'bob', 'alice');
        for (let k = 1; k <= ctx.workers; k++) {
          const reply = await ctx.visitor('mallory').get('/api/me', { worker: k, headers: { cookie: forged } });
          const name = (reply.json as { name?: unknown } | undefined)?.name;
          if (reply.status < 300 && name === 'alice') {
            fail({
              expected: `mallory, who copied bob's cookie and wrote "alice" into it, not to be signed in as alice (${describe(reply)})`,
              got: reply.body,
              diagnosis: 'A cookie is text the visitor can edit. If it says who they are, it must be signed (cookie-session, or signed cookies) and the signature checked; or it must hold only a random session id that the server looks up.',
            });
          }
        }
      },
    },
    {
      title: "Two customers' account pages loading at once on one worker each show their own",
      async run(ctx) {
        const names = ['alice', 'bob'];
        const { requests, progress } = await inTurn(
          ctx,
          names.map((name): Turn => ({ worker: 1, send: () => ctx.visitor(name).get('/api/account', { worker: 1 }) })),
        );
        if (progress[0] === 'answered' || progress.includes('stuck')) {
          fail({
            expected: "alice's account page to wait for the orders service, and bob's to go ahead meanwhile",
            got: progress[0] === 'answered' ? 'alice\'s page answered at once' : "bob's request held up until alice's finished",
            diagnosis:
              progress[0] === 'answered'
                ? 'Keep the awaited network calls (fetchOrders, chargeCard): they stand for real services, and the check needs requests to wait for them.'
                : 'Requests in one worker take turns: a lock or queue makes one slow page stall every visitor. Keep each request\'s state with the request instead.',
          });
        }
        await ctx.advanceClock(LET_TIME_PASS_MS);
        const replies = await Promise.all(requests.map((r) => r.reply));
        for (const [i, name] of names.entries()) {
          const reply = replies[i];
          const body = expectJson(reply, 'JSON like {"name", "fullName", "orders"}') as { name?: unknown; orders?: Array<{ id?: unknown }> };
          const want = PAST_ORDERS.filter((o) => o.customer === name).map((o) => o.id);
          const got = Array.isArray(body.orders) ? body.orders.map((o) => o?.id) : undefined;
          if (body.name !== name || JSON.stringify(got) !== JSON.stringify(want)) {
            const other = names.find((n) => n !== name)!;
            fail({
              expected: `${name}'s own account page (${name}, orders ${JSON.stringify(want)}) from ${describe(reply)}`,
              got: `${JSON.stringify(body.name)}, orders ${JSON.stringify(got)}`,
              diagnosis: `${name}'s request was waiting for the orders service when ${other}'s arrived in the same worker, and ${name}'s page came back with ${other}'s details: the app keeps "who is asking" somewhere every request shares. Keep it with the request.`,
            });
          }
        }
      },
    },
    {
      title: 'Three customers buy the last two jars of honey at once, on three workers: exactly two are sold',
      async run(ctx) {
        await signIn(ctx, 'carol', ctx.workerAt(3));
        const buyers = ['alice', 'bob', 'carol'];
        const { requests, progress } = await inTurn(
          ctx,
          buyers.map((name, i): Turn => ({ worker: ctx.workerAt(i + 1), send: () => ctx.visitor(name).post('/api/buy', { product: HONEY.id }, { worker: ctx.workerAt(i + 1) }) })),
        );
        if (progress.includes('stuck')) {
          fail({
            expected: 'each purchase to reach the payment service or be answered',
            got: `a purchase held up for 1.5 s (${progress.join(', ')})`,
            diagnosis: 'Purchases wait for one another. Keep the payment awaited and let the database settle who gets the stock.',
          });
        }
        await ctx.advanceClock(LET_TIME_PASS_MS);
        const replies = await Promise.all(requests.map((r) => r.reply));
        for (const reply of replies) {
          if (reply.status !== 201 && reply.status !== 409) expectJson(reply, 'JSON like {"order": 5} (201) or {"error": "... sold out"} (409)');
        }
        const sold = replies.filter((r) => r.status === 201);
        const db = openDb(ctx);
        let stock: number;
        let orders: Array<{ customer: string }>;
        try {
          stock = db.prepare('SELECT stock FROM products WHERE id = ?').pluck().get(HONEY.id) as number;
          orders = db.prepare('SELECT customer FROM orders WHERE product_id = ? ORDER BY id').all(HONEY.id) as Array<{ customer: string }>;
        } finally {
          db.close();
        }
        const oversold =
          'Each worker read the stock (2), waited for the payment, and then wrote back what it had read, minus one: none of them saw the others\' sales. Take the jar in one step the database checks (`UPDATE ... SET stock = stock - 1 WHERE id = ? AND stock > 0`, then look at `.changes`), or read and write inside one immediate transaction.';
        if (sold.length > HONEY.stock || orders.length > HONEY.stock) {
          fail({
            expected: `at most ${HONEY.stock} jars of honey sold (the stock), the other buyer told it is sold out`,
            got: `${Math.max(sold.length, orders.length)} sold (${orders.map((o) => o.customer).join(', ')}), stock now ${stock}`,
            diagnosis: oversold,
          });
        }
        if (sold.length < HONEY.stock) {
          fail({
            expected: `${HONEY.stock} jars of honey sold: there were ${HONEY.stock}`,
            got: `${sold.length} sold (${replies.map((r) => `${r.visitor}: ${r.status}`).join(', ')})`,
            diagnosis: 'A buyer was turned away while there was still honey on the shelf.',
          });
        }
        if (stock !== 0 || orders.length !== sold.length) {
          fail({
            expected: `no honey left and ${sold.length} honey orders in the database`,
            got: `stock ${stock}, ${orders.length} orders`,
            diagnosis: oversold,
          });
        }
      },
    },
  ],
};

export default lesson;
