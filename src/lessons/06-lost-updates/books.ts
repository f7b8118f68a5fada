// The shop's and the card provider's books, read by the check itself, and what they must say
// after a crowd of buyers: as many orders as teapots that left the shelf, a paid charge for each
// order and for nobody else, and an answer to each buyer that matches.
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import { pageText, type Reply } from '../../check/visitor.ts';
import type { AppTrack, CheckContext } from '../types.ts';
import type { Bought } from './rush.ts';

export const PRODUCT = 'teapot';

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface Order {
  readonly buyer: string;
  /** The provider's charge the order was paid with, or null while it is not (yet) paid. */
  readonly charge: number | null;
}

export interface Shop {
  readonly left: number;
  /** Every order, in order. */
  readonly orders: readonly Order[];
  /** The buyer of each paid charge, by the charge's id. */
  readonly paid: ReadonlyMap<number, string>;
}

/** Read the shop's database and the provider's ledger together, read-only. */
export function readBooks<T>(ctx: CheckContext, read: (shop: Database.Database, ledger: Database.Database) => T): T {
  const shop = new Database(ctx.env.SHOP_DB, { readonly: true });
  const ledger = new Database(ctx.env.PAYMENTS_DB, { readonly: true });
  try {
    return read(shop, ledger);
  } finally {
    shop.close();
    ledger.close();
  }
}

/** How many teapots are left on the shelf. */
export const teapotsLeft = (shop: Database.Database) => shop.prepare('SELECT qty FROM stock WHERE id = ?').pluck().get(PRODUCT) as number;

export function books(ctx: CheckContext): Shop {
  return readBooks(ctx, (shop, ledger) => {
    const paid = ledger.prepare("SELECT id, buyer FROM charges WHERE status = 'paid' ORDER BY id").all() as { id: number; buyer: string }[];
    return {
      left: teapotsLeft(shop),
      orders: shop.prepare('SELECT buyer, charge FROM orders WHERE product = ? ORDER BY id').all(PRODUCT) as Order[],
      paid: new Map(paid.map((c) => [c.id, c.buyer])),
    };
  });
}

const lostUpdates = (track: AppTrack) =>
  `Several buyers read the same stock before any of them wrote, and each then wrote back what it had read minus one: every write undid the ones before it (lost updates). Between a read and its write other purchases run: on the other workers at any moment${track === 'flask' ? ', and on other threads of the same worker where it has threads. A threading.Lock in a module variable' : ', and on the same worker at every await. A lock in a module variable'} guards one worker only. The test "is one left?" and the decrement must be one step that the database does atomically, before the payment.`;

const BELOW_ZERO =
  'The stock went below zero. The decrement itself is atomic, but the test "is one left?" was made apart from it, while other buyers were buying too: by the time of the write it was no longer true. The test must happen inside the write itself, and the app must look at whether the write took a teapot.';

const TURNED_AWAY =
  'Buyers were turned away while teapots were still on the shelf. When two purchases want the same stock at once, one of them must wait for the other or try again, not give up: a buyer who finds the stock changed under them has not found it sold out.';

function errorDiagnosis(reply: Reply, via: Bought['via'], track: AppTrack): string {
  const text = reply.text;
  if (reply.status === 0 || reply.status === 504) {
    return 'The purchase did not answer in time: it waited for something that never came, or came too late: a lock never released, a transaction another request left open, or a lock held while a card is being charged, which makes every other purchase wait for that payment. Hold a lock (or a transaction) only while you take the teapot and write its order, never across the payment.';
  }
  if (/cannot return a promise/i.test(text)) {
    return 'better-sqlite3 runs a transaction synchronously, so a transaction function cannot wait for anything: an async function returns at its first await, and the rest runs outside the transaction. Take the teapot in a transaction (or one conditional update) with no await inside, then take the payment.';
  }
  if (/within a transaction/i.test(text)) {
    return 'A transaction begun before an await is still open when the next request on the same worker begins its own: a connection holds one transaction at a time, and every request on a worker shares it. Never keep a transaction open across an await: take the teapot atomically first, then take the payment.';
  }
  if (/SQLITE_BUSY|database is locked/i.test(text) && track === 'flask') {
    return 'SQLite refused a write: this worker read inside a transaction, another worker wrote in the meantime, and the first could no longer write on what it had read. Python\'s sqlite3 opens a deferred transaction, after your SELECT: a read-then-write transaction must start as a writer (`BEGIN IMMEDIATE`, on a connection with isolation_level=None) and must not wait for the payment inside.';
  }
  if (/SQLITE_BUSY|database is locked/i.test(text)) {
    return 'SQLite refused a write: this worker read inside a transaction, another worker wrote in the meantime, and the first could no longer write on what it had read. A read-then-write transaction must start as a writer (.immediate()) and must not wait for anything inside.';
  }
  if (via === 'form' && reply.status >= 200 && reply.status < 300 && !reply.redirects?.length) {
    return "The page's form posts to /api/buy, and a browser shows whatever comes back: after a purchase from the form, send the buyer back to the shop's page (a 303 redirect to /), as the starter does.";
  }
  return 'The app threw an error while selling a teapot; the error and its line are in the output below.';
}

