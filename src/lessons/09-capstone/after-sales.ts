// The capstone's steps about what real traffic does after the rush: two customers buying a
// product the shop has plenty of, on two workers at once, and a customer reading her account
// on every worker after she bought something, and the stock the worker that sold her shows.
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { CheckContext, CheckStep } from '../types.ts';
import { settle } from '../waiting.ts';
import { expectCharges, lastChargeId } from './ledger.ts';
import { lastOrderId, ordersSince, shopOf, withDb } from './shop.ts';
import { expectVerdict, lookAtShop, sellerShowsStock, twoBuyers } from './stock.ts';
import { someWorker } from '../draws.ts';

/** A product of the shelf other than the honey, drawn from the seed. */
function shelfItem(ctx: CheckContext) {
  const { products, honey } = shopOf(ctx);
  const shelf = products.filter((p) => p.id !== honey.id);
  return shelf[Math.floor(ctx.random() * shelf.length)]!;
}

const stockOf = (ctx: CheckContext, id: number) => withDb(ctx, (db) => db.prepare('SELECT stock FROM products WHERE id = ?').pluck().get(id) as number);

export const wellStockedStep: CheckStep = {
  title: 'Two customers buy a well-stocked product on two workers, one while the other is half-way through its purchase: the stock drops by two',
  skip: (ctx) => (ctx.workers < 2 ? 'a race between two workers needs two workers' : undefined),
  async run(ctx) {
    const item = shelfItem(ctx);
    // A delivery: the stock team enters plenty of it.
    const stock = 20 + Math.floor(ctx.random() * 20);
    withDb(ctx, (db) => db.prepare('UPDATE products SET stock = ? WHERE id = ?').run(stock, item.id));
    const held = someWorker(ctx);
    const other = ctx.workerAt(held + 1);
    const before = lastOrderId(ctx);
    const paidBefore = lastChargeId(ctx);
    // As with the last jar: bob's purchase is held just after it looks at the stock while carol buys.
    const { replies, heldAfterPayment } = await twoBuyers(ctx, item.id, { customer: 'bob', worker: held }, { customer: 'carol', worker: other });
    for (const reply of replies) expectVerdict(reply);
    const orders = ordersSince(ctx, before).filter((o) => o.productId === item.id);
    const left = stockOf(ctx, item.id);
    if (orders.length !== 2) {
      fail({
        expected: `both bob and carol to buy ${item.name}: there were ${stock}`,
        got: `${orders.length} sold (${replies.map((r) => `${r.visitor}: ${r.status}`).join(', ')})`,
        diagnosis: `A buyer was turned away while there were ${stock} of ${item.name} on the shelf.`,
      });
    }
    if (left !== stock - 2) {
      fail({
        expected: `${stock - 2} of ${item.name} left after two sales (there were ${stock})`,
        got: `${left} left`,
        diagnosis: `The check held worker ${held} just after bob's purchase looked at the stock${heldAfterPayment ? ' (after his payment)' : ''}, and let carol buy on worker ${other} meanwhile; then worker ${held} wrote back what it had read, minus one, and carol's sale was lost from the stock. It is the race of the last jar again with plenty on the shelf: nothing is oversold yet, but the shelf now holds more than the shop has, and its last jars will be sold twice. Take every item the same way, however many are left: a conditional update that subtracts in the database (stock = stock - 1 ... AND stock > 0), never a number read before.`,
      });
    }
    expectCharges(ctx, [{ customer: 'bob', product: item, worker: held, reply: replies[0] }, { customer: 'carol', product: item, worker: other, reply: replies[1] }], before, paidBefore);
  },
};

interface AccountBody {
  readonly orders?: ReadonlyArray<{ readonly id?: unknown; readonly price?: unknown }>;
}

async function accountOn(ctx: CheckContext, worker: number): Promise<{ reply: Awaited<ReturnType<typeof settle>>; body: AccountBody }> {
  const reply = await settle(ctx, worker, () => ctx.visitor('alice').get('/api/account', { worker }));
  return { reply, body: expectJson(reply, 'JSON like {"name", "fullName", "orders"}') as AccountBody };
}

export const accountAfterPurchaseStep: CheckStep = {
  title: "After a purchase, the buyer's account shows the new order on every worker, and the worker that sold shows the stock it left",
  async run(ctx) {
    // alice looks at her account on every worker (over a day, her clicks land on each of them).
    for (let k = 1; k <= ctx.workers; k++) await accountOn(ctx, k);
    const item = shelfItem(ctx);
    const buyOn = someWorker(ctx);
    // The worker she buys on has just shown the shop: whatever it keeps of the products, it has.
    await lookAtShop(ctx, buyOn);
    const before = lastOrderId(ctx);
    const paidBefore = lastChargeId(ctx);
    const bought = await settle(ctx, buyOn, () => ctx.visitor('alice').post('/api/buy', { product: item.id }, { worker: buyOn }));
    expectJson(bought, 'JSON like {"order": 5, ...} (201)');
    const order = ordersSince(ctx, before).find((o) => o.customer === 'alice' && o.productId === item.id);
    if (!order) fail({ expected: `alice's order of ${item.name} on worker ${buyOn} in the database`, got: `no such order (${describe(bought)}: ${bought.status} ${bought.body})` });
    expectCharges(ctx, [{ customer: 'alice', product: item, worker: buyOn }], before, paidBefore);
    // Nothing else writes until the worker that sold has shown the stock again, in the list and
    // on the page: its own sale is the only change since its last look.
    await sellerShowsStock(ctx, buyOn, item);
    for (let i = 0; i < ctx.workers; i++) {
      const k = ctx.workerAt(buyOn + i);
      const { reply, body } = await accountOn(ctx, k);
      const listed = Array.isArray(body.orders) ? body.orders.find((o) => o?.id === order.id) : undefined;
      if (!listed) {
        fail({
          expected: `alice's account from ${describe(reply)} to list her order #${order.id} of ${item.name}, just bought on worker ${buyOn}`,
          got: Array.isArray(body.orders) ? `orders ${JSON.stringify(body.orders.map((o) => o?.id))}` : reply.body.slice(0, 200),
          diagnosis:
            k === buyOn
              ? `Worker ${k} took alice's purchase itself and its account does not show it: the account is answered from a copy of her orders made before the purchase.`
              : `alice bought ${item.name} on worker ${buyOn}, and worker ${k} answers her account from a copy of her orders it made earlier. Forgetting the copy in the worker that took the purchase does nothing for the others: each worker has its own memory. Read the customer's orders from the database on every request that shows them.`,
        });
      }
    }
  },
};
