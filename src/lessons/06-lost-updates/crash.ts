// A purchase cut off halfway, as on a real host: the worker serving it is killed (a deploy, a
// crash, an out-of-memory kill) while the buyer's payment waits for the card provider, and the
// host starts a fresh worker in its place while the others go on serving. The check waits for
// the event itself, the provider's 'pending' charge in its ledger (the payment waits on the
// workers' manual clock, so it stays there): first erin on her worker, then one buyer on each
// other worker; then it kills her worker, lets the others' payments be answered, and reads the books:
// every teapot that left the shelf has an order (paid, or still reserved) or a reservation of
// the app's own written with it (naming the buyer and the payment's key), every charge can be
// found again, and every charge the others paid is on an order of theirs (a worker that starts
// must not cancel purchases the others are still charging).
import Database from 'better-sqlite3';
import { fail } from '../../check/expect.ts';
import type { CheckContext } from '../types.ts';
import { answeredWithin, inFlight, type InFlight } from '../waiting.ts';
import { books, everyWorkerReports, expectBooks, expectVerdicts, outcome, plural, PRODUCT, readBooks, teapotsLeft } from './books.ts';
import type { Bought, Buyer } from './rush.ts';

/** The buyer whose worker dies (the step's title names her). */
export const CRASHED_BUYER = 'erin';

/** How long a purchase may take to reach the payment or answer: a bound for an app that does neither, not a verdict's timing. */
const REACH_PAYMENT_MS = 10_000;
const POLL_MS = 5;

/** A row of one of the app's own tables, its values as text. */
interface Row {
  readonly id: string;
  readonly rowid: number | null;
  readonly values: readonly string[];
}

interface Ledger {
  readonly left: number;
  readonly orders: readonly { id: number; buyer: string; charge: number | null }[];
  readonly charges: readonly { id: number; buyer: string; status: string; key: string | null }[];
  /** Every value written anywhere in the shop's database, as text: where a kept key would be. */
  readonly written: ReadonlySet<string>;
  /** Every row of the app's own tables (not the stock or the orders). */
  readonly rows: readonly Row[];
}