/** What a buyer was told: an API client gets 201 or 409; a browser that used the form is sent back to the page (303), or gets 409. */
export function outcome(bought: Bought): 'bought' | 'sold out' | undefined {
  const { reply, via } = bought;
  if (via === 'api') return reply.status === 201 ? 'bought' : reply.status === 409 ? 'sold out' : undefined;
  const first = reply.redirects?.[0];
  if (first && first.status >= 301 && first.status <= 303 && reply.status === 200) return 'bought';
  if (!first && reply.status === 409) return 'sold out';
  return undefined;
}

/** Every buyer was told "bought" or "sold out", in the way their route says it. */
export function expectVerdicts(all: readonly Bought[], track: AppTrack = 'node'): void {
  const bad = all.find((b) => outcome(b) === undefined);
  if (!bad) return;
  const { reply, via } = bad;
  const first = reply.redirects?.[0] ?? reply;
  fail({
    expected:
      via === 'api'
        ? `201 (bought) or 409 (sold out) from ${describe(reply)}`
        : `the page's form to send ${reply.visitor} back to the shop's page (303) or answer 409 (sold out), from ${describe(first)}`,
    got: first.status === 0 ? first.body : `status ${first.status}: ${first.body}`,
    diagnosis: errorDiagnosis(first, via, track),
  });
}

/** The books after a crowd: `want` new orders, `want` fewer teapots, a paid charge for each new order and nobody else. */
export function expectBooks(ctx: CheckContext, before: Shop, all: readonly Bought[], want: number, note = ''): void {
  const now = books(ctx);
  const newOrders = now.orders.slice(before.orders.length);
  const left = before.left - want;
  const buyers = new Set(all.map((b) => b.reply.visitor)).size;
  if (newOrders.length !== want || now.left !== left) {
    const gone = before.left - now.left;
    const diagnosis =
      now.left < 0
        ? BELOW_ZERO
        : newOrders.length > gone
          ? lostUpdates(ctx.track)
          : newOrders.length === gone && newOrders.length < want
            ? TURNED_AWAY
            : `The stock and the orders disagree: ${plural(gone, 'teapot')} left the shelf, ${plural(newOrders.length, 'order')} recorded. Take a teapot off the stock and record its order for every buyer who gets one, together.`;
    fail({
      expected: `${plural(want, 'teapot')} sold to ${buyers === 1 ? 'the buyer' : `the ${buyers} buyers`} and ${left} left`,
      got: `${plural(newOrders.length, 'order')}, and the stock says ${now.left} left`,
      diagnosis: note + diagnosis,
    });
  }
  const ordered = newOrders.map((o) => o.buyer);
  const told = all.filter((b) => outcome(b) === 'bought').map((b) => b.reply.visitor);
  if (told.length !== want || told.some((buyer) => !ordered.includes(buyer))) {
    fail({
      expected: `"bought" for each of the ${want} buyers with an order (${[...ordered].sort().join(', ')})`,
      got: `"bought" for ${told.length ? [...told].sort().join(', ') : 'nobody'}`,
      diagnosis: 'Tell exactly the buyers whose order was recorded that they bought one (201, or the page again for the form), and the others that it is sold out (409).',
    });
  }
  const charged = [...now.paid].filter(([id]) => !before.paid.has(id)).map(([, buyer]) => buyer);
  expectChargesOfTheirOwn(ctx, now, newOrders, charged.length);
  const forNothing = charged.filter((buyer) => !ordered.includes(buyer));
  const unpaid = newOrders.filter((o) => o.charge === null || now.paid.get(o.charge) !== o.buyer).map((o) => o.buyer);
  if (forNothing.length || unpaid.length || charged.length !== newOrders.length) {
    fail({
      expected: `one paid charge for each new order (${want}), written on the order, and none for anyone else`,
      got: `${plural(charged.length, 'paid charge')}${forNothing.length ? `, ${forNothing.length} of them for buyers who got no teapot` : ''}${unpaid.length ? `, ${plural(unpaid.length, 'order')} without its paid charge` : ''}`,
      diagnosis: forNothing.length
        ? `${forNothing.length} buyers paid and got nothing. Take the teapot off the stock first (atomically), then charge the card; a buyer who finds none left must not be charged.`
        : `Every order must be paid, and say which charge paid it: keep the \`${ctx.track === 'flask' ? 'charge(...)' : 'await charge(...)'}\` call, and write the charge's id on the order once the provider has answered.`,
    });
  }
}

