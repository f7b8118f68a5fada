// The capstone's purchase cut off between two commits: the worker serving it is killed (an
// out-of-memory kill, a lost machine, gunicorn's --timeout) just after the purchase has committed
// one write and before its next write begins a transaction of its own (ctx.killBetweenCommits),
// on one purchase after another, each at the next gap between its commits.
// Whatever it committed stays: an item taken off the shelf in one commit and its order written
// in another is then an item gone with no order. A purchase that takes the item and records its
// order in one transaction is not cut off there.
import { fail } from '../../check/expect.ts';
import type { CheckContext, CheckStep } from '../types.ts';
import { settle } from '../waiting.ts';
import { someWorker } from '../draws.ts';
import { signIn } from './prices.ts';
import { lastOrderId, ordersSince, shopOf, withDb } from './shop.ts';
import { Reservations } from '../reservations.ts';

/** Rows of the app's own tables (not the shop's products, customers or orders) that name `customer`. */
function rowsNaming(ctx: CheckContext, customer: string): Set<string> {
  return withDb(ctx, (db) => {
    const rows = new Set<string>();
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('products', 'customers', 'orders')").pluck().all() as string[];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`).raw().all() as unknown[][]) {
        if (row.some((value) => value === customer)) rows.add(`${table}\u0000${JSON.stringify(row)}`);
      }
    }
    return rows;
  });
}

/** The gaps between commits tried, one purchase each: a charge, the item and the order make three commits at most. */
const MAX_GAPS = 3;

const ordinal = (n: number) => ['first', 'second', 'third'][n - 1] ?? `${n}th`;

export const cutOffStep: CheckStep = {
  title: "A worker killed between two commits of carol's purchase loses nothing: an item gone from the shelf has its order",
  // A worker is started in the killed one's place, booted ahead as the host's spare.
  reloads: true,
  timeoutMs: 30_000,
  async run(ctx) {
    const { products, honey } = shopOf(ctx);
    const shelf = products.filter((p) => p.id !== honey.id);
    const item = shelf[Math.floor(ctx.random() * shelf.length)]!;
    withDb(ctx, (db) => db.prepare('UPDATE products SET stock = ? WHERE id = ?').run(5 + Math.floor(ctx.random() * 5), item.id));
    const worker = someWorker(ctx);
    await signIn(ctx, 'carol', worker);
    const stock = () => withDb(ctx, (db) => db.prepare('SELECT stock FROM products WHERE id = ?').pluck().get(item.id) as number);
    // One purchase after another, each cut off at the next gap between two of its commits (after
    // the first, then after the second...), until a purchase has no gap left there: every gap
    // between its commits is tried, whichever comes first (a charge, the item, the order).
    const reserved = new Reservations();
    for (let gap = 1; gap <= MAX_GAPS; gap++) {
      const [stockBefore, orderBefore, rowsBefore] = [stock(), lastOrderId(ctx), rowsNaming(ctx, 'carol')];
      const point = await ctx.killBetweenCommits(worker, { after: gap });
      try {
        await settle(ctx, worker, () => ctx.visitor('carol').post('/api/buy', { product: item.id }, { worker }));
      } finally {
        await point.disarm();
      }
      if (point.killed) await point.restarted;
      const gone = stockBefore - stock();
      const orders = ordersSince(ctx, orderBefore).filter((o) => o.productId === item.id).length;
      const reservations = reserved.count([...rowsNaming(ctx, 'carol')].filter((row) => !rowsBefore.has(row)), gone === 0);
      if (gone > orders + reservations) {
        fail({
          expected: `an order for every ${item.name} that left the shelf, after worker ${worker} was killed in the middle of carol's purchase (after its ${ordinal(gap)} commit)`,
          got: `${gone} gone from the shelf, ${orders} order${orders === 1 ? '' : 's'} recorded`,
          diagnosis: `A worker can be killed at any line (an out-of-memory kill, a lost machine${ctx.track === 'flask' ? ", gunicorn's --timeout" : ''}), and this one was killed just after the purchase had committed the item taken off the shelf and before it wrote the order: two commits, with a moment between them in which a crash loses the item for good. Take the item and record its order in one transaction (${ctx.track === 'flask' ? '`BEGIN IMMEDIATE` ... `COMMIT`' : "better-sqlite3's `db.transaction(...).immediate()`"}), so that both are written or neither is.`,
        });
      }
      if (!point.killed) return;
    }
  },
};