export function read(ctx: CheckContext): Ledger {
  return readBooks(ctx, (shop, ledger) => ({
    left: teapotsLeft(shop),
    orders: shop.prepare('SELECT id, buyer, charge FROM orders WHERE product = ? ORDER BY id').all(PRODUCT) as Ledger['orders'],
    charges: ledger.prepare('SELECT id, buyer, status, idempotency_key AS key FROM charges ORDER BY id').all() as Ledger['charges'],
    written: everyValue(shop),
    rows: ownRows(shop),
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

/** Every row of the app's own tables in `db` (all but the stock and the orders). */
function ownRows(db: Database.Database): Row[] {
  const rows: Row[] = [];
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('stock', 'orders')").pluck().all() as string[];
  for (const table of tables) {
    const quoted = `"${table.replaceAll('"', '""')}"`;
    let raw: unknown[][];
    let withRowid = true;
    try {
      raw = db.prepare(`SELECT rowid, * FROM ${quoted}`).raw().all() as unknown[][];
    } catch {
      // A WITHOUT ROWID table.
      withRowid = false;
      raw = db.prepare(`SELECT * FROM ${quoted}`).raw().all() as unknown[][];
    }
    for (const row of raw) {
      const values = (withRowid ? row.slice(1) : row).map((v) => (v === null || typeof v === 'object' ? '' : String(v)));
      rows.push({ id: `${table}\u0000${JSON.stringify(row)}`, rowid: withRowid ? Number(row[0]) : null, values });
    }
  }
  return rows;
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


/** The worker each run killed and started again (the crash step's), for the steps after it. */
const restarted = new WeakMap<CheckContext, number>();

/** The worker the crash step killed and started again, if it did. */
export const restartedWorker = (ctx: CheckContext): number | undefined => restarted.get(ctx);

/** More than the provider's latency in the app (200 ms): every payment waiting is answered. */
const PAYMENT_STEP_MS = 1000;
/** At most this many moves of the clock for payments to be answered: a bound for an app that never answers. */
const PAYMENT_MOVES = 20;

/** A purchase sent, by the page's form or the API, not yet answered. */
export async function send(ctx: CheckContext, buyer: Buyer): Promise<InFlight> {
  const visitor = ctx.visitor(buyer.name, { kind: buyer.via === 'form' ? 'browser' : 'api' });
  if (buyer.via === 'form') {
    const page = await visitor.page('/', { worker: buyer.worker });
    return inFlight(visitor.fillIn(page, { buyer: buyer.name }, { worker: buyer.worker }));
  }
  return inFlight(visitor.post('/api/buy', { buyer: buyer.name }, { worker: buyer.worker }));
}

/**
 * Wait until `buyer`'s card is being charged (a charge of hers in the provider's ledger since
 * `lastCharge`): true; or her purchase answered first, or `stop()` says to: false.
 */
export async function untilPaying(ctx: CheckContext, buyer: Buyer, request: InFlight, lastCharge: number, stop: () => boolean = () => false): Promise<boolean> {
  const ledger = new Database(ctx.env.PAYMENTS_DB, { readonly: true });
  const charged = ledger.prepare('SELECT count(*) FROM charges WHERE id > ? AND buyer = ?').pluck();
  try {
    const since = performance.now();
    for (;;) {
      if (Number(charged.get(lastCharge, buyer.name)) > 0) return true;
      if (request.answered() || stop()) return false;
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
}

export interface Purchase {
  readonly buyer: Buyer;
  readonly request: InFlight;
}

/** Move the clock until every purchase is answered (or the bound is reached: their answers then say so). */
export async function payAll(ctx: CheckContext, purchases: readonly Purchase[]): Promise<Bought[]> {
  const requests = purchases.map((p) => p.request);
  for (let moves = 0; moves < PAYMENT_MOVES && requests.some((r) => !r.answered()); moves++) {
    await ctx.advanceClock(PAYMENT_STEP_MS);
    await answeredWithin(requests, 100);
  }
  return Promise.all(purchases.map(async (p) => ({ reply: await p.request.reply, via: p.buyer.via })));
}

/**
 * Rows of the app's own tables (not the stock, not the orders) that appeared since `before` and
 * were already there in `paying` (written before the payment, so with the teapot), naming
 * charge `c`'s buyer and its key (the key itself, or a key that names the row's id): a
 * reservation the shop can find the charge from, as it can from an order reserved unpaid.
 */
function reservationOf(c: Ledger['charges'][number], before: Ledger, paying: Ledger, now: Ledger): Row | undefined {
  if (c.key === null) return undefined;
  const old = new Set(before.rows.map((r) => r.id));
  const kept = new Set(paying.rows.map((r) => r.id));
  return now.rows.find(
    (r) => !old.has(r.id) && kept.has(r.id) && r.values.includes(c.buyer) && (r.values.includes(c.key!) || (r.rowid !== null && names(c.key, r.rowid))),
  );
}

/**
 * `buyer` buys a teapot on her worker, and the worker is killed while her card is being charged;
 * meanwhile one buyer on each other worker is being charged too (`others`, already paying when
 * she comes), and their purchases go on while her worker is started again.
 */
export async function buyThroughACrash(ctx: CheckContext, buyer: Buyer, others: readonly Buyer[]): Promise<void> {
  const before = read(ctx);
  const shopBefore = books(ctx);
  const lastCharge = before.charges.at(-1)?.id ?? 0;
  const lastOrder = before.orders.at(-1)?.id ?? 0;

  // Her purchase first, until the provider is charging her card; then the others', each until
  // the provider is charging theirs (the host's wall-clock limit on a request runs from here,
  // so theirs start as late as they can).
  const hers: Purchase = { buyer, request: await send(ctx, buyer) };
  const paid = await untilPaying(ctx, buyer, hers.request, lastCharge);
  const theirs: Purchase[] = [];
  for (const other of others) {
    const request = await send(ctx, other);
    theirs.push({ buyer: other, request });
    await untilPaying(ctx, other, request, lastCharge);
  }
  if (!paid) {
    // Hers answered without charging her: judged as any purchase is.
    const bought = await payAll(ctx, [hers, ...theirs]);
    expectVerdicts(bought, ctx.track);
    expectBooks(ctx, shopBefore, bought, bought.length);
    return;
  }

  // Her card is being charged, and the worker serving her dies: she gets the host's 502. The
  // host starts a fresh worker in its place while the other workers go on serving.
  const paying = read(ctx);
  await ctx.crash(buyer.worker);
  restarted.set(ctx, buyer.worker);
  await hers.request.reply;
  const bought = await payAll(ctx, theirs);
  expectVerdicts(bought, ctx.track);

  const now = read(ctx);
  const newOrders = now.orders.filter((o) => o.id > lastOrder);
  const newCharges = now.charges.filter((c) => c.id > lastCharge);

  // Every charge the provider took on the other workers meanwhile paid an order of its buyer's.
  const orphans = newCharges.filter((c) => c.status === 'paid' && !newOrders.some((o) => o.charge === c.id && o.buyer === c.buyer));
  if (orphans.length) {
    const who = [...new Set(orphans.map((c) => c.buyer))].sort().join(', ');
    const gone = before.left - now.left;
    const back = gone < newOrders.length + orphans.length;
    fail({
      expected: `an order for each buyer whose card was charged while worker ${buyer.worker} was started again (${others.map((o) => o.name).join(', ')}), paid by that charge`,
      got: `${plural(orphans.length, 'paid charge')} (${who}) on no order, and ${plural(gone, 'teapot')} gone from the shelf for ${plural(newOrders.length, 'order')}`,
      diagnosis: `While worker ${buyer.worker} was being started again, the other workers were charging cards for purchases they had reserved: ${who} ${orphans.length === 1 ? 'was' : 'were'} charged${bought.some((b) => outcome(b) === 'bought') ? ' and told they bought' : ''}, but the order is gone${back ? ' and the teapot back on sale' : ''}. On a real host workers start one at a time while the others serve (a crash and its restart, a reload, one container replaced): a worker that starts must not take every reserved order for one a crash left behind, or it cancels purchases still being paid. Leave reserved orders alone when a worker starts; only something that asks the provider with the order's key (once its payment is long overdue) can tell a dead purchase from one in progress.`,
    });
  }

  // Every teapot that left the shelf has an order, or a reservation written with it that names
  // the buyer and her payment's key.
  const reserved = newCharges.filter((c) => c.status !== 'paid' && !newOrders.some((o) => o.charge === c.id)).map((c) => reservationOf(c, before, paying, now)).filter((r) => r !== undefined);
  const gone = before.left - now.left;
  if (gone !== newOrders.length + reserved.length) {
    fail({
      expected: `as many orders as teapots that left the shelf (paid, or reserved and still unpaid), after worker ${buyer.worker} was killed while ${buyer.name}'s card was being charged`,
      got: `${plural(gone, 'teapot')} gone from the shelf, ${plural(newOrders.length, 'order')} recorded${reserved.length ? ` and ${plural(reserved.length, 'reservation')}` : ''}`,
      diagnosis:
        gone > newOrders.length + reserved.length
          ? `A worker can be killed in the middle of a purchase (a deploy, a crash, an out-of-memory kill${ctx.track === 'flask' ? ", gunicorn's --timeout" : ''}), and this one was killed while it waited for the card provider: the teapot was already off the shelf, its order not yet written, so nobody will ever ship it or put it back. Take the teapot and insert its order (its charge still empty) together, in one ${ctx.track === 'flask' ? 'transaction that starts with `BEGIN IMMEDIATE`' : 'immediate transaction (`db.transaction(...).immediate()`)'}, before the payment; then charge with the order as the idempotency key, then write the charge on the order.`
          : 'An order was recorded without a teapot leaving the shelf: take the teapot and record its order together, in one transaction, before the payment.',
    });
  }
  const lost = newCharges.filter(
    // Found again: its id written on an order, its key naming an order, its key kept in the
    // books, or a reservation naming it.
    (c) =>
      !now.orders.some((o) => o.charge === c.id) &&
      !newOrders.some((o) => names(c.key, o.id)) &&
      !(c.key !== null && now.written.has(c.key)) &&
      !reservationOf(c, before, paying, now),
  );
  if (lost.length) {
    const unpaid = newOrders.filter((o) => o.charge === null);
    const keys = lost.map((c) => (c.key === null ? 'no key' : `key "${c.key}"`)).join(', ');
    fail({
      expected: `every charge of ${buyer.name}'s to be found again from the shop's books: written on an order, or asked with an idempotency key that names her order`,
      got: `${plural(lost.length, 'charge')} (${keys}) that no order names, and ${unpaid.length ? `${plural(unpaid.length, 'reserved order')} with no charge on ${unpaid.length === 1 ? 'it' : 'them'}` : 'no order for it'}`,
      diagnosis: unpaid.length
        ? `The worker died while the card provider was charging ${buyer.name}'s card. Her order is reserved, but nothing leads from it to that charge: charging the order again (a retry after the crash) would charge her card twice. Ask for the payment with the order as its idempotency key (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}): a retry with the same key finds the charge, and the provider charges once.`
        : `The worker died while the card provider was charging ${buyer.name}'s card, and no order was written before the payment: her card is charged, and the shop has nothing to ship or refund it by. Reserve the order (with the teapot) before the payment, then charge with the order as the idempotency key (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}).`,
    });
  }
  // The others' purchases went through as any purchase does: each told "bought" has an order
  // paid by a charge of their own.
  const short = bought.filter((b) => {
    if (outcome(b) !== 'bought') return false;
    const name = b.reply.visitor;
    return !newOrders.some((o) => o.buyer === name && o.charge !== null && newCharges.some((c) => c.id === o.charge && c.buyer === name && c.status === 'paid'));
  });
  if (short.length) {
    fail({
      expected: `an order paid by a charge of their own for each buyer told they bought while worker ${buyer.worker} was started again`,
      got: `none for ${short.map((b) => b.reply.visitor).join(', ')}`,
      diagnosis: `Every order must be paid, and say which charge paid it: keep the \`${ctx.track === 'flask' ? 'charge(...)' : 'await charge(...)'}\` call, and write the charge's id on the order once the provider has answered.`,
    });
  }
  // The fresh worker and the others go on from the same books.
  await everyWorkerReports(ctx, now.left, now.orders.length);
}
