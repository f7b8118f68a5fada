import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { rush, type Buyer } from './rush.ts';

const PRODUCT = 'teapot';
const STOCK = 6;
const BUYERS = 30;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;


interface Shop {
  readonly left: number;
  /** The buyer of each order, in order. */
  readonly orders: readonly string[];
  /** The buyer of each paid charge. */
  readonly paid: readonly string[];
}

/** The shop's and the provider's books, read by the check itself. */
function books(ctx: CheckContext): Shop {
  const shop = new Database(ctx.env.SHOP_DB, { readonly: true });
  const ledger = new Database(ctx.env.PAYMENTS_DB, { readonly: true });
  try {
    return {
      left: shop.prepare('SELECT qty FROM stock WHERE id = ?').pluck().get(PRODUCT) as number,
      orders: shop.prepare('SELECT buyer FROM orders WHERE product = ? ORDER BY id').pluck().all(PRODUCT) as string[],
      paid: ledger.prepare("SELECT buyer FROM charges WHERE status = 'paid' ORDER BY id").pluck().all() as string[],
    };
  } finally {
    shop.close();
    ledger.close();
  }
}

const LOST_UPDATES =
  'Several buyers read the same stock before any of them wrote, and each then wrote back what it had read minus one: every write undid the ones before it (lost updates). Between a read and its write other purchases run: on the other workers at any moment, and on the same worker at every await. A lock in a module variable guards one worker only. Make the test and the decrement one step the database does atomically, before taking the payment: UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0 (and look at .changes), or a transaction run with .immediate() that has no await inside.';

const BELOW_ZERO =
  'The stock went below zero. The decrement is atomic, but the test "is one left?" was made before the payment, while other buyers were buying too: by the time of the write it was no longer true. Put the test into the write itself: UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0, then look at .changes.';

function errorDiagnosis(reply: Reply): string {
  const text = reply.text;
  if (reply.status === 0 || reply.status === 504) {
    return 'The purchase never answered: it waits for something that never comes (a lock that is never released? a transaction another request left open?).';
  }
  if (/cannot return a promise/i.test(text)) {
    return 'better-sqlite3 runs a transaction synchronously, so a transaction function cannot wait for anything: an async function returns at its first await, and the rest runs outside the transaction. Take the teapot in a transaction (or one UPDATE ... WHERE qty > 0) with no await inside, then take the payment.';
  }
  if (/within a transaction/i.test(text)) {
    return 'A transaction begun before an await is still open when the next request on the same worker begins its own: a connection holds one transaction at a time, and every request on a worker shares it. Never keep a transaction open across an await: take the teapot atomically first, then take the payment.';
  }
  if (/SQLITE_BUSY|database is locked/i.test(text)) {
    return 'SQLite refused a write: this worker read inside a transaction, another worker wrote in the meantime, and the first could no longer write on what it had read. A read-then-write transaction must start as a writer (.immediate()) and must not wait for anything inside.';
  }
  return 'The app threw an error while selling a teapot; the error and its line are in the output below.';
}

/** Every answer is 201 (bought) or 409 (sold out). */
function expectVerdicts(replies: readonly Reply[]): void {
  const bad = replies.find((r) => r.status !== 201 && r.status !== 409);
  if (bad) {
    fail({
      expected: `201 (bought) or 409 (sold out) from ${describe(bad)}`,
      got: bad.status === 0 ? bad.body : `status ${bad.status}: ${bad.body}`,
      diagnosis: errorDiagnosis(bad),
    });
  }
}

/** The books after a rush: `want` new orders, `left` on the shelf, a paid charge for each order and for nobody else. */
function expectBooks(ctx: CheckContext, before: Shop, replies: readonly Reply[], want: number, wanted: number): void {
  const now = books(ctx);
  const newOrders = now.orders.slice(before.orders.length);
  const left = before.left - want;
  if (newOrders.length !== want || now.left !== left) {
    const diagnosis =
      newOrders.length > want
        ? now.left < 0
          ? BELOW_ZERO
          : LOST_UPDATES
        : newOrders.length < want && now.left > left
          ? `Buyers were turned away while teapots were still on the shelf.`
          : `The stock and the orders disagree: ${before.left - now.left} teapots left the shelf, ${newOrders.length} orders were recorded. Take a teapot off the stock and record its order for every buyer who gets one.`;
    fail({
      expected: `${plural(want, 'teapot')} sold to ${wanted === 1 ? 'the buyer' : `the ${wanted} buyers`} and ${left} left`,
      got: `${plural(newOrders.length, 'order')}, and the stock says ${now.left} left`,
      diagnosis,
    });
  }
  const told = replies.filter((r) => r.status === 201).map((r) => r.visitor);
  if (told.length !== want || told.some((buyer) => !newOrders.includes(buyer))) {
    fail({
      expected: `a 201 answer for each of the ${want} buyers with an order (${[...newOrders].sort().join(', ')})`,
      got: `201 for ${told.length ? [...told].sort().join(', ') : 'nobody'}`,
      diagnosis: 'Answer 201 exactly to the buyers whose order was recorded, and 409 to the others.',
    });
  }
  const charged = now.paid.slice(before.paid.length);
  const unpaid = newOrders.filter((buyer) => !charged.includes(buyer));
  const forNothing = charged.filter((buyer) => !newOrders.includes(buyer));
  if (unpaid.length || forNothing.length || charged.length !== newOrders.length) {
    fail({
      expected: `one paid charge for each new order (${want}), and none for anyone else`,
      got: `${plural(charged.length, 'paid charge')}${forNothing.length ? `, ${forNothing.length} of them for buyers who got no teapot` : ''}${unpaid.length ? `, ${plural(unpaid.length, 'order')} never paid` : ''}`,
      diagnosis: forNothing.length
        ? `${forNothing.length} buyers paid and got nothing. Take the teapot off the stock first (atomically), then charge the card; a buyer who finds none left must not be charged.`
        : 'Every order must be paid: keep the `await charge(...)` before recording the order.',
    });
  }
}

