// The stock team's script, and lesson 5's steps about it: it writes to the shop's database itself,
// not through the app, so no worker runs any code when it changes the shelf. Each change is one
// transaction, as a careful script writes it.
import Database from 'better-sqlite3';
import type { CheckContext, CheckStep } from '../types.ts';
import { drawProducts, otherPrice, withLettersSwapped, type Product } from '../products.ts';
import { everyWorkerShows, productsInDatabase, where } from './prices.ts';

/** Run `change` on the shop's database in one transaction, as the stock team's script does. */
function inDatabase<T>(ctx: CheckContext, change: (db: Database.Database) => T): T {
  const db = new Database(ctx.env.SHOP_DB!, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.transaction(() => change(db)).immediate();
  } finally {
    db.close();
  }
}

/** Change one price. */
export function changePriceInDatabase(ctx: CheckContext, id: number, price: number): void {
  inDatabase(ctx, (db) => db.prepare('UPDATE products SET price = ? WHERE id = ?').run(price, id));
}

/**
 * Swap the prices of two products of `shelf` that cost different amounts (drawn from the seed),
 * as a script correcting two prices typed the wrong way round: the number of products and the
 * total of their prices stay as they were. Returns the two products as they were before.
 */
export function swapPricesInDatabase(ctx: CheckContext, shelf: readonly Product[]): readonly [Product, Product] {
  const pairs = shelf.flatMap((a, i) => shelf.slice(i + 1).filter((b) => b.price !== a.price).map((b) => [a, b] as const));
  const [a, b] = pairs.length > 0 ? pairs[Math.floor(ctx.random() * pairs.length)]! : ([shelf[0]!, shelf[1]!] as const);
  // Every price the same (possible, never seen): one goes up and the other down by as much.
  const [priceA, priceB] = a.price !== b.price ? [b.price, a.price] : [a.price + 20, b.price - 20];
  inDatabase(ctx, (db) => {
    const update = db.prepare('UPDATE products SET price = ? WHERE id = ?');
    update.run(priceA, a.id);
    update.run(priceB, b.id);
  });
  return [a, b];
}

/** Add a product the shelf does not have yet, with the id the database gives it. */
export function addProductInDatabase(ctx: CheckContext, shelf: readonly Product[]): Product {
  const fresh = drawProducts(ctx.random, 8).filter((p) => !shelf.some((s) => s.name.includes(p.name) || p.name.includes(s.name)));
  const { name, price } = fresh[0] ?? { name: 'Ginger beer', price: 249 };
  const id = inDatabase(ctx, (db) => Number(db.prepare('INSERT INTO products (name, price) VALUES (?, ?)').run(name, price).lastInsertRowid));
  return { id, name, price };
}

/** What a product is renamed to: its name with a word in front, drawn from the seed. */
const RENAMES = ['Organic', 'Fairtrade', 'Local', 'Family-size', 'Fresh'];

/** Rename one product of `shelf` (its price stays); returns it as it is now. */
export function renameProductInDatabase(ctx: CheckContext, shelf: readonly Product[]): Product {
  const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
  const name = `${RENAMES[Math.floor(ctx.random() * RENAMES.length)]!} ${product.name}`;
  inDatabase(ctx, (db) => db.prepare('UPDATE products SET name = ? WHERE id = ?').run(name, product.id));
  return { ...product, name };
}

/** Retype one product's name with two letters swapped, a name of the same length; returns it as it is now. */
export function misspellProductInDatabase(ctx: CheckContext, shelf: readonly Product[]): Product {
  const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
  const name = withLettersSwapped(ctx.random, product.name);
  inDatabase(ctx, (db) => db.prepare('UPDATE products SET name = ? WHERE id = ?').run(name, product.id));
  return { ...product, name };
}

/**
 * Move the prices of three products of `shelf` (at least three, drawn from the seed) in one
 * transaction, so that the number of products, the total of the prices and the sum of id × price
 * all stay as they were: product a moves by k·(b − c) cents, b by k·(c − a), c by k·(a − b), for
 * their ids a, b, c. (Two prices cannot keep both sums: the second would have to move by as much
 * as the first, and by as much times the ratio of their ids.) Returns the three as they were.
 */
export function movePricesInDatabase(ctx: CheckContext, shelf: readonly Product[]): readonly Product[] {
  const picked = [...shelf];
  while (picked.length > 3) picked.splice(Math.floor(ctx.random() * picked.length), 1);
  const [a, b, c] = picked as [Product, Product, Product];
  const moves = [b.id - c.id, c.id - a.id, a.id - b.id];
  const size = 1 + Math.floor(ctx.random() * 5);
  const sign = ctx.random() < 0.5 ? 1 : -1;
  // The largest step drawn that keeps every price at 0.50 or more; one cent always does, one way or the other.
  const ks = [...Array.from({ length: size }, (_, i) => sign * (size - i)), -sign];
  const k = ks.find((k) => picked.every((p, i) => p.price + k * moves[i]! >= 50)) ?? 0;
  inDatabase(ctx, (db) => {
    const update = db.prepare('UPDATE products SET price = price + ? WHERE id = ?');
    picked.forEach((p, i) => update.run(k * moves[i]!, p.id));
  });
  return picked;
}

