import { describe, expectJson, fail } from '../../check/expect.ts';
import type { AppTrack, CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { inTurn, LET_TIME_PASS_MS, together, type Late, type Turn } from '../waiting.ts';
import { briefOf, drawShop, euros, lastOrderId, ordersSince, pageOf, rememberShop, shopOf, withDb, writeShop } from './shop.ts';
import { signInStep } from './sign-in.ts';
import { pricesStep, signIn } from './prices.ts';
import { everyWorkerShowsStock, expectVerdict, lastJarStep } from './stock.ts';
import { expectCharges, lastChargeId, writeLedger } from './ledger.ts';
import { accountAfterPurchaseStep, wellStockedStep } from './after-sales.ts';
import { cutOffStep } from './cut-off.ts';
import { randomBytes } from 'node:crypto';
import { someWorker } from '../draws.ts';

/** The simulated network calls of the exercise: the orders service and the payment service. */
const ORDERS_MS = 300;
const PAYMENT_MS = 500;

const takingTurns = (track: AppTrack) =>
  track === 'flask'
    ? "Requests in one worker take turns: a lock around each request (or a flag polled with time.sleep) makes the threaded worker serve one request at a time, and one slow page stalls every visitor. Keep each request's state with the request instead."
    : "Requests in one worker take turns: a lock, queue or busy flag around each request makes one slow page stall every visitor. Keep each request's state with the request instead.";

/**
 * Fail when one of two overlapping requests (`names`, in the order sent) was answered only after
 * the other's turn: each makes one network call of `ms`, and must be answered in about that
 * time, as when it is alone.
 */
function tookTheirTime(ctx: CheckContext, late: readonly Late[], names: readonly string[], what: string, ms: number): void {
  const first = late[0];
  if (!first) return;
  const name = names[first.index]!;
  const others = names.filter((n) => n !== name).map((n) => `${n}'s`);
  fail({
    expected: `${name}'s ${what} to be answered about ${ms} ms after it was sent, as when it is alone, while ${others.join(' and ')} waited on the network too`,
    got: `no answer ${first.afterMs} ms after it was sent`,
    diagnosis: `${name}'s ${what} waited for ${others.join(' and ')} to finish before its own network call began. ${takingTurns(ctx.track)}`,
  });
}

const lesson: Lesson = {
  number: 9,
  slug: '09-capstone',
  title: 'Capstone: the whole shop',
  track: 'advanced',
  summary: 'The whole shop on three busy workers, with several of these bugs at once. No hints unless you ask.',
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Each step of the check is a problem you have met before in another costume (the three where several workers sell the same product at once are one problem, seen three times). Read which behaviour fails, then ask yourself which earlier lesson showed that behaviour.',
    'The four, by behaviour: prices or orders that stay old on some workers (lessons 1 and 5); customers who are signed out when another worker answers (lesson 4); one customer\'s page showing another\'s details when both load at once (lesson 7); more jars sold than the shop had, or sales missing from the stock (lesson 6).',
    'Concretely: read the products (and the orders of whoever asks) from the database in every request that shows or sells them; keep the session in a signed cookie (`cookie-session` with SESSION_SECRET) instead of express-session\'s memory; keep the customer on `req`; and take a jar with `UPDATE products SET stock = stock - 1 WHERE id = ? AND stock > 0`, going on only when `.changes` is 1.',
  ],
  flask: {
    file: 'app.py',
    // gunicorn's gthread worker: three processes of four threads, each thread serving a request.
    threads: 4,
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'Each step of the check is a problem you have met before in another costume (the three where several workers sell the same product at once are one problem, seen three times). Read which behaviour fails, then ask yourself which earlier lesson showed that behaviour.',
      "The four, by behaviour: prices or orders that stay old on some workers (lessons 1 and 5); customers who are signed out when another worker answers (lesson 4); one customer's page showing another's details when two threads of one worker serve them at once (lesson 7); more jars sold than the shop had, or sales missing from the stock (lesson 6).",
      'Concretely: read the products (and the orders of whoever asks) from the database in every view that shows or sells them; keep the customer in Flask\'s `session` (a signed cookie) with `app.secret_key = os.environ["SESSION_SECRET"]` instead of the `sessions` dict; keep the customer on `flask.g`; and take a jar with `UPDATE products SET stock = stock - 1 WHERE id = ? AND stock > 0`, going on only when `cursor.rowcount` is 1, in the same transaction as the order and before the payment.',
    ],
  },
  workers: 3,
  mode: 'concurrent',
  clock: 'manual',
  brief: briefOf,
  seed(dir, random) {
    const shop = drawShop(random);
    const file = writeShop(dir, shop);
    rememberShop(file, shop);
    return { SHOP_DB: file, PAYMENTS_DB: writeLedger(dir), SESSION_SECRET: randomBytes(16).toString('hex') };
  },
  steps: [
    pricesStep,
    signInStep,
    {
      title: "Two customers' account pages loading at once on one worker each show their own, and so do their purchases",
      async run(ctx) {
        const shop = shopOf(ctx);
        const worker = someWorker(ctx);
        const names = ['alice', 'bob'];
        const crossed = (name: string, other: string) =>
          `${name}'s request was waiting for a network call when ${other}'s arrived in the same worker, and ${name}'s answer came back with ${other}'s details: the app keeps "who is asking" somewhere every request shares.`;
        const { requests, progress, late } = await together(
          ctx,
          names.map((name): Turn => ({ worker, calls: [ORDERS_MS], send: () => ctx.visitor(name).get('/api/account', { worker }) })),
        );
        if (progress[0] === 'answered' || progress.includes('stuck')) {
          fail({
            expected: "alice's account page to wait for the orders service, and bob's to go ahead meanwhile",
            got: progress[0] === 'answered' ? "alice's page answered at once" : "bob's request held up until alice's finished",
            diagnosis:
              progress[0] === 'answered'
                ? ctx.track === 'flask'
                  ? 'Keep the network calls (fetch_orders, charge_card) as they are: they stand for real services, and the check needs requests to wait for them.'
                  : 'Keep the awaited network calls (fetchOrders, chargeCard): they stand for real services, and the check needs requests to wait for them.'
                : takingTurns(ctx.track),
          });
        }
        const replies = await Promise.all(requests.map((r) => r.reply));
        for (const [i, name] of names.entries()) {
          const reply = replies[i]!;
          const body = expectJson(reply, 'JSON like {"name", "fullName", "orders"}') as { name?: unknown; orders?: Array<{ id?: unknown }> };
          const want = shop.pastOrders.filter((o) => o.customer === name).map((o) => o.id);
          const got = Array.isArray(body.orders) ? body.orders.map((o) => o?.id).filter((id) => typeof id === 'number' && id <= Math.max(...want, 0) + 2) : undefined;
          const mine = Array.isArray(body.orders) && want.every((id) => body.orders!.some((o) => o?.id === id));
          const theirs = Array.isArray(body.orders) && shop.pastOrders.some((o) => o.customer !== name && body.orders!.some((b) => b?.id === o.id));
          if (body.name !== name || !mine || theirs) {
            fail({
              expected: `${name}'s own account page (${name}, orders ${JSON.stringify(want)}) from ${describe(reply)}`,
              got: `${JSON.stringify(body.name)}, orders ${JSON.stringify(got)}`,
              diagnosis: crossed(name, names.find((n) => n !== name)!),
            });
          }
        }
        tookTheirTime(ctx, late, names, 'account page', ORDERS_MS);
        const before = lastOrderId(ctx);
        const paidBefore = lastChargeId(ctx);
        const picks = [shop.products[0]!, shop.products[1]!];
        const buys = await together(
          ctx,
          names.map((name, i): Turn => ({ worker, calls: [PAYMENT_MS], send: () => ctx.visitor(name).post('/api/buy', { product: picks[i]!.id }, { worker }) })),
        );
        if (buys.progress.includes('stuck')) {
          fail({
            expected: "bob's purchase to go ahead while alice's waited for the payment service",
            got: "bob's purchase held up until alice's finished",
            diagnosis: takingTurns(ctx.track),
          });
        }
        for (const reply of await Promise.all(buys.requests.map((r) => r.reply))) expectJson(reply, 'JSON like {"order": 5, ...} (201)');
        const orders = ordersSince(ctx, before);
        for (const [i, name] of names.entries()) {
          const order = orders.find((o) => o.productId === picks[i]!.id);
          if (order?.customer !== name) {
            fail({
              expected: `${name}'s order of ${picks[i]!.name} (bought on worker ${worker} while the other purchase waited for payment) to be in ${name}'s name`,
              got: order ? `an order in ${order.customer}'s name` : 'no such order',
              diagnosis: crossed(name, names.find((n) => n !== name)!),
            });
          }
        }
        expectCharges(ctx, names.map((customer, i) => ({ customer, product: picks[i]!, worker })), before, paidBefore);
        tookTheirTime(ctx, buys.late, names, 'purchase', PAYMENT_MS);
      },
    },
    lastJarStep,
    {
      title: 'Three customers buy the last two jars of honey at once, on three workers: exactly two are sold, and every worker shows the stock that is left',
      async run(ctx) {
        const { honey } = shopOf(ctx);
        // A delivery: the stock team enters the two jars of honey it brought.
        withDb(ctx, (db) => db.prepare('UPDATE products SET stock = ? WHERE id = ?').run(honey.stock, honey.id));
        await signIn(ctx, 'carol', ctx.workerAt(3));
        const buyers = ['alice', 'bob', 'carol'];
        const offset = Math.floor(ctx.random() * 3);
        const workerOf = (i: number) => ctx.workerAt(((i + offset) % 3) + 1);
        // alice buys with the page's form, as in her browser; bob and carol through the API.
        const home = await ctx.visitor('alice').page('/', { worker: workerOf(0) });
        await pageOf(home, 'the shop page');
        const before = lastOrderId(ctx);
        const paidBefore = lastChargeId(ctx);
        const { requests, progress } = await inTurn(
          ctx,
          buyers.map((name, i): Turn => ({
            worker: workerOf(i),
            send: () =>
              i === 0
                ? ctx.visitor(name).fillIn(home, { product: honey.id }, { action: '/api/buy', worker: workerOf(i) })
                : ctx.visitor(name).post('/api/buy', { product: honey.id }, { worker: workerOf(i) }),
          })),
        );
        if (progress.includes('stuck')) {
          fail({
            expected: 'each purchase to reach the payment service or be answered',
            got: `a purchase held up for 1.5 s (${progress.join(', ')})`,
            diagnosis:
              ctx.track === 'flask'
                ? 'Purchases wait for one another: a lock or a transaction held across charge_card makes every buyer wait for the payment before. Let the database settle who gets the stock in one short step, and pay outside it.'
                : 'Purchases wait for one another. Keep the payment awaited and let the database settle who gets the stock.',
          });
        }
        await ctx.advanceClock(LET_TIME_PASS_MS);
        const replies = await Promise.all(requests.map((r) => r.reply));
        for (const reply of replies) expectVerdict(reply);
        const stock = withDb(ctx, (db) => db.prepare('SELECT stock FROM products WHERE id = ?').pluck().get(honey.id) as number);
        const orders = ordersSince(ctx, before).filter((o) => o.productId === honey.id);
        const oversold =
          "Each worker read the stock, waited for the payment, and then wrote back what it had read, minus one: none of them saw the others' sales. The test \"is there one left?\" and the taking of the jar must be one step that the database decides, one buyer at a time.";
        if (orders.length > honey.stock || stock < 0) {
          fail({
            expected: `at most ${honey.stock} jars of honey sold (the stock), the other buyer told it is sold out`,
            got: `${orders.length} sold (${orders.map((o) => o.customer).join(', ')}), stock now ${stock}`,
            diagnosis: oversold,
          });
        }
        if (orders.length < honey.stock) {
          fail({
            expected: `${honey.stock} jars of honey sold: there were ${honey.stock}`,
            got: `${orders.length} sold (${replies.map((r) => `${r.visitor}: ${r.status}`).join(', ')})`,
            diagnosis: 'A buyer was turned away while there was still honey on the shelf.',
          });
        }
        if (stock !== 0 || orders.some((o) => o.price !== honey.price)) {
          fail({
            expected: `no honey left, and each of the ${orders.length} orders charged ${euros(honey.price)}`,
            got: `stock ${stock}, orders charged ${orders.map((o) => euros(o.price)).join(', ')}`,
            diagnosis: oversold,
          });
        }
        expectCharges(ctx, buyers.map((customer, i) => ({ customer, product: honey, worker: workerOf(i), reply: replies[i] })), before, paidBefore);
        await everyWorkerShowsStock(ctx);
      },
    },
    wellStockedStep,
    accountAfterPurchaseStep,
    cutOffStep,
  ],
};

export default lesson;
