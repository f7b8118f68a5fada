// The capstone's first step: a price changed in the database, seen at once by every route of
// every worker. Each worker is asked first through a different route (the list, the page or the
// checkout, in an order drawn from the seed), so a copy that only one route refreshes is caught
// by whichever route runs first on some worker.
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { CheckContext, CheckStep } from '../types.ts';
import { otherPrice } from '../products.ts';
import { settle } from '../waiting.ts';
import { withinOneTick } from '../file-clock.ts';
import { expectCharges, lastChargeId } from './ledger.ts';
import { euros, lastOrderId, lineOf, ordersSince, pageOf, productsOf, shopOf, withDb, type Product } from './shop.ts';

export const STALE_COPY = (k: number, where: string) =>
  `Worker ${k} answers ${where} from a copy of the products it made earlier (when it started, or on some earlier request), not from the database. Every worker must show, and charge, the price the database holds now, whichever page a visitor opens first. (A copy kept until the database file's time or size moves misses this change: it came within the same tick of the disk's file clock as the look before it, and left the files' sizes as they were.)`;

export async function signIn(ctx: CheckContext, name: string, worker: number): Promise<void> {
  const reply = await ctx.visitor(name).post('/login', { name }, { worker });
  expectJson(reply, `JSON like {"name": "${name}"}`);
}

/** One way to see the price: what it checks on worker k, after `first` other routes ran there. */
type Route = (ctx: CheckContext, item: Product, price: number, k: number, first: boolean) => Promise<void>;

const firstOrAfter = (first: boolean) => (first ? ' (the first time this worker looked at the products after the change)' : '');

const list: Route = async (ctx, item, price, k, first) => {
  const reply = await ctx.visitor('alice').get('/api/products', { worker: k });
  const found = productsOf(reply).find((p) => p.id === item.id);
  if (found?.price !== price) {
    fail({
      expected: `${item.name} at ${euros(price)} from ${describe(reply)}${firstOrAfter(first)}, after the price was changed in the database`,
      got: found ? euros(found.price) : `no ${item.name} at all`,
      diagnosis: STALE_COPY(k, 'the product list'),
    });
  }
};

const page: Route = async (ctx, item, price, k, first) => {
  const reply = await ctx.visitor('dora').page('/', { worker: k });
  await pageOf(reply, 'the shop page');
  const line = await lineOf(reply, item.name);
  if (!line?.includes(euros(price)) || line.includes(euros(item.price))) {
    fail({
      expected: `the shop page from ${describe(reply)}${firstOrAfter(first)} to show ${item.name} at ${euros(price)}`,
      got: line ? `"${line}"` : `no line for ${item.name}`,
      diagnosis: STALE_COPY(k, 'the shop page'),
    });
  }
};

const checkout: Route = async (ctx, item, price, k, first) => {
  await signIn(ctx, 'carol', k);
  const before = lastOrderId(ctx);
  const paidBefore = lastChargeId(ctx);
  const reply = await settle(ctx, k, () => ctx.visitor('carol').post('/api/buy', { product: item.id }, { worker: k }));
  expectJson(reply, 'JSON like {"order": 5, ...} (201)');
  const order = ordersSince(ctx, before).find((o) => o.productId === item.id);
  if (!order || order.price !== price) {
    fail({
      expected: `carol's order of ${item.name} on worker ${k}${firstOrAfter(first)} to be charged ${euros(price)}, the price the database holds`,
      got: order ? `an order charged ${euros(order.price)}` : 'no order in the database',
      diagnosis: STALE_COPY(k, 'the checkout'),
    });
  }
  expectCharges(ctx, [{ customer: 'carol', product: item, worker: k }], before, paidBefore);
};

const ROUTES: readonly Route[] = [list, page, checkout];

export const pricesStep: CheckStep = {
  title: 'A price changed in the database shows at once, on every worker: in the list, on the page and at the checkout',
  async run(ctx) {
    const item = shopOf(ctx).repriced;
    const price = otherPrice(ctx.random, item.price);
    // Every worker has served the list and the page before the change: whatever it keeps, it
    // has. The change comes within the same tick of the disk's file clock, so the database's
    // files look as they did before it.
    await withinOneTick(ctx.env.SHOP_DB!, 'products', {
      async look() {
        for (let k = 1; k <= ctx.workers; k++) {
          productsOf(await ctx.visitor('alice').get('/api/products', { worker: k }));
          await pageOf(await ctx.visitor('dora').page('/', { worker: k }), 'the shop page');
        }
      },
      change() {
        withDb(ctx, (db) => db.prepare('UPDATE products SET price = ? WHERE id = ?').run(price, item.id));
      },
      // Worker k starts with route (k + offset) % 3: with three workers, each route is the first
      // thing some worker is asked after the change. Every worker is asked its first route
      // before any checkout writes an order (which moves the database's files), the workers
      // that start at the checkout last.
      async then() {
        const offset = Math.floor(ctx.random() * ROUTES.length);
        const routesOf = (k: number) => ROUTES.map((_, j) => ROUTES[(k + offset + j) % ROUTES.length]!);
        const workers = Array.from({ length: ctx.workers }, (_, i) => i + 1);
        const firsts = [...workers.filter((k) => routesOf(k)[0] !== checkout), ...workers.filter((k) => routesOf(k)[0] === checkout)];
        for (const k of firsts) await routesOf(k)[0]!(ctx, item, price, k, true);
        for (const k of workers) for (const route of routesOf(k).slice(1)) await route(ctx, item, price, k, false);
      },
    });
  },
};
