// A purchase cut off between two commits: the worker serving it is killed (an out-of-memory
// kill, a lost machine, gunicorn's --timeout) just after the purchase has committed one write
// and before its next write begins a transaction of its own. Whatever it committed stays; a
// teapot taken in one commit and its order written in another is then a teapot gone with no
// order; an order written in one commit and its teapot taken in another is an order for a
// teapot still on sale. The kill lands before the second commit's first write, whether that is a
// statement on its own or the first write of a transaction of its own (crash-at.ts). A purchase
// that takes the teapot and reserves its order in one transaction is never cut off between them:
// it is killed after that commit, or goes on to its payment and is judged as any purchase is.
import { fail } from '../../check/expect.ts';
import type { CheckContext } from '../types.ts';
import { expectBooks, expectVerdicts, plural, books } from './books.ts';
import { payAll, read, send, untilPaying } from './crash.ts';
import type { Buyer } from './rush.ts';
import type { InFlight } from '../waiting.ts';
import { Reservations } from '../reservations.ts';

/** The buyer whose purchase is cut off (the step's title names him). */
export const CUT_OFF_BUYER = 'pia';

/**
 * `buyer` buys, and her worker is killed just after the purchase's `gap`-th commit, before the
 * next one begins (when it makes one before paying). Returns whether it was killed: a purchase
 * with no such gap goes through and is judged as any purchase is. `reserved` follows her
 * reservations over her tries (reservations.ts).
 */
export async function cutOffBetweenCommits(ctx: CheckContext, buyer: Buyer, gap = 1, reserved = new Reservations()): Promise<boolean> {
  const before = read(ctx);
  const shopBefore = books(ctx);
  const lastOrder = before.orders.at(-1)?.id ?? 0;
  const lastCharge = before.charges.at(-1)?.id ?? 0;
  const point = await ctx.killBetweenCommits(buyer.worker, { after: gap });
  let request: InFlight;
  try {
    request = await send(ctx, buyer);
    await untilPaying(ctx, buyer, request, lastCharge, () => point.killed);
  } finally {
    await point.disarm();
  }
  if (!point.killed) {
    // Nothing committed twice before the payment: the purchase goes through as any purchase does.
    const bought = await payAll(ctx, [{ buyer, request }]);
    expectVerdicts(bought, ctx.track);
    expectBooks(ctx, shopBefore, bought, 1);
    return false;
  }
  await point.restarted;
  await request.reply;
  const now = read(ctx);
  const gone = before.left - now.left;
  const orders = now.orders.filter((o) => o.id > lastOrder).length;
  // A reservation of the app's own, written with the teapot and naming the buyer, accounts for it
  // as an order does. A table whose rows naming her came when no teapot left (a log of attempts,
  // a customer's last visit, in a commit of their own) reserves nothing, now or in her next try.
  const old = new Set(before.rows.map((r) => r.id));
  const fresh = now.rows.filter((r) => !old.has(r.id) && r.values.includes(buyer.name)).map((r) => r.id);
  const reservations = reserved.count(fresh, before.left === now.left);
  const together = ctx.track === 'flask' ? 'transaction that starts with `BEGIN IMMEDIATE` (and commits once, after both)' : 'immediate transaction (`db.transaction(...).immediate()`)';
  if (orders > gone) {
    // The other way round: the order committed first, and the teapot it is for is still on sale.
    fail({
      expected: `a teapot off the shelf for every order recorded, after worker ${buyer.worker} was killed in the middle of ${buyer.name}'s purchase`,
      got: `${plural(orders, 'order')} recorded, ${plural(gone, 'teapot')} gone from the shelf`,
      diagnosis: `A worker can be killed at any line (an out-of-memory kill, a lost machine${ctx.track === 'flask' ? ", gunicorn's --timeout" : ''}), and this one was killed just after the purchase had committed ${buyer.name}'s order and before it took her teapot off the shelf: two commits, with a moment between them in which a crash leaves an order for a teapot that is still on sale. The shop will sell that teapot to someone else and owe ${buyer.name} one it does not have; nothing will ever take it off the shelf or cancel her order. Writing the order first does not make two commits safe, in either order. Take the teapot and insert its order in one ${together}, so that both are written or neither is.`,
    });
  }
  if (gone > orders + reservations) {
    fail({
      expected: `an order for every teapot that left the shelf, after worker ${buyer.worker} was killed in the middle of ${buyer.name}'s purchase`,
      got: `${plural(gone, 'teapot')} gone from the shelf, ${plural(orders, 'order')}${reservations ? ` and ${plural(reservations, 'reservation')}` : ''} recorded`,
      diagnosis: `A worker can be killed at any line (an out-of-memory kill, a lost machine${ctx.track === 'flask' ? ", gunicorn's --timeout" : ''}), and this one was killed just after the purchase had committed the teapot taken off the shelf and before it wrote the order: two commits, with a moment between them in which a crash loses the teapot for good. Take the teapot and insert its order in one ${together}, so that both are written or neither is.`,
    });
  }
  return true;
}
