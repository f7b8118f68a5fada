import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { drawProducts, otherPrice, priceText, seedProducts, withLettersSwapped, type Product } from '../products.ts';
import { editShop, editShopAtOnce, everyWorkerShowsTheShop, shelfOf, SHOP_NAMES, siteOf, writeSite, type Diagnose } from './shop.ts';
import { withinOneTick } from '../file-clock.ts';

const FROZEN: Diagnose = (route, worker) =>
  route === 'page'
    ? `The page at / on worker ${worker} still shows the rows that worker read when it started. Reading per request in the API is not enough: every handler that shows products (the page too) must read them when the request comes.`
    : `Worker ${worker} still answers /api/products with the rows it read when it started: the products are read once, at module level, when the worker imports app.js. Read them inside the handler, on every request, whoever asks.`;

const FIRST_READ: Diagnose = (route, worker) =>
  route === 'page'
    ? `The page at / on worker ${worker} does not show the shop's products and name as the database and settings hold them. Keep the page listing every product with its price (in euros, like 4.50), the shop's name at the top, and names escaped as HTML.`
    : `Worker ${worker}'s /api/products does not answer with the rows and the shop name the database and the settings file hold. Read them from SHOP_DB and SITE_CONFIG, not from values written in the code.`;

const AGED: Diagnose = (route, worker) =>
  `After the shop had been open a week, worker ${worker}'s ${route === 'page' ? 'page at /' : '/api/products'} still shows rows it read before the latest edit. A worker lives for days on a real host: rows kept because the worker is past its first minutes, or for a while, or until a timer fires, are stale right after an edit. Read them on every request.`;

const SAME_TICK: Diagnose = (route, worker) =>
  `Worker ${worker}'s ${route === 'page' ? 'page at /' : '/api/products'} missed an edit made within the same second as the one before it. Does the app trust the database file's time or size to tell whether the rows changed? A file's time ticks in coarse steps and the log file keeps its size, so two edits in one tick look like one. Ask the database: read the rows on every request (or compare SQLite's PRAGMA data_version before trusting a copy).`;

/** The diagnosis for `edit`, an edit that leaves a summary of the products table as it was. */
const SUMMARY_KEPT = (edit: string): Diagnose => (route, worker) =>
  `Worker ${worker}'s ${route === 'page' ? 'page at /' : '/api/products'} does not show ${edit}. The table has as many rows as before, the same largest id and the same total of prices: a worker that reads the rows again only when such a summary of the table moves never sees this edit, and one that kept the rows it read at startup sees no edit at all. Read the rows on every request (or trust a copy only while SQLite's PRAGMA data_version stays the same).`;

const DELETED = (product: Product): Diagnose => (route, worker) =>
  `Worker ${worker}'s ${route === 'page' ? 'page at /' : '/api/products'} still lists ${product.name}, which the stock team deleted from the database: people can still see and order something the shop no longer sells. The worker answers from rows read before the edit; read them on every request.`;

const WEEK_MS = 7 * 24 * 60 * 60_000;

/** The stock team sets one of the products, drawn from the run's seed, to another price. */
function changeAPrice(ctx: CheckContext): void {
  const shelf = shelfOf(ctx);
  const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
  editShop(ctx, 'UPDATE products SET price = ? WHERE id = ?', otherPrice(ctx.random, product.price), product.id);
}

const RELOADED: Diagnose = (route, worker) =>
  `After the reload, worker ${worker}'s ${route === 'page' ? 'page' : '/api/products'} does not show the redeployed settings (or lost the products edited before it). Read the site settings from SITE_CONFIG when the app starts, or on every request: a reload must pick up a redeployed config.`;

