// The basket API that lessons 2 and 3 share: GET /api/basket → {items}, POST {item}.
import { describe, fail, show, stringList } from '../check/expect.ts';
import type { CheckContext } from './types.ts';

export async function addItem(ctx: CheckContext, visitor: string, item: string, worker?: number): Promise<void> {
  const reply = await ctx.visitor(visitor).post('/api/basket', { item }, { worker });
  stringList(reply, 'items');
}

export async function basketOf(ctx: CheckContext, visitor: string, worker?: number): Promise<{ items: string[]; where: string }> {
  const reply = await ctx.visitor(visitor).get('/api/basket', { worker });
  return { items: stringList(reply, 'items'), where: describe(reply) };
}

/** Demand that `visitor` sees exactly `want`; `diagnose` explains a wrong answer in the lesson's terms. */
export async function expectBasket(
  ctx: CheckContext,
  visitor: string,
  want: readonly string[],
  diagnose: (got: readonly string[]) => string | undefined,
  worker?: number,
): Promise<void> {
  const { items, where } = await basketOf(ctx, visitor, worker);
  if (show(items) !== show(want)) {
    fail({
      expected: `${visitor}'s basket to be ${want.length ? show(want) : 'empty'} from ${where}`,
      got: items.length ? show(items) : 'an empty basket',
      diagnosis: diagnose(items),
    });
  }
}

export function briefBasket(json: unknown): string | undefined {
  const items = (json as { items?: unknown }).items;
  return Array.isArray(items) ? `items: ${show(items)}` : undefined;
}
