import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fail } from '../../check/expect.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { readProducts, seedProducts, SEED_PRODUCTS, type Product } from '../products.ts';

const SHOP_SHAPE = '{"shop": "...", "products": [...]}';
const SITE = { shopName: 'Corner Shop', currency: 'EUR' };

const dbPath = (ctx: CheckContext) => ctx.env.SHOP_DB;

function editShop(ctx: CheckContext, sql: string, ...params: unknown[]): void {
  const db = new Database(dbPath(ctx));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}


/** Ask every worker in turn; each must show `want` for the product `id`. */
async function everyWorkerShows(ctx: CheckContext, want: Product, diagnosis: string): Promise<void> {
  for (let worker = 1; worker <= ctx.workers; worker++) {
    const reply = await ctx.visitor('alice').get('/api/products', { worker });
    const { products } = readProducts(reply, SHOP_SHAPE);
    const found = products.find((p) => p.id === want.id);
    if (!found) {
      fail({ expected: `product ${want.id} ("${want.name}") on worker ${worker}`, got: `no such product in ${reply.body}`, diagnosis });
    }
    if (found.price !== want.price || found.name !== want.name) {
      fail({
        expected: `"${want.name}" at ${want.price} on worker ${worker}`,
        got: `"${found.name}" at ${found.price}`,
        diagnosis,
      });
    }
  }
}

const FROZEN =
  'That worker still answers with the rows it read when it started: the products are read once, at module level, when the app module is imported. Read them inside the handler, on every request.';

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
    'Keep the `db.prepare(...)` at module level if you like (a prepared statement is a plan, not data), and call `.all()` inside each handler.',
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
          const { price } = db.prepare('SELECT price FROM products WHERE id = 2').get() as { price: number };
          const next = price === 239 ? 199 : 239;
          db.prepare('UPDATE products SET price = ? WHERE id = 2').run(next);
          return `The stock team set Oat milk to ${(next / 100).toFixed(2)} in the database. Reload the page a few times: which workers show it?`;
        } finally {
          db.close();
        }
      },
    },
  ],
  seed(dir) {
    const file = path.join(dir, 'shop.db');
    seedProducts(file);
    const config = path.join(dir, 'site.json');
    writeFileSync(config, JSON.stringify(SITE, null, 2));
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
      title: 'Every worker lists the products',
      async run(ctx) {
        for (let worker = 1; worker <= ctx.workers; worker++) {
          const reply = await ctx.visitor('alice').get('/api/products', { worker });
          const { body, products } = readProducts(reply, SHOP_SHAPE);
          const shop = body?.shop;
          const names = products.map((p) => `${p.name} ${p.price}`).join(', ');
          const want = SEED_PRODUCTS.map((p) => `${p.name} ${p.price}`).join(', ');
          if (names !== want) fail({ expected: `the products ${want}`, got: names || 'an empty list' });
          if (shop !== SITE.shopName) fail({ expected: `"shop": "${SITE.shopName}"`, got: JSON.stringify(shop) });
        }
      },
    },
    {
      title: 'A price changed in the database shows at once, on every worker',
      async run(ctx) {
        editShop(ctx, 'UPDATE products SET price = ? WHERE id = ?', 199, 2);
        await everyWorkerShows(ctx, { id: 2, name: 'Oat milk', price: 199 }, FROZEN);
      },
    },
    {
      title: 'A product added to the database shows at once, on every worker',
      async run(ctx) {
        editShop(ctx, 'INSERT INTO products (id, name, price) VALUES (?, ?, ?)', 4, 'Honey', 620);
        await everyWorkerShows(ctx, { id: 4, name: 'Honey', price: 620 }, FROZEN);
      },
    },
    {
      title: 'A new site name is picked up by a reload, on every worker',
      reloads: true,
      async run(ctx) {
        writeFileSync(ctx.env.SITE_CONFIG, JSON.stringify({ ...SITE, shopName: 'Corner Shop & Deli' }, null, 2));
        await ctx.reload();
        for (let worker = 1; worker <= ctx.workers; worker++) {
          const reply = await ctx.visitor('alice').get('/api/products', { worker });
          const { body, products } = readProducts(reply, SHOP_SHAPE);
          const shop = body?.shop;
          if (shop !== 'Corner Shop & Deli') {
            fail({
              expected: `"shop": "Corner Shop & Deli" on worker ${worker} after the reload`,
              got: JSON.stringify(shop),
              diagnosis: 'Read the site settings from SITE_CONFIG when the app starts (or on every request): a reload must pick up a redeployed config.',
            });
          }
          if (!products.some((p) => p.id === 4)) {
            fail({ expected: 'the products edited before the reload', got: reply.body });
          }
        }
      },
    },
  ],
};

export default lesson;
