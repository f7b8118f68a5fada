// Two tabs of one visitor adding at the same moment on two workers: a forced race. The first
// tab's request is held on its worker right after it has read the shared data; the second runs
// meanwhile; then the first goes on. A basket read and written back whole loses one item,
// every run; one row per item (or a transaction that takes the write lock first) keeps both.
import { describe, fail, show, stringList } from '../../check/expect.ts';
import type { CheckContext } from '../types.ts';
import { basketOf, expectOnPage, loadBasketPage } from '../basket.ts';
import { planOf } from './plan.ts';

const LOST =
  "One of the two items added at the same moment is gone: each request read alice's basket (from the database, a file, or the cookie her browser sent), added its item and wrote the whole basket back, so the later write replaced the earlier one. Adding an item must not rewrite what another request may be changing at the same time.";

const nowByRun = new WeakMap<CheckContext, readonly string[]>();

/** alice's items as every worker must show them from now on (her first three, then her tabs' two). */
export function aliceNow(ctx: CheckContext): readonly string[] {
  return nowByRun.get(ctx) ?? planOf(ctx).alice.slice(0, 3);
}

export async function twoTabsAtOnce(ctx: CheckContext): Promise<void> {
  const { alice, workers } = planOf(ctx);
  const tabs = ctx.visitor('alice');
  const [w1, w2] = ctx.random() < 0.5 ? [workers[0]!, workers[1]!] : [workers[1]!, workers[0]!];
  const [item1, item2] = [alice[3]!, alice[4]!];
  // Both tabs send what the browser holds as they send: the cookies from before either answer
  // came back (a basket kept in the cookie itself is then written back twice, the second without
  // the first's item).
  const cookie = await tabs.jar.getCookieString(`${tabs.site}/api/basket`);
  const replies = await ctx.race(
    { worker: w1, send: () => tabs.post('/api/basket', { item: item1 }, { worker: w1 }) },
    { worker: w2, send: () => tabs.post('/api/basket', { item: item2 }, { worker: w2, ...(cookie ? { headers: { cookie } } : {}) }) },
  );
  const before = alice.slice(0, 3);
  // Each tab's script shows the basket its answer lists: alice's items so far and its own, and at
  // most the other tab's too (which may or may not have been added first).
  replies.forEach((reply, i) => {
    const items = stringList(reply, 'items');
    const own = [item1, item2][i]!;
    const allowed = new Set([...before, item1, item2]);
    if (![...before, own].every((item) => items.includes(item)) || !items.every((item) => allowed.has(item))) {
      fail({
        expected: `the answer to ${describe(reply)} to list alice's basket with ${show([own])}: ${show([...before, own])}, and perhaps ${show([[item2, item1][i]!])}`,
        got: show(items),
        diagnosis:
          "The answer to adding an item is what the page's script shows alice as her basket: build it from her items as every worker keeps them (the database), as GET /api/basket does, not from what this worker remembers.",
      });
    }
  });
  let agreed: readonly string[] | undefined;
  for (const worker of workers.slice(0, ctx.workers)) {
    const { items, where } = await basketOf(ctx, 'alice', worker);
    const kept = [item1, item2].filter((item) => items.includes(item));
    const inOrder = show(items.slice(0, 3)) === show(before) && items.length === 5 && kept.length === 2;
    if (!inOrder || (agreed && show(agreed) !== show(items))) {
      fail({
        expected: `alice's basket to hold ${show(before)} and both ${show([item1, item2])} from ${where}`,
        got: show(items),
        diagnosis: kept.length < 2 ? LOST : undefined,
      });
    }
    agreed ??= items;
    const page = await loadBasketPage(ctx, 'alice', worker);
    expectOnPage(page, 'alice', items, [], (missing) => (missing.some((item) => item === item1 || item === item2) ? LOST : undefined));
  }
  nowByRun.set(ctx, agreed!);
}
