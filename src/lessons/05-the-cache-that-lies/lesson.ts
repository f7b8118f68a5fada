import path from 'node:path';
import { describe, expectJson, fail } from '../../check/expect.ts';
import { withinOneTick } from '../file-clock.ts';
import { reads } from '../statement-reads.ts';
import type { DataOperation } from '../../check/lesson.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { drawProducts, otherPrice, seedProducts, type Product } from '../products.ts';
import { euros, everyWorkerShows, expectPrices, productsInDatabase, where, type Stale } from './prices.ts';
import { changePriceInDatabase, stockTeamSteps } from './stock-team.ts';
import { restartStep } from './restart.ts';
import { someWorker } from '../draws.ts';

const MINUTE = 60_000;

/** The diagnosis for a worker still showing the old price after a change made through the app on `editedOn`. */
function staleAfterEdit(editedOn: number, withinOneTick = false) {
  const tick = withinOneTick
    ? ' A copy kept until the database file\'s time or size moves is no better: this change came within the same tick of the disk\'s file clock as the look before it and left the files\' sizes as they were, so they look as they did.'
    : '';
  return (stale: Stale): string =>
    stale.worker === editedOn
      ? `${where(stale)} made the change itself and still shows the old price. Is it reading a copy that the change did not forget? (A worker that asks SQLite whether "another" connection changed the database never hears of its own changes.)`
      : `${where(stale)} answered from its own copy of the prices, made before the change on worker ${editedOn}. Forgetting the copy in the worker that made the change does nothing for the others: each worker has its own memory, and no timer makes a copy right the moment after an edit. Read the prices from the database on every request, or check on every request that the copy is still current against something kept in the database that every change moves.${tick}`;
}

/** A product of the run's shelf and a new price for it, drawn from the run's seed. */
function pickChange(ctx: CheckContext): { product: Product; price: number; shelf: Product[] } {
  const shelf = productsInDatabase(ctx);
  const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
  return { product, price: otherPrice(ctx.random, product.price), shelf };
}

/** The shelf with `product` at `price`. */
const withPrice = (shelf: readonly Product[], id: number, price: number) => shelf.map((p) => (p.id === id ? { ...p, price } : p));

/** The database must hold the new price: the change was made, not only shown. */
function expectStored(ctx: CheckContext, id: number, price: number, how: string): void {
  const stored = productsInDatabase(ctx).find((p) => p.id === id);
  if (stored?.price !== price) {
    fail({
      expected: `the products table to hold ${euros(price)} for product ${id} after ${how}`,
      got: stored ? euros(stored.price) : 'no such row',
      diagnosis: 'The price change never reached the database, so no other worker (and no reload) can ever see it. Write the new price to the products table.',
    });
  }
}

/** The staff change a price with the price page's form, on `worker`; the page they land on must show it. */
async function changeWithForm(ctx: CheckContext, id: number, price: number, worker: number, want: readonly Product[]): Promise<void> {
  const staff = ctx.visitor('staff');
  const page = await staff.page('/', { worker });
  const landed = await staff.fillIn(page, { id, price }, { worker, action: '/api/admin/price' });
  if (landed.status === 0 || landed.status >= 400) {
    fail({ expected: `the price form on ${describe(page)} to change the price`, got: `status ${landed.status}: ${landed.body}`, diagnosis: 'The price page\'s form posts the product id and the new price in cents to /api/admin/price; it must still work, and lead back to the price page.' });
  }
  expectStored(ctx, id, price, 'the form was sent');
  await expectPrices(landed, 'page', want, staleAfterEdit(worker));
}

/** The stock team's program changes a price through the API (JSON), on `worker`. */
async function changeWithApi(ctx: CheckContext, id: number, price: number, worker: number): Promise<void> {
  const reply = await ctx.visitor('stock-script', { kind: 'api' }).post('/api/admin/price', { id, price }, { worker });
  expectJson(reply, 'an answer to the price change');
  expectStored(ctx, id, price, `${describe(reply)}`);
}

