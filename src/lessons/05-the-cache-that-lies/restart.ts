// Lesson 5's step about a worker that the host starts again after a crash, while the other
// workers keep serving from whatever copy they hold: a change made after it must reach them all.
import type { CheckStep } from '../types.ts';
import { otherPrice } from '../products.ts';
import { everyWorkerShows, productsInDatabase, where } from './prices.ts';
import { changePriceInDatabase } from './stock-team.ts';
import { someWorker } from '../draws.ts';

export const restartStep: CheckStep = {
  title: 'A worker crashes and is started again while the others keep their copies: a change in the database then shows at once on every worker',
  // The host starts a worker in place of the one that died: the engine keeps a spare ready.
  reloads: true,
  timeoutMs: 30_000,
  skip: (ctx) => (ctx.workers < 2 ? 'a worker started again while others keep their copies needs two workers' : undefined),
  async run(ctx) {
    // Every worker shows the prices (and keeps whatever copy it keeps); then one of them dies
    // (an out-of-memory kill) and the host starts a new one in its place. The others go on.
    const crashed = someWorker(ctx);
    await everyWorkerShows(ctx, productsInDatabase(ctx), crashed, (stale) => `${where(stale)} does not show the prices the database holds.`);
    await ctx.crash(crashed);
    await everyWorkerShows(ctx, productsInDatabase(ctx), crashed - 1, (stale) =>
      `${where(stale)} does not show the prices the database holds after worker ${crashed} was started again (no price changed meanwhile).`,
    );
    // Then the stock team changes a price in the database.
    const shelf = productsInDatabase(ctx);
    const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
    changePriceInDatabase(ctx, product.id, otherPrice(ctx.random, product.price));
    await everyWorkerShows(ctx, productsInDatabase(ctx), crashed, (stale) =>
      stale.worker === crashed
        ? `${where(stale)}, started again after a crash, still shows the old price of ${product.name}, changed in the database after it started. A worker started on its own, while the others serve, must check its copy on every request as the first workers do.`
        : `${where(stale)} still shows the old price of ${product.name}, changed in the database after worker ${crashed} crashed and was started again. Worker ${stale.worker} kept running, and what was to tell it its copy is old no longer reaches it: a note kept per worker that a starting worker cleared, a message sent only to the workers running at some moment, a copy refreshed only when a worker starts. A host starts workers one at a time, whenever one dies: check every copy against one version that every change moves and every worker reads (a trigger on the products table, or PRAGMA data_version), or read the prices on every request.`,
    );
  },
};