/**
 * No charge is written on two orders: one buyer may buy twice, even at once on two workers, and
 * each of her orders must still be paid by a charge of its own.
 */
function expectChargesOfTheirOwn(ctx: CheckContext, now: Shop, newOrders: readonly Order[], newCharges: number): void {
  const shared = newOrders.filter((o) => o.charge !== null && now.orders.filter((p) => p.charge === o.charge).length > 1);
  if (!shared.length) return;
  const buyers = [...new Set(shared.map((o) => o.buyer))].sort().join(', ');
  const ids = [...new Set(shared.map((o) => o.charge))].join(', ');
  const fewer = newCharges < newOrders.length;
  // A new order paid by the charge of an order from before these buyers came: with fewer new
  // charges than orders, the provider handed back an earlier payment's charge (its key came round again).
  const earlier = shared.some((o) => now.orders.some((p) => p.charge === o.charge && !newOrders.includes(p)));
  // The orders that share a charge, each with the others on that charge: one buyer's, or several buyers'.
  const strangers = shared.some((o) => now.orders.some((p) => p.charge === o.charge && p.buyer !== o.buyer));
  fail({
    expected: `each order paid by a charge of its own, ${plural(newOrders.length, 'new charge')} for the ${plural(newOrders.length, 'new order')}`,
    got: `${plural(newCharges, 'new charge')}, and orders of ${buyers} that share charge ${ids} with another order`,
    diagnosis: strangers
      ? `Orders of different buyers are paid by one charge: the provider answered a payment with an earlier payment's charge, because both were asked with the same idempotency key, so a buyer got a teapot without being charged. A key must name one payment for ever: make it the order's (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}), a number the database hands out once; not a count kept in a worker's memory (it starts again when the worker restarts, while the worker's name stays), and not the id of a row that is deleted afterwards (SQLite gives a plain INTEGER PRIMARY KEY's largest id again once its row is gone; AUTOINCREMENT never does).`
      : earlier && fewer
        ? `${buyers} bought again, and the provider answered the new payment with the charge of an earlier purchase, already paid, because it was asked with the same idempotency key as that one: a teapot went out without being charged. A key must name one payment for ever, and a key made of what a purchase looks like (the buyer, the teapots left after it, the price, the time) comes round again when the shop looks the same again: a delivery fills the shelf back up, a regular comes back. Make it the order's (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}), a number the database hands out once, or a random id made for that checkout and kept with its order.`
        : fewer
          ? `A buyer who buys twice was charged once for two teapots: the provider answered the second payment with the first one's charge, because both were asked with the same idempotency key. The key says which payment this is, so a retry of it charges once: make it the order's (${ctx.track === 'flask' ? 'f"order-{order}"' : '`order-${order}`'}), never the buyer's, who may buy again, or click twice.`
          : "Each payment made a charge of its own, but one charge was written on two orders and another on none: the charge is written on the buyer's unpaid order, and a buyer who buys twice at once has two. Write each charge on the order it paid, found by the order's id.",
  });
}

/** Every worker's /api/stock and page report `left` teapots and `sold` orders. */
export async function everyWorkerReports(ctx: CheckContext, left: number, sold: number): Promise<void> {
  const clerk = ctx.visitor('dana');
  for (let worker = 1; worker <= ctx.workers; worker++) {
    const reply = await clerk.get('/api/stock', { worker });
    const body = expectJson(reply, 'JSON like {"left": 5, "sold": 1}') as { left?: unknown; sold?: unknown } | null;
    if (body?.left !== left || body?.sold !== sold) {
      fail({
        expected: `{"left": ${left}, "sold": ${sold}} from ${describe(reply)}`,
        got: reply.body,
        diagnosis: 'Report the stock and the number of orders as the database has them, on every worker.',
      });
    }
    const page = await clerk.page('/', { worker });
    const text = page.status === 200 ? (await pageText(page.text)).replace(/^<!doctype html>\s*/i, '') : '';
    const shows = { left: /(-?\d+)\s+left/i.exec(text)?.[1], sold: /(-?\d+)\s+sold/i.exec(text)?.[1] };
    if (Number(shows.left) !== left || Number(shows.sold) !== sold) {
      fail({
        expected: `the shop's page to say "${left} left, ${sold} sold" on ${describe(page)}`,
        got: page.status === 200 ? `"${text.slice(0, 160)}"` : `status ${page.status}: ${page.body}`,
        diagnosis: "The page people buy from must show the stock and the orders as the database has them, on every worker, just as /api/stock does: read them when the page is asked for, not from a copy the worker keeps.",
      });
    }
  }
}