/** Delete one product of `shelf`, drawn from the seed; returns it. */
export function deleteProductInDatabase(ctx: CheckContext, shelf: readonly Product[]): Product {
  const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
  inDatabase(ctx, (db) => db.prepare('DELETE FROM products WHERE id = ?').run(product.id));
  return product;
}

const severalWorkers = (ctx: CheckContext) =>
  ctx.workers < 2
    ? 'with one worker the check stops at edits made through the app; an edit made in the database itself would leave a copy stale on a laptop too (lesson 1), and the run with several workers checks it'
    : undefined;

/** The steps where the stock team changes the shelf in the database itself. */
export const stockTeamSteps: readonly CheckStep[] = [
  {
    title: 'The stock team changes a price in the database itself: every worker shows it at once',
    skip: severalWorkers,
    async run(ctx) {
      const shelf = productsInDatabase(ctx);
      const product = shelf[Math.floor(ctx.random() * shelf.length)]!;
      const price = otherPrice(ctx.random, product.price);
      changePriceInDatabase(ctx, product.id, price);
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} still shows the old price of ${product.name}, changed in the database by a program that is not the app. No worker ran any code for this change: a copy checked against something only the app moves (a version the app bumps in its own handler, a note from the worker that made the change) never hears of it. Whatever tells a worker its copy is old must move with every change of the data, wherever it comes from.`,
      );
    },
  },
  {
    title: 'The stock team swaps two prices in the database: every worker shows both at once',
    skip: severalWorkers,
    async run(ctx) {
      const [a, b] = swapPricesInDatabase(ctx, productsInDatabase(ctx));
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} still shows the old prices of ${a.name} and ${b.name}, which the stock team swapped in the database. The shop has as many products as before and its prices add up to the same total: a copy checked against a summary of the data (how many rows, the sum of the prices, the largest id) misses every change that leaves the summary as it was. Check the copy against a version that every change moves (a trigger on the products table), or read the prices on every request.`,
      );
    },
  },
  {
    title: 'The stock team adds a product and renames another in the database: every worker lists them at once',
    skip: severalWorkers,
    async run(ctx) {
      const added = addProductInDatabase(ctx, productsInDatabase(ctx));
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} does not list ${added.name}, which the stock team added to the database: the worker still answers from a copy made before. A new row must tell every worker that its copy is old, as a new price does: whatever moves the version must move on INSERT and DELETE in the products table too (a trigger for each), not only when a price changes.`,
        [added.id],
      );
      const shelf = productsInDatabase(ctx).filter((p) => p.id !== added.id);
      const renamed = renameProductInDatabase(ctx, shelf);
      const old = shelf.find((p) => p.id === renamed.id)!;
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} still lists product ${renamed.id} as ${old.name}, which the stock team renamed ${renamed.name} in the database. The list is names as well as prices: a version moved only when a price changes (a trigger AFTER UPDATE OF price) misses it. Move the version on every UPDATE of the products table, whatever column it changes.`,
        [renamed.id],
      );
    },
  },
  {
    title: 'The stock team retypes a name, moves three prices at once and deletes a product in the database: every worker shows each at once',
    skip: severalWorkers,
    async run(ctx) {
      // Edits that leave every summary of the table as it was (its rows, its totals, the length of
      // its names), then one that removes a row.
      const before = productsInDatabase(ctx);
      const renamed = misspellProductInDatabase(ctx, before);
      const old = before.find((p) => p.id === renamed.id)!;
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} still lists product ${renamed.id} as ${old.name}, which the stock team retyped as ${renamed.name} in the database. The new name has as many letters as the old one: the number of products, the totals of the table and the length of its names are what they were, so a copy checked against a summary (a count, a sum, a checksum) misses the change. Check the copy against a version that every change moves (a trigger on the products table), or read the prices on every request.`,
        [renamed.id],
      );
      const moved = movePricesInDatabase(ctx, productsInDatabase(ctx));
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} still shows an old price of ${moved.map((p) => p.name).join(', ').replace(/, (?=[^,]*$)/, ' or ')}, which the stock team moved in one transaction. The shop has as many products as before, the same total of prices and the same sum of id × price: however many sums a checksum of the table adds up, some change leaves them all as they were. Check the copy against a version that every change moves (a trigger on the products table, or PRAGMA data_version), or read the prices on every request.`,
      );
      const gone = deleteProductInDatabase(ctx, productsInDatabase(ctx));
      await everyWorkerShows(ctx, productsInDatabase(ctx), Math.floor(ctx.random() * ctx.workers), (stale) =>
        `${where(stale)} still lists ${gone.name}, which the stock team deleted from the database: customers can still order what the shop no longer sells. A removed row must tell every worker its copy is old, as a new or changed one does: whatever moves the version must move on DELETE in the products table too (a trigger for DELETE as for INSERT and UPDATE).`,
        [],
        [gone],
      );
    },
  },
];
