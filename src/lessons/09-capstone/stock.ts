// The capstone's stock: what every worker shows of it after sales, and the last jar bought by two
// customers on two workers, one held by the check between its look at the stock and the rest of
// its purchase while the other buys.
import { describe, expectJson, fail } from '../../check/expect.ts';
import { firstRead } from '../../check/race.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, CheckStep, DataOperation } from '../types.ts';
import { LET_TIME_PASS_MS, timersOn } from '../waiting.ts';
import { expectCharges, lastChargeId } from './ledger.ts';
import { lastOrderId, lineOf, ordersSince, pageOf, productsOf, shopOf, withDb } from './shop.ts';
import { someWorker } from '../draws.ts';
import { reads } from '../statement-reads.ts';

/** A purchase's answer must be an answer: bought, sold out, or the page again (a form); never an error or a hang. */
export function expectVerdict(reply: Reply): void {
  if (reply.status === 0 || reply.status >= 500 || (reply.status >= 400 && reply.status !== 409)) {
    expectJson(reply, 'JSON like {"order": 5} (201), {"error": "... sold out"} (409), or the shop page after the form');
  }
}

const stockInDatabase = (ctx: CheckContext) =>
  new Map(withDb(ctx, (db) => db.prepare('SELECT id, name, stock FROM products').all() as Array<{ id: number; name: string; stock: number }>).map((p) => [p.id, p]));

const STALE_STOCK = (k: number, where: string) =>
  `Worker ${k} shows in ${where} a stock it read earlier (when it started, or on some earlier request), not what the database holds after the sales. The stock changes with every purchase, on whichever worker it happens: read it from the database, as the prices, on every request that shows it.`;

/** Worker k's list and page show `stock` (the database's), for every product; `diagnosis` says why not, naming where. */
async function showsStock(ctx: CheckContext, k: number, stock: ReturnType<typeof stockInDatabase>, diagnosis: (where: string) => string): Promise<void> {
  const reply = await ctx.visitor('dora').get('/api/products', { worker: k });
  for (const p of productsOf(reply)) {
    const want = stock.get(p.id);
    if (want && p.stock !== want.stock) {
      fail({
        expected: `${want.name} with ${want.stock} left, as the database says, from ${describe(reply)}`,
        got: `${JSON.stringify(p.stock)} left`,
        diagnosis: diagnosis('the product list'),
      });
    }
  }
  const page = await ctx.visitor('dora').page('/', { worker: k });
  await pageOf(page, 'the shop page');
  for (const want of stock.values()) {
    const line = await lineOf(page, want.name);
    const shows = line && (line.includes(`${want.stock} left`) || (want.stock === 0 && /sold out/i.test(line)));
    if (!shows) {
      fail({
        expected: `the shop page from ${describe(page)} to show ${want.name} with ${want.stock === 0 ? 'none' : want.stock} left, as the database says`,
        got: line ? `"${line}"` : `no line for ${want.name}`,
        diagnosis: diagnosis('the shop page'),
      });
    }
  }
}

/** Every worker's list and page show the stock the database holds now, for every product. */
export async function everyWorkerShowsStock(ctx: CheckContext): Promise<void> {
  const stock = stockInDatabase(ctx);
  const first = Math.floor(ctx.random() * ctx.workers);
  for (let i = 0; i < ctx.workers; i++) {
    const k = ctx.workerAt(first + i + 1);
    await showsStock(ctx, k, stock, (where) => STALE_STOCK(k, where));
  }
}

/** A visitor looks at the shop on worker k, through the list and the page: whatever the worker keeps of the products, it has now. */
export async function lookAtShop(ctx: CheckContext, k: number): Promise<void> {
  productsOf(await ctx.visitor('dora').get('/api/products', { worker: k }));
  await pageOf(await ctx.visitor('dora').page('/', { worker: k }), 'the shop page');
}

/**
 * Worker k, which has just sold `item` (and nothing else has written since), shows the stock the
 * sale left, in the list and on the page.
 */
export async function sellerShowsStock(ctx: CheckContext, k: number, item: { readonly name: string }): Promise<void> {
  await showsStock(
    ctx,
    k,
    stockInDatabase(ctx),
    (where) =>
      `Worker ${k} sold ${item.name} itself, and shows in ${where} the stock from before its own sale: it answers from a copy of the products that the sale did not forget. A worker that asks SQLite whether "another" connection changed the database (PRAGMA data_version) never hears of its own commits, and here nothing else wrote in between. Read the stock from the database on every request that shows it, or forget the copy with every change, the worker's own included.`,
  );
}

/**
 * Run `work` (requests on `workers`) and let the simulated network answer meanwhile: whenever one
 * of those workers parks a request on a timer (a payment), move the clock. A worker the check
 * holds does not answer until it goes on, so each worker is watched on its own.
 */
