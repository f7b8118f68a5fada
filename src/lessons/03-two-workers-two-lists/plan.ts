// A run of lesson 3, drawn from its seed: the visitors' items and the order in which the
// workers are used, so that neither a hard-coded item nor "worker 1 first" can pass.
import type { CheckContext } from '../types.ts';
import { drawItems, expectBasket, expectOnPage, loadBasketPage } from '../basket.ts';

export interface Plan {
  /** alice's three items, then the two her tabs add at once. */
  readonly alice: readonly string[];
  readonly bob: string;
  readonly dave: string;
  /** Every worker once, in the order this run uses them. */
  readonly workers: readonly number[];
}

const plans = new WeakMap<CheckContext, Plan>();

export function planOf(ctx: CheckContext): Plan {
  let plan = plans.get(ctx);
  if (!plan) {
    const items = drawItems(ctx.random, 7);
    const start = Math.floor(ctx.random() * ctx.workers);
    const workers = Array.from({ length: Math.max(ctx.workers, 3) }, (_, i) => ctx.workerAt(start + i + 1));
    plan = { alice: items.slice(0, 5), bob: items[5]!, dave: items[6]!, workers };
    plans.set(ctx, plan);
  }
  return plan;
}

/** What to say when `worker` shows `visitor` other items than the ones every worker should show. */
export type Diagnose = (visitor: string, worker: number) => (got: readonly string[]) => string;

/**
 * On every worker, in the run's order, `visitor` sees exactly `want` through the API (in order)
 * and on the page (and none of `others`, other people's items).
 */
export async function everyWorkerShows(ctx: CheckContext, visitor: string, want: readonly string[], diagnose: Diagnose, others: readonly string[] = []): Promise<void> {
  const { workers } = planOf(ctx);
  for (const worker of workers.slice(0, ctx.workers)) {
    await expectBasket(ctx, visitor, want, diagnose(visitor, worker), worker);
    if (ctx.visitor(visitor).kind !== 'browser') continue;
    const page = await loadBasketPage(ctx, visitor, worker);
    expectOnPage(page, visitor, want, others, (missing, foreign) => diagnose(visitor, worker)([...want.filter((i) => !missing.includes(i)), ...foreign]));
  }
}
