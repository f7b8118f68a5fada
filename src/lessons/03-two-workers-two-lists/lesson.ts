import path from 'node:path';
import Database from 'better-sqlite3';
import type { Lesson } from '../types.ts';
import { addItem, briefBasket, expectBasket } from '../basket.ts';
import { markdown } from '../text.ts';


function elsewhere(visitor: string, worker: number) {
  return (got: readonly string[]): string => {
    const lost = got.length === 0 ? `${visitor}'s basket is empty there` : `worker ${worker} shows a different basket`;
    return `${lost}: each worker process has its own memory, so a Map, a dict or any variable filled by one worker is invisible to the others. Keep the items in the database every worker opens (BASKET_DB), and read them from it on every request.`;
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
    'Prepare the statements once at module level, run them in `itemsOf` and `addItem`: `SELECT item FROM basket_items WHERE visitor = ? ORDER BY id` and `INSERT INTO basket_items (visitor, item) VALUES (?, ?)`. A JSON file read once at startup has the same problem as the Map.',
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
      title: "alice's item added on worker 1 shows on worker 2",
      async run(ctx) {
        await addItem(ctx, 'alice', 'tea', ctx.workerAt(1));
        await expectBasket(ctx, 'alice', ['tea'], elsewhere('alice', ctx.workerAt(2)), ctx.workerAt(2));
      },
    },
    {
      title: 'items added on different workers all show, in order, on every worker',
      async run(ctx) {
        await addItem(ctx, 'alice', 'milk', ctx.workerAt(2));
        await addItem(ctx, 'alice', 'bread', ctx.workerAt(3));
        for (let k = 1; k <= ctx.workers; k++) {
          await expectBasket(ctx, 'alice', ['tea', 'milk', 'bread'], elsewhere('alice', k), k);
        }
      },
    },
    {
      title: "bob's basket is his own, on every worker",
      async run(ctx) {
        await addItem(ctx, 'bob', 'soap', ctx.workerAt(3));
        for (let k = 1; k <= ctx.workers; k++) {
          await expectBasket(ctx, 'bob', ['soap'], elsewhere('bob', k), k);
        }
        await expectBasket(ctx, 'alice', ['tea', 'milk', 'bread'], elsewhere('alice', 1), ctx.workerAt(1));
      },
    },
    {
      title: 'baskets survive a reload of every worker',
      reloads: true,
      skip: (ctx) => (ctx.workers === 1 ? 'one worker: this run checks only what a single process sees' : undefined),
      async run(ctx) {
        await ctx.reload();
        for (let k = 1; k <= ctx.workers; k++) {
          await expectBasket(ctx, 'alice', ['tea', 'milk', 'bread'], () => 'A reload starts every worker afresh: whatever lived in process memory is gone. Keep the items in the database.', k);
          await expectBasket(ctx, 'bob', ['soap'], () => 'A reload starts every worker afresh: keep the items in the database.', k);
        }
      },
    },
  ],
};

export default lesson;
