// Lesson 2's visitors' items in a run, drawn from its seed.
import type { CheckContext } from '../types.ts';
import { drawItems } from '../basket.ts';

/** Each visitor's items in this run, drawn from its seed: alice's two, bob's, dave's; after the deploy, frank's, grace's and alice's third; then the two of the visitors who shop at the same moment. */
export interface Items {
  readonly alice: readonly [string, string];
  readonly bob: string;
  readonly dave: string;
  readonly later: { readonly frank: string; readonly grace: string; readonly alice: string };
  readonly together: readonly [string, string];
}

const itemsByRun = new WeakMap<CheckContext, Items>();
export function itemsOf(ctx: CheckContext): Items {
  let items = itemsByRun.get(ctx);
  if (!items) {
    const [a1, a2, b, d, f, g, a3, t1, t2] = drawItems(ctx.random, 9) as [string, string, string, string, string, string, string, string, string];
    items = { alice: [a1, a2], bob: b, dave: d, later: { frank: f, grace: g, alice: a3 }, together: [t1, t2] };
    itemsByRun.set(ctx, items);
  }
  return items;
}

