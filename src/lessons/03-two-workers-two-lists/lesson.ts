import path from 'node:path';
import Database from 'better-sqlite3';
import type { Lesson } from '../types.ts';
import { addByForm, addItem, briefBasket, expectBasket, expectOnPage, loadBasketPage } from '../basket.ts';
import { markdown } from '../text.ts';
import { everyWorkerShows, planOf } from './plan.ts';
import { aliceNow, twoTabsAtOnce } from './tabs.ts';

/** The diagnosis when a worker shows another basket than the one every worker should share. */
export function elsewhere(visitor: string, worker: number) {
  return (got: readonly string[]): string => {
    const lost = got.length === 0 ? `${visitor}'s basket is empty on worker ${worker}` : `worker ${worker} shows a different basket`;
    return `${lost}: each worker process has its own memory, so a Map (or any variable) filled by one worker is invisible to the others. Keep the items in the database every worker opens (BASKET_DB), and read them from it on every request, for the page as for the API.`;
  };
}

const lesson: Lesson = {
  number: 3,
  slug: '03-two-workers-two-lists',
  title: 'Two workers, two lists',
  track: 'core',
  summary: 'On three workers, items vanish and reappear as requests move between them.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Run the check with one worker (`--workers 1`, or the 1-worker run in the course): it passes. With three it fails. What do three processes not share?',
    'The `baskets` Map exists once per worker. Replace it with the `basket_items` table in `BASKET_DB`: better-sqlite3 is available, and every worker can open the same file.',
    'Prepare the statements once at module level, run them in `itemsOf` and `addItem`: `SELECT item FROM basket_items WHERE visitor = ? ORDER BY id` and `INSERT INTO basket_items (visitor, item) VALUES (?, ?)`. One row per item means that adding never rewrites what is there. A JSON file read once at startup has the same problem as the Map; one read and rewritten on every change loses an item when two tabs add at once.',
  ],
  workers: 3,
  mode: 'sequential',
  worksLocally: true,
  brief: briefBasket,
  seed(dir) {
    const file = path.join(dir, 'basket.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE basket_items (id INTEGER PRIMARY KEY, visitor TEXT NOT NULL, item TEXT NOT NULL)');
    db.close();
    return { BASKET_DB: file };
  },
  flask: {
    file: 'app.py',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'Run the check with one worker (`--workers 1`, or the 1-worker run in the course): it passes. With three it fails. What do three forked processes not share?',
      'The `baskets` dict exists once per worker: each fork got its own copy. Replace it with the `basket_items` table in `BASKET_DB`: the `sqlite3` module is in the standard library, and every worker can open the same file.',
      'Open a connection in `items_of` and `add_item` and run `SELECT item FROM basket_items WHERE visitor = ? ORDER BY id` and `INSERT INTO basket_items (visitor, item) VALUES (?, ?)` (commit the insert). A JSON file read once at import has the same problem as the dict.',
    ],
  },
  steps: [
    {
      title: "alice's item added on one worker shows on another",
      async run(ctx) {
        const { alice, workers: [w1, w2] } = planOf(ctx);
        const page = await addByForm(ctx, 'alice', alice[0], w1);
        expectOnPage(page, 'alice', [alice[0]], [], () => `The page that follows alice's form on worker ${w1} does not show her item: the page must read the basket of the visitor who asks.`);
        expectOnPage(await loadBasketPage(ctx, 'alice', w2), 'alice', [alice[0]], [], () => elsewhere('alice', w2)([]));
        await expectBasket(ctx, 'alice', [alice[0]], elsewhere('alice', w2), w2);
      },
    },
    {
      title: 'items added on different workers all show, in order, on every worker',
      async run(ctx) {
        const { alice, workers: [, w2, w3] } = planOf(ctx);
        // The page's script adds one; the form adds the next.
        await addItem(ctx, 'alice', alice[1], w2, alice.slice(0, 2));
        await addByForm(ctx, 'alice', alice[2], w3);
        await everyWorkerShows(ctx, 'alice', alice.slice(0, 3), elsewhere);
      },
    },
    {
      title: "bob's basket is his own, on every worker",
      async run(ctx) {
        const { alice, bob, dave, workers: [w1, , w3] } = planOf(ctx);
        ctx.visitor('bob', { like: 'alice' });
        await addByForm(ctx, 'bob', bob, w3);
        // dave's shopping app calls the API.
        ctx.visitor('dave', { kind: 'api' });
        await addItem(ctx, 'dave', dave, w1, [dave]);
        await everyWorkerShows(ctx, 'bob', [bob], elsewhere, [...alice, dave]);
        await everyWorkerShows(ctx, 'dave', [dave], elsewhere);
        await expectBasket(ctx, 'alice', alice.slice(0, 3), elsewhere('alice', w1), w1);
      },
    },
    {
      title: 'two tabs adding at once on two workers both keep their item',
      skip: (ctx) => (ctx.workers === 1 ? 'one worker: two requests never run at the same moment on two workers' : undefined),
      async run(ctx) {
        await twoTabsAtOnce(ctx);
      },
    },
    {
      title: 'baskets survive a reload of every worker',
      reloads: true,
      skip: (ctx) => (ctx.workers === 1 ? 'one worker: this run checks only what a single process sees' : undefined),
      async run(ctx) {
        const { bob, dave } = planOf(ctx);
        await ctx.reload();
        const gone = () => () => 'A reload starts every worker afresh: whatever lived in process memory is gone. Keep the items in the database.';
        await everyWorkerShows(ctx, 'alice', aliceNow(ctx), gone, [bob, dave]);
        await everyWorkerShows(ctx, 'bob', [bob], gone, aliceNow(ctx));
        await everyWorkerShows(ctx, 'dave', [dave], gone);
      },
    },
  ],
};

export default lesson;
