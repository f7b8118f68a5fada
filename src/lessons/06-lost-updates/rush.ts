// Many buyers at once, made deterministic. The app's payment waits on the workers' manual clock,
// and every charge it starts is a 'pending' row in the provider's ledger, so the check can see
// which buyers are waiting for their payment. It moves the clock only when every buyer has
// either answered or is waiting: all of them have read the stock before any payment returns,
// every run, however the requests happened to arrive.
//
// Buyers come the ways people do: a browser submits the shop page's form (it loads the page
// first, then posts it urlencoded and follows the 303 back to the page), an app or a script
// posts JSON to the API.
//
// With `holdDatabase`, the check first holds the shop database's write lock while the buyers
// arrive, as a busy database does (another writer in the middle of a long write: a report, an
// import, a burst of other orders). A read-then-write with no await in between reads, then
// blocks on its write, so the first buyer of each worker has read the same stock before any
// of them writes. Atomic updates and immediate transactions simply wait their turn.
import Database from 'better-sqlite3';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext } from '../types.ts';

export interface Buyer {
  readonly name: string;
  readonly worker: number;
  /** 'form': a browser buying through the shop's page; 'api': a program posting JSON. */
  readonly via: 'form' | 'api';
}

/** A buyer's last answer: for the form, the page the browser ended on (the hops are in `reply.redirects`). */
export interface Bought {
  readonly reply: Reply;
  readonly via: Buyer['via'];
}

export interface RushOptions {
  /** Hold the shop database's write lock while the buyers arrive. */
  readonly holdDatabase?: boolean;
  /**
   * How long nothing may change before the clock moves the payments on (default 100 ms). A step
   * whose buyers must all be paying at once before any payment is answered (a double click)
   * waits longer: the wait ends as soon as every buyer pays or answers.
   */
  readonly paymentQuietMs?: number;
}

/**
 * How long nothing may change (no answer, no new payment) before the check stops waiting. While
 * the lock is held, the workers' own word that they wait to write ends the wait first; the quiet
 * time only bounds an app that neither writes nor pays.
 */
const ARRIVAL_QUIET_MS = 1000;
const PAYMENT_QUIET_MS = 100;
/** More than the provider's latency in the app (200 ms): every payment waiting is answered. */
const PAYMENT_STEP_MS = 1000;
const POLL_MS = 5;

export async function rush(ctx: CheckContext, buyers: readonly Buyer[], options: RushOptions = {}): Promise<Bought[]> {
  // Browsers open the shop's page before they buy: the form they submit is the one it shows.
  const pages = new Map<string, Reply>();
  for (const { name, worker, via } of buyers) {
    if (via === 'form') pages.set(name, await ctx.visitor(name, { kind: 'browser' }).page('/', { worker }));
  }
  const ledger = new Database(ctx.env.PAYMENTS_DB, { readonly: true });
  const waitingPayments = ledger.prepare("SELECT count(*) FROM charges WHERE status = 'pending'").pluck();
  const shop = options.holdDatabase ? new Database(ctx.env.SHOP_DB) : undefined;
  let answered = 0;
  const answeredBy = new Set<string>();
  let done = false;
  let watches: Array<{ waitingToWrite(): boolean; stop(): Promise<void> }> = [];
  try {
    // Watch before anyone arrives. While the lock is held, a worker has arrived when its first
    // buyer waits to write (the worker says so), or all its buyers have answered or wait for
    // their payment.
    const workers = [...new Set(buyers.map((b) => b.worker))];
    watches = shop ? await Promise.all(workers.map((k) => ctx.watchData(k))) : [];
    if (shop) shop.exec('BEGIN IMMEDIATE');
    const all = Promise.all(
      buyers.map(({ name, worker, via }) => {
        const visitor = ctx.visitor(name, { kind: via === 'form' ? 'browser' : 'api' });
        const reply = via === 'form' ? visitor.fillIn(pages.get(name)!, { buyer: name }, { worker }) : visitor.post('/api/buy', { buyer: name }, { worker });
        return reply.then((r): Bought => ({ reply: r, via })).finally(() => {
          answered++;
          answeredBy.add(name);
        });
      }),
    ).finally(() => {
      done = true;
    });

    const pendingBuyers = ledger.prepare("SELECT buyer FROM charges WHERE status = 'pending'").pluck();
    const arrived = () => {
      const pending = new Set(pendingBuyers.all() as string[]);
      return workers.every(
        (k, i) => watches[i]!.waitingToWrite() || buyers.filter((b) => b.worker === k).every((b) => answeredBy.has(b.name) || pending.has(b.name)),
      );
    };

    /** Wait until every buyer has answered or waits for a payment (or, holding the lock, every worker has arrived), or nothing has changed for a while. */
    const settle = async (quietMs: number, holding = false) => {
      let last = '';
      let since = performance.now();
      for (;;) {
        if (done) return;
        if (holding && arrived()) return;
        const waiting = Number(waitingPayments.get());
        if (answered + waiting >= buyers.length) return;
        const state = `${answered}/${waiting}`;
        if (state !== last) {
          last = state;
          since = performance.now();
        } else if (performance.now() - since >= quietMs) return;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    };

    if (shop) {
      await settle(ARRIVAL_QUIET_MS, true);
      shop.exec('ROLLBACK');
      await Promise.all(watches.splice(0).map((w) => w.stop()));
    }
    while (!done) {
      await settle(options.paymentQuietMs ?? PAYMENT_QUIET_MS);
      if (done) break;
      await ctx.advanceClock(PAYMENT_STEP_MS);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return await all;
  } finally {
    await Promise.all(watches.map((w) => w.stop()));
    if (shop?.inTransaction) shop.exec('ROLLBACK');
    shop?.close();
    ledger.close();
  }
}
