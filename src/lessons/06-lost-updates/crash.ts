// A purchase cut off halfway, as on a real host: the worker serving it is killed (a deploy, a
// crash, an out-of-memory kill) while the buyer's payment waits for the card provider. The
// check waits for the event itself, the provider's 'pending' charge in its ledger (the payment
// waits on the workers' manual clock, so it stays there), then kills that worker and reads the
// books: every teapot that left the shelf has an order (paid or still reserved), and every
// charge can be found again, written on an order or asked with a key that names one.
import Database from 'better-sqlite3';
import { fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext } from '../types.ts';
import { books, everyWorkerReports, expectBooks, expectVerdicts, plural, PRODUCT, readBooks, teapotsLeft } from './books.ts';
import type { Buyer } from './rush.ts';

/** The buyer whose worker dies (the step's title names her). */
export const CRASHED_BUYER = 'erin';

/** How long a purchase may take to reach the payment or answer: a bound for an app that does neither, not a verdict's timing. */
const REACH_PAYMENT_MS = 10_000;
const POLL_MS = 5;

interface Ledger {
  readonly left: number;
  readonly orders: readonly { id: number; buyer: string; charge: number | null }[];
  readonly charges: readonly { id: number; buyer: string; status: string; key: string | null }[];
  /** Every value written anywhere in the shop's database, as text: where a kept key would be. */
  readonly written: ReadonlySet<string>;
}

function read(ctx: CheckContext): Ledger {
  return readBooks(ctx, (shop, ledger) => ({
    left: teapotsLeft(shop),
    orders: shop.prepare('SELECT id, buyer, charge FROM orders WHERE product = ? ORDER BY id').all(PRODUCT) as Ledger['orders'],
    charges: ledger.prepare('SELECT id, buyer, status, idempotency_key AS key FROM charges ORDER BY id').all() as Ledger['charges'],
    written: everyValue(shop),
  }));
}