/** Every worker reports `left` teapots and `sold` orders. */
async function everyWorkerReports(ctx: CheckContext, left: number, sold: number): Promise<void> {
  for (let worker = 1; worker <= ctx.workers; worker++) {
    const reply = await ctx.visitor('dana').get('/api/stock', { worker });
    const body = expectJson(reply, 'JSON like {"left": 5, "sold": 1}') as { left?: unknown; sold?: unknown } | null;
    if (body?.left !== left || body?.sold !== sold) {
      fail({
        expected: `{"left": ${left}, "sold": ${sold}} from ${describe(reply)}`,
        got: reply.body,
        diagnosis: 'Report the stock and the number of orders as the database has them, on every worker.',
      });
    }
  }
}

const lesson: Lesson = {
  number: 6,
  slug: '06-lost-updates',
  title: 'Lost updates',
  track: 'advanced',
  summary: 'Five teapots left, thirty buyers at once: the shop sells far more than it has.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Follow two buyers through the handler at once. Both read "5 left" before either has paid; when their payments come back, both write 4. The same happens between workers, and between requests on one worker while the first waits.',
    'Ask the database to check and take a teapot in one step, before the payment: `UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0`. Its `.changes` is 1 when a teapot was taken and 0 when there was none left. Then charge, then record the order.',
    'A lock in a module variable only guards its own worker, and a better-sqlite3 transaction cannot contain an `await`. If you prefer a transaction: `db.transaction(() => { read; test; write })` run with `.immediate()`, all synchronous, before the payment.',
  ],
  workers: 3,
  mode: 'concurrent',
  clock: 'manual',
  brief(json) {
    const body = json as { left?: unknown; sold?: unknown; order?: unknown };
    if (typeof body.left === 'number' && typeof body.sold === 'number') return `${body.left} left, ${body.sold} sold`;
    if (body.order !== undefined) return `order ${String(body.order)}`;
    return undefined;
  },
  seed(dir) {
    const shopFile = path.join(dir, 'shop.db');
    const shop = new Database(shopFile);
    shop.pragma('journal_mode = WAL');
    shop.exec(`CREATE TABLE stock (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, product TEXT NOT NULL, buyer TEXT NOT NULL, charge INTEGER);`);
    shop.prepare('INSERT INTO stock (id, name, qty, price) VALUES (?, ?, ?, ?)').run(PRODUCT, 'Cast-iron teapot', STOCK, 3900);
    shop.close();
    const ledgerFile = path.join(dir, 'payments.db');
    const ledger = new Database(ledgerFile);
    ledger.pragma('journal_mode = WAL');
    ledger.exec('CREATE TABLE charges (id INTEGER PRIMARY KEY, buyer TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL)');
    ledger.close();
    return { SHOP_DB: shopFile, PAYMENTS_DB: ledgerFile };
  },
  steps: [
    {
      title: 'dana buys a teapot on worker 1; every worker shows one fewer',
      async run(ctx) {
        const before = books(ctx);
        const replies = await rush(ctx, [{ name: 'dana', worker: ctx.workerAt(1) }]);
        expectVerdicts(replies);
        expectBooks(ctx, before, replies, 1, 1);
        await everyWorkerReports(ctx, STOCK - 1, 1);
      },
    },
    {
      title: `${BUYERS} buyers at once on every worker, for the last ${STOCK - 1} teapots: exactly ${STOCK - 1} sold`,
      timeoutMs: 30_000,
      async run(ctx) {
        const before = books(ctx);
        const buyers: Buyer[] = Array.from({ length: BUYERS }, (_, i) => ({
          name: `buyer${String(i + 1).padStart(2, '0')}`,
          worker: ctx.workerAt((i % 3) + 1),
        }));
        const replies = await rush(ctx, buyers, { holdDatabase: true });
        expectVerdicts(replies);
        expectBooks(ctx, before, replies, STOCK - 1, BUYERS);
      },
    },
    {
      title: 'Sold out stays sold out, on every worker',
      async run(ctx) {
        const before = books(ctx);
        const late = Array.from({ length: ctx.workers }, (_, i) => ({ name: `late${i + 1}`, worker: i + 1 }));
        const replies = await rush(ctx, late);
        expectVerdicts(replies);
        const sold = replies.find((r) => r.status === 201);
        if (sold) {
          fail({
            expected: `409 (sold out) from ${describe(sold)}`,
            got: `201: ${sold.body}`,
            diagnosis: 'Every teapot was already sold, and the shop sold one more.',
          });
        }
        expectBooks(ctx, before, replies, 0, late.length);
        await everyWorkerReports(ctx, 0, STOCK);
      },
    },
  ],
};

export default lesson;