async function withNetwork<T>(ctx: CheckContext, workers: readonly number[], work: () => Promise<T>, parked: (worker: number) => void): Promise<T> {
  const base = new Map<number, number>();
  for (const w of workers) base.set(w, await timersOn(ctx, w));
  let done = false;
  const result = work().finally(() => {
    done = true;
  });
  const moves: Promise<void>[] = [];
  const watch = async (w: number) => {
    while (!done) {
      const timers = await timersOn(ctx, w);
      if (done) break;
      if (timers > base.get(w)!) {
        parked(w);
        moves.push(ctx.advanceClock(LET_TIME_PASS_MS));
      }
      await new Promise((resolve) => setTimeout(resolve, 4));
    }
  };
  const watching = Promise.all(workers.map(watch));
  try {
    return await result;
  } finally {
    await watching;
    await Promise.all(moves);
  }
}

/** The buyer's look at the stock: a read of the products that mentions the stock (or all columns). */
// What a statement reads, as SQLite plans it (a view over the products, a join, any alias);
// the names in its text when SQLite cannot plan it.
const readsStock = (ctx: CheckContext) => (op: DataOperation) =>
  op.kind === 'file' || reads(ctx.env.SHOP_DB!, op.sql, 'products', ['stock'], /\bstock\b/i.test(op.sql) || /^\s*select\s+\*[\s\S]*\bproducts\b/i.test(op.sql));
const readsProducts = (ctx: CheckContext) => (op: DataOperation) => op.kind === 'file' || reads(ctx.env.SHOP_DB!, op.sql, 'products', undefined, /\bproducts\b/i.test(op.sql));

/**
 * Two customers buy one product at once on two workers: the first's purchase is held just after it
 * looks at the stock (before its payment if it looks then, or at its first look at the products
 * after the payment) while the second buys. Resolves with both answers, in that order.
 */
export async function twoBuyers(
  ctx: CheckContext,
  product: number,
  first: { readonly customer: string; readonly worker: number },
  second: { readonly customer: string; readonly worker: number },
): Promise<{ replies: readonly [Reply, Reply]; heldAfterPayment: boolean }> {
  let paid = false;
  let heldAfterPayment = false;
  const [products, stock] = [readsProducts(ctx), readsStock(ctx)];
  const replies = await withNetwork(
    ctx,
    [first.worker, second.worker],
    () =>
      ctx.race(
        {
          worker: first.worker,
          send: () => ctx.visitor(first.customer).post('/api/buy', { product }, { worker: first.worker }),
          holdAfter: (op) => {
            const hold = firstRead(op) && products(op) && (paid || stock(op));
            if (hold) heldAfterPayment = paid;
            return hold;
          },
        },
        { worker: second.worker, send: () => ctx.visitor(second.customer).post('/api/buy', { product }, { worker: second.worker }) },
      ),
    (w) => {
      if (w === first.worker) paid = true;
    },
  );
  return { replies, heldAfterPayment };
}

export const lastJarStep: CheckStep = {
  title: 'Two customers buy the last jar of honey on two workers, one while the other is half-way through its purchase: exactly one is sold',
  skip: (ctx) => (ctx.workers < 2 ? 'a race between two workers needs two workers' : undefined),
  async run(ctx) {
    const { honey } = shopOf(ctx);
    // The warehouse counts the honey: one jar left, and the stock team enters it in the database.
    withDb(ctx, (db) => db.prepare('UPDATE products SET stock = 1 WHERE id = ?').run(honey.id));
    const held = someWorker(ctx);
    const other = ctx.workerAt(held + 1);
    const before = lastOrderId(ctx);
    const paidBefore = lastChargeId(ctx);
    const { replies, heldAfterPayment } = await twoBuyers(ctx, honey.id, { customer: 'alice', worker: held }, { customer: 'bob', worker: other });
    for (const reply of replies) expectVerdict(reply);
    const orders = ordersSince(ctx, before).filter((o) => o.productId === honey.id);
    const stock = withDb(ctx, (db) => db.prepare('SELECT stock FROM products WHERE id = ?').pluck().get(honey.id) as number);
    if (orders.length > 1 || stock < 0) {
      fail({
        expected: `one jar of honey sold (there was one), the other buyer told it is sold out`,
        got: `${orders.length} sold (${orders.map((o) => o.customer).join(', ')}), stock now ${stock}`,
        diagnosis: `The check held worker ${held} just after alice's purchase looked at the stock${heldAfterPayment ? ' (after her payment)' : ''}, and let bob buy on worker ${other} meanwhile: bob took the last jar, and worker ${held} then went on with what it had read and sold it again. Looking at the stock and taking the jar must be one step the database decides, one buyer at a time: a conditional update of the stock (going on only when it changed a row), or both inside one transaction that takes the write lock first.`,
      });
    }
    if (orders.length === 0 || stock !== 0) {
      fail({
        expected: 'the last jar of honey sold to one of the two buyers, and none left',
        got: `${orders.length} sold (${replies.map((r) => `${r.visitor}: ${r.status}`).join(', ')}), stock now ${stock}`,
        diagnosis:
          orders.length === 0
            ? 'Both buyers were turned away while there was a jar on the shelf.'
            : 'The order was placed but the stock does not show the jar as taken: take it and record the order together.',
      });
    }
    const buyers = [
      { customer: 'alice', worker: held },
      { customer: 'bob', worker: other },
    ];
    expectCharges(ctx, buyers.map((b, i) => ({ ...b, product: honey, reply: replies[i] })), before, paidBefore);
  },
};
