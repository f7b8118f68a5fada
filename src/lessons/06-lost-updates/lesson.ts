import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, fail } from '../../check/expect.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { books, everyWorkerReports, expectBooks, expectVerdicts, outcome, PRODUCT } from './books.ts';
import { buyThroughACrash, CRASHED_BUYER, restartedWorker, restock } from './crash.ts';
import { CUT_OFF_BUYER, cutOffBetweenCommits } from './cut-off.ts';
import { Reservations } from '../reservations.ts';
import { rush, type Buyer } from './rush.ts';

/** The crowd of the sale's busiest moment: more buyers than teapots, on every worker. */
const CROWD = 30;

/** What the shop sells in a run, drawn from its seed: the check must not depend on one name or price. */
const TEAPOTS = ['Cast-iron teapot', 'Stoneware teapot', 'Glass teapot & infuser', 'Teapot & two cups', 'Porcelain teapot', 'Clay teapot'];

/** `items` in the order the run's seed puts them: which buyer and which worker go first varies. */
function shuffled<T>(ctx: CheckContext, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(ctx.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Two buyers per worker at once, all by one route, fewer than the teapots left: each must get one. */
async function crowd(ctx: CheckContext, prefix: string, via: Buyer['via'], note?: string): Promise<void> {
  const before = books(ctx);
  const buyers: Buyer[] = Array.from({ length: 2 * ctx.workers }, (_, i) => ({ name: `${prefix}${i + 1}`, worker: (i % ctx.workers) + 1, via }));
  const bought = await rush(ctx, shuffled(ctx, buyers), { holdDatabase: true });
  expectVerdicts(bought, ctx.track);
  expectBooks(ctx, before, bought, buyers.length, note);
  await everyWorkerReports(ctx, before.left - buyers.length, before.orders.length + buyers.length);
}

const FORM_NOTE =
  "The same crowd was served right through the API a moment ago, so the page's form must reach the purchase by another path: the form posts urlencoded to /api/buy, and every way into a purchase needs the same atomic step. ";

/** Buyers on the other workers, charged while erin's worker is started again. */
const OTHER_BUYERS = ['frank', 'gina', 'hana', 'ivan'];

/** Buyers after the restart, one per worker. */
const AFTER_BUYERS = ['kim', 'lou', 'max', 'noor', 'omar'];

/** How many teapots the sale opened with (the first step's shelf), for the next sale's delivery. */
const opening = new WeakMap<CheckContext, number>();

/** A worker drawn from the run's seed. */
const anyWorker = (ctx: CheckContext) => 1 + Math.floor(ctx.random() * ctx.workers);

const lesson: Lesson = {
  number: 6,
  slug: '06-lost-updates',
  title: 'Lost updates',
  track: 'advanced',
  summary: 'A few teapots left, thirty buyers at once: the shop sells far more than it has.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Follow two buyers through the handler at once. Both read "5 left" before either has paid; when their payments come back, both write 4. The same happens between workers, and between requests on one worker while the first waits.',
    'Ask the database to check and take a teapot in one step, before the payment: `UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0 RETURNING qty, price`. It returns a row when a teapot was taken (with what is left), and nothing when there was none left (or look at `.changes` without RETURNING). That stops the overselling; the next hint makes the purchase survive a worker killed during the payment.',
    'So that a crash during the payment cannot lose a teapot without an order, take the teapot and insert the order (its charge still empty) in one `db.transaction(...)` run with `.immediate()`, all synchronous; then `await charge(buyer, price, "order-" + order)` (with the order as its key, a retry charges once), then write the charge on the order. A lock in a module variable only guards its own worker.',
  ],
  flask: {
    file: 'app.py',
    // gunicorn's default (no --preload): every worker imports the app itself, so a worker started
    // again after a crash runs the app's module-level code again, while the others serve.
    load: 'lazy',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'Follow two buyers on two workers through `buy()` at once. Both read "5 left" before either has paid; when their payments come back, both write 4. Each worker serves one request at a time, but the three workers run side by side.',
      'Ask the database to check and take a teapot in one step, before the payment: `UPDATE stock SET qty = qty - 1 WHERE id = ? AND qty > 0 RETURNING qty, price`. It returns a row when a teapot was taken (with what is left), and nothing when there was none left (or look at `cursor.rowcount` without RETURNING). That stops the overselling; the next hint makes the purchase survive a worker killed during the payment.',
      'So that a killed worker cannot lose a teapot without an order, take the teapot and insert the order (its charge still empty) in one transaction that starts with `BEGIN IMMEDIATE` (open the connection with `isolation_level=None`), then `charge(buyer, price, f"order-{order}")` outside it, then write the charge on the order. A `threading.Lock()` at module level only guards its own worker.',
    ],
  },
  workers: 3,
  mode: 'concurrent',
  clock: 'manual',
  brief(json) {
    const body = json as { left?: unknown; sold?: unknown; order?: unknown };
    if (typeof body.left === 'number' && typeof body.sold === 'number') return `${body.left} left, ${body.sold} sold`;
    if (body.order !== undefined) return `order ${String(body.order)}`;
    return undefined;
  },
  seed(dir, random) {
    const shopFile = path.join(dir, 'shop.db');
    const shop = new Database(shopFile);
    shop.pragma('journal_mode = WAL');
    shop.exec(`CREATE TABLE stock (id TEXT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, product TEXT NOT NULL, buyer TEXT NOT NULL, charge INTEGER);`);
    // Enough teapots for dana's three, two crowds of two per worker (up to four workers), and a
    // few more for the rush: how many varies with the seed, like the name and the price.
    const name = TEAPOTS[Math.floor(random() * TEAPOTS.length)]!;
    const stock = 20 + Math.floor(random() * 5);
    const price = 2900 + 100 * Math.floor(random() * 30);
    shop.prepare('INSERT INTO stock (id, name, qty, price) VALUES (?, ?, ?, ?)').run(PRODUCT, name, stock, price);
    shop.close();
    const ledgerFile = path.join(dir, 'payments.db');
    const ledger = new Database(ledgerFile);
    ledger.pragma('journal_mode = WAL');
    ledger.exec('CREATE TABLE charges (id INTEGER PRIMARY KEY, buyer TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL, idempotency_key TEXT UNIQUE)');
    ledger.close();
    return { SHOP_DB: shopFile, PAYMENTS_DB: ledgerFile };
  },
  steps: [
    {
      title: "dana buys a teapot through the shop's page; every worker's page and API show one fewer",
      async run(ctx) {
        const before = books(ctx);
        opening.set(ctx, before.left);
        const bought = await rush(ctx, [{ name: 'dana', worker: anyWorker(ctx), via: 'form' }]);
        expectVerdicts(bought, ctx.track);
        expectBooks(ctx, before, bought, 1);
        await everyWorkerReports(ctx, before.left - 1, before.orders.length + 1);
      },
    },
    {
      title: 'Two apps per worker buy through the API at once: each gets a teapot, and the stock drops by as many',
      timeoutMs: 30_000,
      async run(ctx) {
        await crowd(ctx, 'app', 'api');
      },
    },
    {
      title: "Two shoppers per worker buy through the page's form at once: each gets a teapot, and the stock drops by as many",
      timeoutMs: 30_000,
      async run(ctx) {
        await crowd(ctx, 'shopper', 'form', FORM_NOTE);
      },
    },
    {
      title: 'dana buys again and double-clicks, the two clicks on two workers: each order is paid by a charge of its own',
      timeoutMs: 30_000,
      async run(ctx) {
        const before = books(ctx);
        // dana, who bought in the first step, wants two more and clicks "Buy one" twice in a row:
        // her browser sends the form twice at once, over two connections, to two workers.
        const first = anyWorker(ctx);
        const clicks: Buyer[] = [first, ctx.workerAt(first + 1)].map((worker) => ({ name: 'dana', worker, via: 'form' }));
        // Both clicks pay before either payment is answered, however busy the machine is.
        const bought = await rush(ctx, clicks, { paymentQuietMs: 3000 });
        expectVerdicts(bought, ctx.track);
        expectBooks(ctx, before, bought, clicks.length);
        await everyWorkerReports(ctx, before.left - clicks.length, before.orders.length + clicks.length);
      },
    },
    {
      title: `${CROWD} buyers at once on every worker, for the last few teapots: no more sold than there are`,
      timeoutMs: 30_000,
      async run(ctx) {
        const before = books(ctx);
        // A seeded mix: most buy through the API (the shop's app, scripts), some through the page.
        const buyers: Buyer[] = Array.from({ length: CROWD }, (_, i) => ({
          name: `buyer${String(i + 1).padStart(2, '0')}`,
          worker: (i % ctx.workers) + 1,
          via: ctx.random() < 0.3 ? 'form' : 'api',
        }));
        const bought = await rush(ctx, shuffled(ctx, buyers), { holdDatabase: true });
        expectVerdicts(bought, ctx.track);
        expectBooks(ctx, before, bought, before.left);
      },
    },
    {
      title: 'Sold out stays sold out, through the page and the API, on every worker',
      async run(ctx) {
        const before = books(ctx);
        const late: Buyer[] = Array.from({ length: 2 * ctx.workers }, (_, i) => ({
          name: `late${i + 1}`,
          worker: (i % ctx.workers) + 1,
          via: i < ctx.workers ? 'form' : 'api',
        }));
        const bought = await rush(ctx, late);
        expectVerdicts(bought, ctx.track);
        const sold = bought.find((b) => outcome(b) === 'bought');
        if (sold) {
          const first = sold.reply.redirects?.[0] ?? sold.reply;
          fail({
            expected: `409 (sold out) from ${describe(first)}`,
            got: `${first.status}: ${first.body}`,
            diagnosis: 'Every teapot was already sold, and the shop sold one more.',
          });
        }
        expectBooks(ctx, before, bought, 0);
        await everyWorkerReports(ctx, 0, before.orders.length);
      },
    },
    {
      title: `A delivery comes in, and the worker serving ${CRASHED_BUYER} is killed while her card is being charged: her teapot has its order, her charge can be found again, and the purchases other workers are charging meanwhile go through`,
      // A worker is started in the killed one's place: booted ahead, as the host's spare, so the
      // others' purchases still wait for their payments while it starts.
      reloads: true,
      timeoutMs: 30_000,
      async run(ctx) {
        // A few more teapots arrive: enough for erin, a buyer on each other worker, and one per
        // worker after the restart. While the provider charges erin's card (and the others'),
        // the worker serving her dies (a deploy, a crash, an out-of-memory kill) and the host
        // starts a fresh one in its place while the others go on.
        restock(ctx, 2 * ctx.workers + Math.floor(ctx.random() * 3));
        const worker = anyWorker(ctx);
        const others: Buyer[] = Array.from({ length: ctx.workers - 1 }, (_, i) => ({
          name: OTHER_BUYERS[i % OTHER_BUYERS.length]!,
          worker: ctx.workerAt(worker + 1 + i),
          via: ctx.random() < 0.5 ? 'form' : 'api',
        }));
        await buyThroughACrash(ctx, { name: CRASHED_BUYER, worker, via: ctx.random() < 0.5 ? 'form' : 'api' }, others);
      },
    },
    {
      title: `The worker serving ${CUT_OFF_BUYER} is killed between two commits of her purchase: every teapot gone from the shelf has its order, and every order its teapot`,
      // A worker is started in the killed one's place, booted ahead as the host's spare.
      reloads: true,
      timeoutMs: 30_000,
      async run(ctx) {
        // One more teapot arrives, and pia buys it through the API. If her purchase commits a
        // write and then begins another (the teapot taken, then the order written, or the other
        // way round), her worker dies between the two, as a worker may at any line.
        // Each time her worker dies, she buys again, cut off at the next gap (after the first
        // commit, then the second...), until a purchase has no gap left before its payment.
        const buyer: Buyer = { name: CUT_OFF_BUYER, worker: anyWorker(ctx), via: 'api' };
        const reserved = new Reservations();
        for (let gap = 1; gap <= 3; gap++) {
          restock(ctx, 1);
          if (!(await cutOffBetweenCommits(ctx, buyer, gap, reserved))) break;
        }
      },
    },
    {
      title: 'After the restart, people buy on every worker, the fresh one too: each order is paid by a charge of its own, on its buyer\'s card',
      timeoutMs: 30_000,
      async run(ctx) {
        const before = books(ctx);
        // One buyer per worker at once; the worker started again after the crash serves one too.
        const fresh = restartedWorker(ctx);
        const buyers: Buyer[] = Array.from({ length: ctx.workers }, (_, i) => ({
          name: AFTER_BUYERS[i % AFTER_BUYERS.length]!,
          worker: ctx.workerAt((fresh ?? 1) + i),
          via: ctx.random() < 0.5 ? 'form' : 'api',
        }));
        const bought = await rush(ctx, shuffled(ctx, buyers));
        expectVerdicts(bought, ctx.track);
        expectBooks(ctx, before, bought, buyers.length);
        await everyWorkerReports(ctx, before.left - buyers.length, before.orders.length + buyers.length);
      },
    },
    {
      title: 'The next sale: a delivery fills the shelf back up to where the first sale began, and dana buys first again: her new order is paid by a new charge',
      async run(ctx) {
        // A shop restocks to the same level for every sale, and its regulars come back: dana,
        // the first buyer of the first sale, is the first of this one too. The shelf, the buyer
        // and the route are the same as then; only the purchase is new, and it must be charged.
        const start = opening.get(ctx) ?? books(ctx).left;
        restock(ctx, Math.max(0, start - books(ctx).left));
        const before = books(ctx);
        const bought = await rush(ctx, [{ name: 'dana', worker: anyWorker(ctx), via: 'form' }]);
        expectVerdicts(bought, ctx.track);
        expectBooks(ctx, before, bought, 1);
        await everyWorkerReports(ctx, before.left - 1, before.orders.length + 1);
      },
    },
  ],
};

export default lesson;