/** Every value of every table of `db`, as text. */
function everyValue(db: Database.Database): Set<string> {
  const values = new Set<string>();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  for (const table of tables) {
    for (const row of db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`).raw().all() as unknown[][]) {
      for (const value of row) if (value !== null && typeof value !== 'object') values.add(String(value));
    }
  }
  return values;
}

/** A delivery: the shop puts `count` teapots on the shelf, as its stock import does. */
export function restock(ctx: CheckContext, count: number): void {
  const shop = new Database(ctx.env.SHOP_DB, { timeout: 10_000 });
  try {
    shop.prepare('UPDATE stock SET qty = qty + ? WHERE id = ?').run(count, PRODUCT);
  } finally {
    shop.close();
  }
}

/**
 * Does `key` name order `id`? A part of the key, between separators, that is the order's number
 * (`order-17`, `order_17`, `17`, `order17`): a retry of that order can rebuild the key and find
 * the charge. A random key or the buyer's name names no order.
 */
function names(key: string | null, id: number): boolean {
  if (key === null) return false;
  return key.split(/[^A-Za-z0-9]+/).some((part) => /^[A-Za-z]*(\d+)$/.exec(part)?.[1] === String(id));
}

/** `buyer` buys a teapot on her worker, and the worker is killed while her card is being charged. */
export async function buyThroughACrash(ctx: CheckContext, buyer: Buyer): Promise<void> {
  const before = read(ctx);
  const shopBefore = books(ctx);
  const lastCharge = before.charges.at(-1)?.id ?? 0;
  const lastOrder = before.orders.at(-1)?.id ?? 0;
  const visitor = ctx.visitor(buyer.name, { kind: buyer.via === 'form' ? 'browser' : 'api' });
  const page = buyer.via === 'form' ? await visitor.page('/', { worker: buyer.worker }) : undefined;

  const ledger = new Database(ctx.env.PAYMENTS_DB, { readonly: true });
  const newCharge = ledger.prepare('SELECT count(*) FROM charges WHERE id > ?').pluck();
  let answer: Reply | undefined;
  const buying = (page ? visitor.fillIn(page, { buyer: buyer.name }, { worker: buyer.worker }) : visitor.post('/api/buy', { buyer: buyer.name }, { worker: buyer.worker })).then(
    (reply) => (answer = reply),
  );
  let paying = false;
  try {
    const since = performance.now();
    while (!answer && !(paying = Number(newCharge.get(lastCharge)) > 0)) {
      if (performance.now() - since > REACH_PAYMENT_MS) {
        fail({
          expected: `${buyer.name}'s purchase to reach the card provider, or to answer`,
          got: `neither, after ${REACH_PAYMENT_MS / 1000} s`,
          diagnosis: 'The purchase neither charged the card nor answered: it waits for something that never comes (a lock that is never released? a transaction another request left open?).',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    ledger.close();
  }
  if (!paying) {
    // It answered without charging anyone: judged as any purchase is.
    const bought = { reply: await buying, via: buyer.via };
    expectVerdicts([bought], ctx.track);
    expectBooks(ctx, shopBefore, [bought], 1);
    return;
  }

  // Her card is being charged, and the worker serving her dies: she gets the host's 502.
  await ctx.crash(buyer.worker);
  await buying;

  const now = read(ctx);
  const newOrders = now.orders.filter((o) => o.id > lastOrder);
  const gone = before.left - now.left;
  if (gone !== newOrders.length) {
    fail({
      expected: `as many orders as teapots that left the shelf (paid, or reserved and still unpaid), after worker ${buyer.worker} was killed while ${buyer.name}'s card was being charged`,
      got: `${plural(gone, 'teapot')} gone from the shelf, ${plural(newOrders.length, 'order')} recorded`,
      diagnosis:
        gone > newOrders.length
          ? `A worker can be killed in the middle of a purchase (a deploy, a crash, an out-of-memory kill${ctx.track === 'flask' ? ', gunicorn\'s --timeout' : ''}), and this one was killed while it waited for the card provider: the teapot was already off the shelf, its order not yet written, so nobody will ever ship it or put it back. Take the teapot and insert its order (its charge still empty) together, in one ${ctx.track === 'flask' ? 'transaction that starts with `BEGIN IMMEDIATE`' : 'immediate transaction (`db.transaction(...).immediate()`)'}, before the payment; then charge with the order as the idempotency key, then write the charge on the order.`
          : 'An order was recorded without a teapot leaving the shelf: take the teapot and record its order together, in one transaction, before the payment.',
    });
  }
  const lost = now.charges.filter(
    // Found again: its id written on an order, its key naming an order, or its key kept in the books.
    (c) => c.id > lastCharge && !now.orders.some((o) => o.charge === c.id) && !newOrders.some((o) => names(c.key, o.id)) && !(c.key !== null && now.written.has(c.key)),
  );
  if (lost.length) {
    const reserved = newOrders.filter((o) => o.charge === null);
    const keys = lost.map((c) => (c.key === null ? 'no key' : `key "${c.key}"`)).join(', ');
    fail({
      expected: `every charge of ${buyer.name}'s to be found again from the shop's books: written on an order, or asked with an idempotency key that names her order`,
      got: `${plural(lost.length, 'charge')} (${keys}) that no order names, and ${reserved.length ? `${plural(reserved.length, 'reserved order')} with no charge on ${reserved.length === 1 ? 'it' : 'them'}` : 'no order for it'}`,
      diagnosis: reserved.length
        ? `The worker died while the card provider was charging ${buyer.name}'s card. Her order is reserved, but nothing leads from it to that charge: charging the order again (a retry after the crash) would charge her card twice. Ask for the payment with the order as its idempotency key (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}): a retry with the same key finds the charge, and the provider charges once.`
        : `The worker died while the card provider was charging ${buyer.name}'s card, and no order was written before the payment: her card is charged, and the shop has nothing to ship or refund it by. Reserve the order (with the teapot) before the payment, then charge with the order as the idempotency key (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}).`,
    });
  }
  // The fresh worker and the others go on from the same books.
  await everyWorkerReports(ctx, now.left, now.orders.length);
}
