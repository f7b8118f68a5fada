import path from 'node:path';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { readProducts, seedProducts, SEED_PRODUCTS, type Product } from '../products.ts';


const MINUTE = 60_000;


const euros = (cents: number) => (cents / 100).toFixed(2);


/** The staff change a price through the app, on one worker. */
async function changePrice(ctx: CheckContext, id: number, price: number, worker: number): Promise<void> {
  const reply = await ctx.visitor('staff').post('/api/admin/price', { id, price }, { worker });
  expectJson(reply, `an answer to the price change`);
}

/** Every worker, starting with `first`, must show `price` for product `id`. */
async function everyWorkerShows(ctx: CheckContext, id: number, price: number, editedOn: number): Promise<void> {
  const order = Array.from({ length: ctx.workers }, (_, i) => ctx.workerAt(editedOn + 1 + i));
  for (const worker of order) {
    const reply = await ctx.visitor('alice').get('/api/products', { worker });
    const found = readProducts(reply).products.find((p) => p.id === id);
    if (!found) fail({ expected: `product ${id} in ${describe(reply)}`, got: reply.body });
    if (found.price !== price) {
      fail({
        expected: `${found.name} at ${euros(price)} from ${describe(reply)}`,
        got: `${euros(found.price)}`,
        diagnosis:
          worker === editedOn
            ? `Worker ${worker} made the change itself and still shows the old price: read the prices again after changing them.`
            : `Worker ${worker} answered from its own copy of the prices, made before the change on worker ${editedOn}. Forgetting the copy in the worker that made the change does nothing for the others: each worker has its own memory, and no timer makes a copy right the moment after an edit. Read the prices from the database on every request, or check on every request that the copy is still current against something every change updates, kept in the database.`,
      });
    }
  }
}

const lesson: Lesson = {
  number: 5,
  slug: '05-the-cache-that-lies',
  title: 'The cache that lies',
  track: 'advanced',
  summary: 'A price changed by the staff shows on one worker; the others keep the old one.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'The worker that handles the change forgets its copy. How would the other two workers learn that a price changed? Nothing in their memory tells them.',
    'The simplest fix is no copy at all: run the prepared statement in `products()` on every request. Reading three rows from SQLite takes microseconds.',
    'To keep a copy, check it on every request against something shared that every change updates: for example a one-row table `catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`, bumped in the same transaction as the price; read the version per request and reload when it moved. A copy that expires after a few seconds is still wrong right after a change.',
  ],
  workers: 3,
  mode: 'sequential',
  clock: 'manual',
  worksLocally: true,
  brief(json) {
    const products = (json as { products?: Product[] }).products;
    return Array.isArray(products) ? products.map((p) => `${p.name} ${euros(p.price)}`).join(', ') : undefined;
  },
  seed(dir) {
    const file = path.join(dir, 'shop.db');
    seedProducts(file);
    return { SHOP_DB: file };
  },
  flask: {
    file: 'app.py',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'The worker that handles the change sets its own `cached_products` to None. How would the other two workers learn that a price changed? Nothing in their memory tells them.',
      'The simplest fix is no copy at all: call `load_products()` in `products()` on every request. Reading three rows from SQLite takes microseconds.',
      'To keep a copy, check it on every request against something shared that every change updates: for example a one-row table `catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`, bumped in the same transaction as the price; read the version per request and reload when it moved. A copy that expires after a few seconds (`time.time()` against a TTL) is still wrong right after a change.',
    ],
  },
  steps: [
    {
      title: 'Every worker lists the prices',
      async run(ctx) {
        for (let worker = 1; worker <= ctx.workers; worker++) {
          const reply = await ctx.visitor('alice').get('/api/products', { worker });
          const got = readProducts(reply).products.map((p) => `${p.name} ${euros(p.price)}`).join(', ');
          const want = SEED_PRODUCTS.map((p) => `${p.name} ${euros(p.price)}`).join(', ');
          if (got !== want) fail({ expected: `the prices ${want} from ${describe(reply)}`, got: got || 'an empty list' });
        }
      },
    },
    {
      title: 'A price changed on worker 1 shows at once on workers 2 and 3',
      async run(ctx) {
        await changePrice(ctx, 2, 199, ctx.workerAt(1));
        await everyWorkerShows(ctx, 2, 199, ctx.workerAt(1));
      },
    },
    {
      title: 'A minute later, a change on worker 3 shows at once on every worker',
      async run(ctx) {
        await ctx.advanceClock(MINUTE);
        await changePrice(ctx, 2, 179, ctx.workerAt(3));
        await everyWorkerShows(ctx, 2, 179, ctx.workerAt(3));
      },
    },
    {
      title: 'Ten minutes on, a change on worker 2 still shows at once on every worker',
      async run(ctx) {
        await ctx.advanceClock(10 * MINUTE);
        await everyWorkerShows(ctx, 2, 179, ctx.workerAt(3));
        await changePrice(ctx, 3, 350, ctx.workerAt(2));
        await everyWorkerShows(ctx, 3, 350, ctx.workerAt(2));
      },
    },
  ],
};

export default lesson;