/** Hold the reloading worker just after it has read the products table (by its name, through a view, in any shape: as SQLite plans it). */
const readOfProducts = (ctx: CheckContext) => (operation: DataOperation) =>
  operation.kind === 'sql' && !operation.write && reads(ctx.env.SHOP_DB!, operation.sql, 'products', undefined, /\bfrom\s+(?:main\.)?["`[]?products\b/i.test(operation.sql));

/** Hold the editing worker after its first write of data (not BEGIN or COMMIT). */
const firstDataWrite = (operation: DataOperation) =>
  operation.write && (operation.kind === 'file' || !/^\s*(?:begin|commit|end|rollback|savepoint|release)\b/i.test(operation.sql));

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
    'The worker that handles the change forgets its copy. How would the other two workers learn that a price changed? Nothing in their memory tells them. And the page `/` uses the same copy as `/api/products`.',
    'The simplest fix is no copy at all: run the prepared statement in `products()` on every request. Reading a few rows from SQLite takes microseconds.',
    'To keep a copy, check it on every request against a version that every change moves, kept in the database: a one-row table `catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)` bumped by a trigger, `CREATE TRIGGER IF NOT EXISTS products_changed AFTER UPDATE ON products BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END` (and the same for INSERT and DELETE), so that edits made outside the app move it too. Read the version per request and reload the copy when it moved. Never move the version before the data, and on a reload read the version before the rows (or both in one transaction): a worker that reads the rows, then a version a change moved in between, keeps the old prices under the new version.',
  ],
  workers: 3,
  mode: 'sequential',
  clock: 'manual',
  worksLocally: true,
  brief(json) {
    const products = (json as { products?: Product[] }).products;
    return Array.isArray(products) ? products.map((p) => `${p.name} ${euros(p.price)}`).join(', ') : undefined;
  },
  seed(dir, random) {
    const file = path.join(dir, 'shop.db');
    seedProducts(file, drawProducts(random));
    return { SHOP_DB: file };
  },
  flask: {
    file: 'app.py',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'The worker that handles the change sets its own `cached_products` to None. How would the other two workers learn that a price changed? Nothing in their memory tells them. And the page `/` uses the same copy as `/api/products`.',
      'The simplest fix is no copy at all: call `load_products()` in `products()` on every request. Reading a few rows from SQLite takes microseconds. A copy that expires after a few seconds (`time.time()` against a TTL) is still wrong right after a change.',
      'To keep a copy, check it on every request against a version that every change moves, kept in the database: a one-row table `catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)` bumped by a trigger, `CREATE TRIGGER IF NOT EXISTS products_changed AFTER UPDATE ON products BEGIN UPDATE catalogue_version SET version = version + 1 WHERE id = 1; END` (and the same for INSERT and DELETE), so that edits made outside the app move it too. Read the version per request and reload the copy when it moved. Never move the version before the data, and on a reload read the version before the rows (or both in one transaction): a worker that reads the rows, then a version a change moved in between, keeps the old prices under the new version.',
    ],
  },
  steps: [
    {
      title: 'Every worker lists the prices, on the page and through the API',
      async run(ctx) {
        const shelf = productsInDatabase(ctx);
        await everyWorkerShows(ctx, shelf, Math.floor(ctx.random() * ctx.workers), (stale) => `${where(stale)} does not show the prices the database holds.`);
      },
    },
    {
      title: 'The staff change a price with the page\'s form on one worker: every worker shows it at once',
      async run(ctx) {
        const { product, price, shelf } = pickChange(ctx);
        const worker = someWorker(ctx);
        const want = withPrice(shelf, product.id, price);
        // Every worker looks at the prices, and the change comes within the same tick of the
        // disk's file clock: the database's files look as they did before it.
        await withinOneTick(ctx.env.SHOP_DB!, 'products', {
          look: () => everyWorkerShows(ctx, shelf, worker, (stale) => `${where(stale)} does not show the prices the database holds.`),
          change: () => changeWithForm(ctx, product.id, price, worker, want),
          then: () => everyWorkerShows(ctx, want, worker, staleAfterEdit(worker, true)),
        });
      },
    },
    {
      title: 'A minute later, a change through the API shows at once on every worker',
      async run(ctx) {
        await ctx.advanceClock(MINUTE);
        const { product, price, shelf } = pickChange(ctx);
        const worker = ctx.workerAt(2 + Math.floor(ctx.random() * ctx.workers));
        await changeWithApi(ctx, product.id, price, worker);
        await everyWorkerShows(ctx, withPrice(shelf, product.id, price), worker, staleAfterEdit(worker));
      },
    },
    {
      title: 'Ten minutes on, every worker is still right, and a change with the form shows at once',
      async run(ctx) {
        await ctx.advanceClock(10 * MINUTE);
        const before = productsInDatabase(ctx);
        await everyWorkerShows(ctx, before, 0, (stale) => `${where(stale)} shows a price the database no longer holds, ten minutes after it changed.`);
        const { product, price, shelf } = pickChange(ctx);
        const worker = ctx.workerAt(3 + Math.floor(ctx.random() * ctx.workers));
        const want = withPrice(shelf, product.id, price);
        await changeWithForm(ctx, product.id, price, worker, want);
        await everyWorkerShows(ctx, want, worker, staleAfterEdit(worker));
      },
    },
    {
      title: 'A worker that reads the prices while another is changing one keeps no old price',
      skip: (ctx) => (ctx.workers < 2 ? 'a race between two workers needs two workers' : undefined),
      async run(ctx) {
        const { product, price, shelf } = pickChange(ctx);
        const editor = someWorker(ctx);
        const reader = ctx.workerAt(editor + 1);
        const [change] = await ctx.race(
          { worker: editor, send: () => ctx.visitor('stock-script', { kind: 'api' }).post('/api/admin/price', { id: product.id, price }, { worker: editor }), holdAfter: firstDataWrite },
          { worker: reader, send: () => ctx.visitor('bob', { kind: 'api' }).get('/api/products', { worker: reader }) },
        );
        expectJson(change, 'an answer to the price change');
        expectStored(ctx, product.id, price, describe(change));
        await everyWorkerShows(ctx, withPrice(shelf, product.id, price), editor, (stale) =>
          stale.worker === reader
            ? `${where(stale)} read the prices while worker ${editor} was half-way through its change, and kept what it read as if it were current. The check held worker ${editor} just after its first write and let worker ${reader} read: if that write moved the version and not yet the price, worker ${reader} stored the old prices under the new version, and nothing will ever tell it to read them again. The version must move with the data or after it, never before.`
            : staleAfterEdit(editor)(stale),
        );
      },
    },
    ...stockTeamSteps,
    {
      title: 'A worker that reloads the prices while another worker changes one keeps no old price',
      skip: (ctx) => (ctx.workers < 2 ? 'a race between two workers needs two workers' : undefined),
      async run(ctx) {
        // The stock team changes a price: every copy is old now, and the next read reloads it.
        const before = pickChange(ctx);
        changePriceInDatabase(ctx, before.product.id, before.price);
        const { product, price, shelf } = pickChange(ctx);
        const reader = someWorker(ctx);
        const editor = ctx.workerAt(reader + 1);
        const [read, change] = await ctx.race(
          { worker: reader, send: () => ctx.visitor('bob', { kind: 'api' }).get('/api/products', { worker: reader }), holdAfter: readOfProducts(ctx) },
          { worker: editor, send: () => ctx.visitor('stock-script', { kind: 'api' }).post('/api/admin/price', { id: product.id, price }, { worker: editor }) },
        );
        expectJson(read, 'the price list');
        expectJson(change, 'an answer to the price change');
        expectStored(ctx, product.id, price, describe(change));
        await everyWorkerShows(ctx, withPrice(shelf, product.id, price), editor, (stale) =>
          `${where(stale)} shows the old price of ${product.name}. Worker ${reader} was reloading the prices when worker ${editor} changed it: the check held worker ${reader} just after it read the products, let the change finish, then let worker ${reader} go on. What it did next marked the rows it had read before the change as current (a version read after the rows, or old rows written into a copy the workers share), and nothing will make a worker read them again. Read the version before the rows, or both in one transaction; fill a shared copy in a transaction that holds the write lock (BEGIN IMMEDIATE), so that no change can commit between the read and the fill.`,
        );
      },
    },
    restartStep,
  ],
};

export default lesson;