const lesson: Lesson = {
  number: 1,
  slug: '01-frozen-at-startup',
  title: 'Frozen at startup',
  track: 'core',
  summary: 'A price changed in the database shows only after a reload.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Look at where `products` is computed. That line runs once per worker, when the worker starts; a request only reads the variable.',
    'Keep the `db.prepare(...)` at module level if you like (a prepared statement is a plan, not data), and call `.all()` inside each handler: the page\'s as well as the API\'s.',
    'A timer that refreshes the list every few seconds is still wrong right after an edit, and the check edits and reads at once. The site settings may stay at module level: they change only with a redeploy, which reloads every worker.',
  ],
  workers: 3,
  mode: 'sequential',
  clock: 'manual',
  brief(json) {
    // The prices first: on a narrow terminal they are what stays visible.
    const { shop, products } = json as { shop: string; products: Product[] };
    return `${products.map((p) => `${p.name} ${(p.price / 100).toFixed(2)}`).join(', ')} (${shop})`;
  },
  playground: [
    {
      key: 'e',
      label: 'edit a price in the database',
      run(env) {
        const db = new Database(env.SHOP_DB);
        try {
          const product = db.prepare('SELECT id, name, price FROM products ORDER BY id LIMIT 1').get() as Product;
          const next = otherPrice(Math.random, product.price);
          db.prepare('UPDATE products SET price = ? WHERE id = ?').run(next, product.id);
          return `The stock team set ${product.name} to ${priceText(next)} in the database. Reload the page a few times: which workers show it?`;
        } finally {
          db.close();
        }
      },
    },
  ],
  seed(dir, random) {
    const file = path.join(dir, 'shop.db');
    seedProducts(file, drawProducts(random, 3 + Math.floor(random() * 2)));
    const config = path.join(dir, 'site.json');
    const shopName = SHOP_NAMES[Math.floor(random() * SHOP_NAMES.length)]!;
    writeFileSync(config, JSON.stringify({ shopName, currency: 'EUR' }, null, 2));
    return { SHOP_DB: file, SITE_CONFIG: config };
  },
  flask: {
    file: 'app.py',
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'Look at where `products` is filled. That line runs once, when the host imports `app.py` before forking its workers; a request only reads the list.',
      'Move the query into a function (say `load_products()`) and call it in each view. Open the `sqlite3` connection inside it, too: a connection made at import would be shared by every forked worker.',
      'A `threading.Timer` or a background thread that refreshes the list every few seconds is still wrong right after an edit, and the check edits and reads at once. The site settings may stay at module level: they change only with a redeploy, which reloads the app.',
    ],
  },
  steps: [
    {
      title: 'Every worker lists the products, on the page and in the API',
      async run(ctx) {
        await everyWorkerShowsTheShop(ctx, FIRST_READ);
      },
    },
    {
      title: 'A price changed in the database shows at once, on every worker',
      async run(ctx) {
        changeAPrice(ctx);
        await everyWorkerShowsTheShop(ctx, FROZEN);
      },
    },
    {
      title: 'A product added to the database shows at once, on every worker',
      async run(ctx) {
        const shelf = shelfOf(ctx);
        const fresh = drawProducts(ctx.random, 8).find((p) => !shelf.some((s) => s.name === p.name))!;
        const id = Math.max(...shelf.map((p) => p.id)) + 1 + Math.floor(ctx.random() * 3);
        editShop(ctx, 'INSERT INTO products (id, name, price) VALUES (?, ?, ?)', id, fresh.name, fresh.price);
        await everyWorkerShowsTheShop(ctx, FROZEN);
      },
    },
    {
      title: 'A product renamed, two prices moved in one edit and a product deleted in the database show at once, on every worker',
      async run(ctx) {
        // Edits that keep a summary of the table as it was: a name retyped with two letters
        // swapped (the same length), then two prices moved by one amount, up and down, in one
        // transaction (the same total). Then a product the shop stops selling.
        const shelf = shelfOf(ctx);
        const renamed = shelf[Math.floor(ctx.random() * shelf.length)]!;
        const name = withLettersSwapped(ctx.random, renamed.name);
        editShop(ctx, 'UPDATE products SET name = ? WHERE id = ?', name, renamed.id);
        await everyWorkerShowsTheShop(ctx, SUMMARY_KEPT(`product ${renamed.id} as the stock team renamed it, "${name}" (it was "${renamed.name}")`));
        const current = shelfOf(ctx);
        const first = Math.floor(ctx.random() * current.length);
        const pair = [current[first]!, current[(first + 1 + Math.floor(ctx.random() * (current.length - 1))) % current.length]!];
        const [cheaper, dearer] = pair.sort((x, y) => x.price - y.price) as [Product, Product];
        const amount = 10 * (1 + Math.floor(ctx.random() * 5));
        editShopAtOnce(ctx, [
          ['UPDATE products SET price = price + ? WHERE id = ?', amount, cheaper.id],
          ['UPDATE products SET price = price - ? WHERE id = ?', amount, dearer.id],
        ]);
        await everyWorkerShowsTheShop(ctx, SUMMARY_KEPT(`the prices of ${cheaper.name} and ${dearer.name}, one up and one down by ${priceText(amount)} in the same edit`));
        const now = shelfOf(ctx);
        const gone = now[Math.floor(ctx.random() * now.length)]!;
        editShop(ctx, 'DELETE FROM products WHERE id = ?', gone.id);
        await everyWorkerShowsTheShop(ctx, DELETED(gone), [gone]);
      },
    },
    {
      title: 'A week later, a price changed in the database still shows at once, on every worker',
      async run(ctx) {
        // A host keeps its workers for days: the shop has been open a week, with people visiting,
        // when the stock team edits the next price.
        await ctx.advanceClock(WEEK_MS);
        await everyWorkerShowsTheShop(ctx, AGED);
        changeAPrice(ctx);
        await everyWorkerShowsTheShop(ctx, AGED);
      },
    },
    {
      title: 'Two edits within one second both show, on every worker',
      async run(ctx) {
        // The stock team sets a price, every worker shows it, and they correct it within the same
        // second. The database's files keep the times of that second (the file clock ticks in
        // whole seconds on many disks) and the log its size (SQLite checkpointed it meanwhile).
        changeAPrice(ctx);
        await withinOneTick(ctx.env.SHOP_DB!, 'products', {
          look: () => everyWorkerShowsTheShop(ctx, SAME_TICK),
          change: () => changeAPrice(ctx),
          then: () => everyWorkerShowsTheShop(ctx, SAME_TICK),
        });
      },
    },
    {
      title: 'A new site name is picked up by a reload, on every worker',
      reloads: true,
      async run(ctx) {
        const site = siteOf(ctx);
        const others = SHOP_NAMES.filter((name) => name !== site.shopName);
        const base = others[Math.floor(ctx.random() * others.length)]!;
        writeSite(ctx, { ...site, shopName: base.includes('&') ? base : `${base} & Deli` });
        await ctx.reload();
        await everyWorkerShowsTheShop(ctx, RELOADED);
      },
    },
  ],
};

export default lesson;
