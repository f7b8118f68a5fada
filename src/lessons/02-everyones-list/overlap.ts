// Lesson 2's step where two visitors' requests overlap on the one worker, as they do on a real
// Node worker: one request waits on an await (a file the app writes, say) while the worker
// serves another. The check forces it (ctx.race on one worker): the first visitor's request is
// held at its first asynchronous data operation while the second's runs to its answer; then the
// first goes on. An app that never awaits a data operation (and any Flask worker, which serves
// one request at a time) has nothing to overlap: the two requests then simply run one after the
// other, and the step judges them the same way.
import type { CheckContext, CheckStep } from '../types.ts';
import { describe, fail, show, stringList } from '../../check/expect.ts';
import { pageText, type Reply } from '../../check/visitor.ts';
import { expectOnPage, loadBasketPage, type BasketPage } from '../basket.ts';

/** Why a visitor's basket went wrong when `held`'s request (`what`) waited while `other`'s ran. */
function overlapped(ctx: CheckContext, held: string, other: string, what: string): string {
  const onRequest = ctx.track === 'flask' ? "on the request (Flask's `g`, or read from the cookie where it is needed)" : 'on the request itself (`req`, or `res.locals` in Express)';
  return `${held}'s ${what} waited on an await (the app's own file write) while the one worker served ${other}'s request, and the app mixed the two visitors up. A worker serves many requests at once: while one awaits, another runs. A module variable saying who is asking now is shared by all of them, and changes under a request that awaits. Keep who is asking ${onRequest}, never in module scope.`;
}

/** The answer of `reply` as the page a browser shows. */
async function asPage(reply: Reply): Promise<BasketPage> {
  return { reply, text: await pageText(reply.text) };
}

/** The basket an API answer lists, demanded to be exactly `want`. */
function expectItems(reply: Reply, visitor: string, want: readonly string[], diagnosis: () => string): void {
  const items = stringList(reply, 'items');
  if (show(items) !== show(want)) {
    fail({ expected: `${visitor}'s basket to be ${show(want)} in the answer to ${describe(reply)}`, got: items.length ? show(items) : 'an empty basket', diagnosis: diagnosis() });
  }
}

/** The step; `items(ctx)` gives the two items of this run, the held visitor's first. */
export function overlapStep(items: (ctx: CheckContext) => readonly [string, string]): CheckStep {
  return {
    title: 'two visitors shop at the same moment on the one worker, one request waiting while the other runs: each keeps their own items',
    async run(ctx) {
      const worker = ctx.workerAt(1);
      const [held, other] = ctx.random() < 0.5 ? (['heidi', 'ivan'] as const) : (['ivan', 'heidi'] as const);
      const [heldItem, otherItem] = items(ctx);
      // Two more colleagues from alice's office open the shop, one after the other.
      ctx.visitor('heidi', { like: 'alice' });
      ctx.visitor('ivan', { like: 'alice' });
      const page = await loadBasketPage(ctx, held, worker);
      await loadBasketPage(ctx, other, worker);

      // held submits the page's form while other's page script adds an item: held's request
      // waits at its first await, other's runs meanwhile; then held's goes on.
      let why = () => overlapped(ctx, held, other, 'form post (POST /api/basket)');
      const [formAnswer, apiAnswer] = await ctx.race(
        { worker, send: () => ctx.visitor(held).fillIn(page.reply, { item: heldItem }, { worker }) },
        { worker, send: () => ctx.visitor(other).post('/api/basket', { item: otherItem }, { worker }) },
      );
      expectItems(apiAnswer, other, [otherItem], why);
      expectOnPage(await asPage(formAnswer), held, [heldItem], [otherItem], why);

      // Now held asks for the basket while other loads the page.
      why = () => overlapped(ctx, held, other, 'GET /api/basket');
      const [heldBasket, otherPage] = await ctx.race(
        { worker, send: () => ctx.visitor(held).get('/api/basket', { worker }) },
        { worker, send: () => ctx.visitor(other).page('/', { worker }) },
      );
      expectOnPage(await asPage(otherPage), other, [otherItem], [heldItem], why);
      expectItems(heldBasket, held, [heldItem], why);

      // And each, on their own, still finds only their own item (an item that went astray stays astray).
      why = () => overlapped(ctx, held, other, 'form post (POST /api/basket)');
      for (const [visitor, mine, theirs] of [[held, heldItem, otherItem], [other, otherItem, heldItem]] as const) {
        expectOnPage(await loadBasketPage(ctx, visitor, worker), visitor, [mine], [theirs], why);
        expectItems(await ctx.visitor(visitor).get('/api/basket', { worker }), visitor, [mine], why);
      }
    },
  };
}
