// The card provider's ledger. The course plays the provider: the exercise's chargeCard
// (charge_card) writes each charge it makes to PAYMENTS_DB after its network wait, and the check
// holds the charges of a purchase against the shop's orders: every order paid once, by its own
// customer, at the price the shop lists.
import path from 'node:path';
import Database from 'better-sqlite3';
import { fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { AppTrack, CheckContext } from '../types.ts';
import { euros, type OrderRow, withDb } from './shop.ts';

/** Create the provider's empty ledger in `dir`; returns its path. */
export function writeLedger(dir: string): string {
  const file = path.join(dir, 'payments.db');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE charges (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount INTEGER NOT NULL)');
  } finally {
    db.close();
  }
  return file;
}

interface Charge {
  readonly id: number;
  readonly customer: string;
  readonly amount: number;
}

function readLedger<T>(ctx: CheckContext, use: (db: Database.Database) => T): T {
  const db = new Database(ctx.env.PAYMENTS_DB, { readonly: true });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** The id of the last charge in the ledger (0 when there is none). */
export function lastChargeId(ctx: CheckContext): number {
  return readLedger(ctx, (db) => db.prepare('SELECT coalesce(max(id), 0) FROM charges').pluck().get() as number);
}

const chargesSince = (ctx: CheckContext, afterId: number): Charge[] =>
  readLedger(ctx, (db) => db.prepare('SELECT id, customer, amount FROM charges WHERE id > ? ORDER BY id').all(afterId) as Charge[]);

/** One customer's purchase in a step: what they bought, on which worker, and what they were told. */
export interface Purchase {
  readonly customer: string;
  readonly product: { readonly id: number; readonly name: string };
  readonly worker: number;
  /** The purchase's answer, when the customer may have been turned away (sold out). */
  readonly reply?: Reply;
}

const chargeCard = (track: AppTrack) => (track === 'flask' ? 'charge_card' : 'chargeCard');

/**
 * The charges made since `afterCharge` against the orders placed since `afterOrder`, for these
 * purchases: each order is matched by exactly one charge of its customer, for the price the shop
 * lists for the product now (the price the page shows); a customer with no order was charged
 * nothing, or at most once when told the product sold out (the shop gives that money back, as a
 * shop that charges before it takes the jar does); and nobody else was charged.
 */
export function expectCharges(ctx: CheckContext, purchases: readonly Purchase[], afterOrder: number, afterCharge: number): void {
  const charges = chargesSince(ctx, afterCharge);
  const orders = withDb(ctx, (db) => db.prepare('SELECT id, customer, product_id AS productId, price FROM orders WHERE id > ? ORDER BY id').all(afterOrder) as OrderRow[]);
  const listed = new Map(withDb(ctx, (db) => db.prepare('SELECT id, price FROM products').all() as Array<{ id: number; price: number }>).map((p) => [p.id, p.price]));
  const fn = chargeCard(ctx.track);
  const of = (customer: string) => charges.filter((c) => c.customer === customer);
  const list = (cs: readonly Charge[]) => cs.map((c) => euros(c.amount)).join(' and ');

  // A charge that went to another customer's card first: it also shows as a wrong amount.
  for (const p of purchases) {
    const mine = of(p.customer);
    const ordered = orders.filter((o) => o.customer === p.customer && o.productId === p.product.id);
    if (mine.length >= ordered.length) continue;
    const elsewhere = charges.find((c) => c.customer !== p.customer && (!purchases.some((q) => q.customer === c.customer) || of(c.customer).length > 1));
    fail({
      expected: `${p.customer}'s card charged once for ${p.customer}'s order of ${p.product.name} on worker ${p.worker}`,
      got: mine.length ? `${mine.length} charges for ${ordered.length} orders` : `no charge of ${p.customer}'s card${elsewhere ? ` (${elsewhere.customer}'s card was charged ${euros(elsewhere.amount)} more)` : ''}`,
      diagnosis: elsewhere
        ? `${p.customer}'s purchase charged ${elsewhere.customer}'s card: while it waited for the payment service, another request changed "who is asking" somewhere every request of the worker shares. Charge the customer the request itself carries.`
        : charges.length === 0
          ? `The card provider's ledger (PAYMENTS_DB) got no charge at all: keep the call to ${fn} in the checkout, for every order, and keep ${fn} as the exercise gives it (it records each charge in PAYMENTS_DB; a copy of the app from before the course recorded them may not: take ${fn} from the starter, or press r to put the starter back).`
          : `${p.customer}'s order was placed without a payment: keep the call to ${fn} in the checkout, for every order.`,
    });
  }
  for (const p of purchases) {
    const price = listed.get(p.product.id)!;
    const wrong = of(p.customer).find((c) => c.amount !== price);
    if (!wrong) continue;
    const theirs = purchases.find((q) => q.customer !== p.customer && listed.get(q.product.id) === wrong.amount);
    fail({
      expected: `${p.customer}'s card charged ${euros(price)} for ${p.product.name} (bought on worker ${p.worker}), the price the shop lists for it now`,
      got: `${p.customer}'s card charged ${euros(wrong.amount)} (the card provider's ledger)`,
      diagnosis: theirs
        ? `${p.customer}'s card was charged ${theirs.customer}'s price for ${theirs.product.name}: while one purchase waited for the payment service, the other changed "who is asking" somewhere every request of the worker shares. Charge the customer the request itself carries.`
        : `The page showed ${p.product.name} at ${euros(price)}, but worker ${p.worker} charged ${p.customer}'s card ${euros(wrong.amount)}: the checkout took the amount from a copy of the products it made earlier (when it started, or on some earlier request), not from the database. Charge the price the database holds at the moment of the purchase: the same one the order records.`,
    });
  }
  for (const p of purchases) {
    const mine = of(p.customer);
    const ordered = orders.filter((o) => o.customer === p.customer && o.productId === p.product.id);
    // Turned away: told it sold out (409), or shown the page again after the form, which cannot say.
    const refused = ordered.length === 0 && (p.reply?.status === 409 || /html/.test(p.reply?.contentType ?? ''));
    if (mine.length <= ordered.length + (refused ? 1 : 0)) continue;
    fail({
      expected: ordered.length
        ? `${p.customer}'s card charged ${euros(listed.get(p.product.id)!)} once for one order of ${p.product.name}`
        : `no charge of ${p.customer}'s card: ${p.customer} has no order of ${p.product.name}`,
      got: `${mine.length === 1 ? 'a charge' : `${mine.length} charges`} of ${p.customer}'s card: ${list(mine)}`,
      diagnosis: ordered.length
        ? `${p.customer} paid more than once for one order: each purchase must call ${fn} once, for that purchase's customer.`
        : `${p.customer}'s card was charged, but no order came of it and ${p.customer} was not told the ${p.product.name} sold out: a purchase that charges a card must record the order, or tell the buyer it sold out (and give the money back).`,
    });
  }
  const stranger = charges.find((c) => !purchases.some((p) => p.customer === c.customer));
  if (stranger) {
    fail({
      expected: `only ${purchases.map((p) => p.customer).join(' and ')} charged, for what they bought`,
      got: `${stranger.customer}'s card charged ${euros(stranger.amount)}`,
      diagnosis: `${stranger.customer} bought nothing, yet the checkout charged ${stranger.customer}'s card: it took the customer from somewhere every request of the worker shares, not from the request it serves.`,
    });
  }
}
