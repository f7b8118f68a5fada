// The basket API that lessons 2 and 3 share: GET /api/basket → {items}, POST {item}.
import { describe, fail, show, stringList } from '../check/expect.ts';
import { formsOf, pageText, type Reply } from '../check/visitor.ts';
import type { CheckContext } from './types.ts';

/**
 * Add `item` through the API, as the page's script (or an app) does. The answer lists the basket
 * as it is now: when `want` is given, it must be exactly that (the script shows it to the visitor).
 */
export async function addItem(ctx: CheckContext, visitor: string, item: string, worker?: number, want?: readonly string[]): Promise<void> {
  const reply = await ctx.visitor(visitor).post('/api/basket', { item }, { worker });
  const items = stringList(reply, 'items');
  if (want && show(items) !== show(want)) {
    fail({
      expected: `the answer to ${describe(reply)} to list ${visitor}'s basket as it is now, ${show(want)}`,
      got: items.length ? show(items) : 'an empty list',
      diagnosis: `The answer to adding an item is what the page's script shows ${visitor} as the basket: build it the way GET /api/basket does, from ${visitor}'s own items as every worker keeps them, not from anything this worker remembers or from everyone's items.`,
    });
  }
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

/** Things people put in a basket: a run draws its visitors' items from here (some hold "&"). */
const GROCERIES = [
  'tea', 'oat milk', 'rye bread', 'honey', 'soap', 'apples', 'coffee beans', 'fish & chips', 'mac & cheese', 'rice',
  'olive oil', 'butter', 'eggs', 'salt & vinegar crisps', 'lemons', 'yoghurt', 'dark chocolate', 'tomatoes', 'pasta',
  'cinnamon buns', 'sparkling water', 'goat cheese', 'oolong', 'porridge oats',
] as const;

/**
 * `count` different items drawn from the run's random source, none inside another (so that a page
 * showing one cannot be taken for showing the other) and none inside the page's own words.
 */
export function drawItems(random: () => number, count: number): string[] {
  const pool: string[] = [...GROCERIES];
  const items: string[] = [];
  while (items.length < count && pool.length > 0) {
    const item = pool.splice(Math.floor(random() * pool.length), 1)[0]!;
    if (items.some((other) => other.includes(item) || item.includes(other)) || /basket|add/i.test(item)) continue;
    items.push(item);
  }
  return items;
}

/** What a visitor's browser shows: the basket page's text and the items of it found there. */
export interface BasketPage {
  readonly reply: Reply;
  readonly text: string;
}

/** Load the basket page as `visitor`'s browser does (optionally on worker k), failing when it is not a page. */
/** `from`: the page of another site the visitor comes from, by a link (see RequestOptions.from). */
export async function loadBasketPage(ctx: CheckContext, visitor: string, worker?: number, from?: string): Promise<BasketPage> {
  return readBasketPage(await ctx.visitor(visitor).page('/', { worker, ...(from ? { from } : {}) }));
}

async function readBasketPage(reply: Reply): Promise<BasketPage> {
  if (reply.status !== 200 || !/html/i.test(reply.contentType)) {
    fail({
      expected: `the basket page from ${describe(reply)}`,
      got: `status ${reply.status}: ${reply.body}`,
      diagnosis: 'Keep the page at / : it shows the visitor their basket and the form that adds to it.',
    });
  }
  return { reply, text: await pageText(reply.text) };
}

/**
 * Add `item` as a person does: load the page, type the item into its form and submit it; the
 * browser follows the redirect back to the page. Returns that page. `worker` pins every request.
 */
export async function addByForm(ctx: CheckContext, visitor: string, item: string, worker?: number): Promise<BasketPage> {
  const who = ctx.visitor(visitor);
  const page = await loadBasketPage(ctx, visitor, worker);
  const forms = await formsOf(page.reply.text);
  if (!forms.some((f) => f.method === 'POST' && Object.hasOwn(f.fields, 'item'))) {
    fail({
      expected: `a form on the page (${describe(page.reply)}) with an "item" field that posts to /api/basket`,
      got: forms.length ? `forms posting to ${forms.map((f) => `${f.method} ${f.action || '/'}`).join(', ')}` : 'no form',
      diagnosis: "Keep the page's form: it is how people add to their basket.",
    });
  }
  const after = await who.fillIn(page.reply, { item }, { worker });
  const hop = after.redirects?.[0];
  if (!hop || after.method !== 'GET' || after.path.split('?')[0] !== '/') {
    fail({
      expected: `the form's POST to answer with a redirect back to the page (303), as the starter does`,
      got: hop ? `a redirect to ${after.path}` : `${describe(after)} answered status ${after.status}: ${after.body}`,
      diagnosis: 'After a form is submitted, answer with a redirect to / so that the browser shows the basket again (and a reload does not post twice).',
    });
  }
  return readBasketPage(after);
}

/**
 * Demand that the page shows each of `want` and none of `others` (other visitors' items, or items
 * this visitor has not added); `diagnose` explains a wrong page in the lesson's terms.
 */
export function expectOnPage(
  page: BasketPage,
  visitor: string,
  want: readonly string[],
  others: readonly string[],
  diagnose: (missing: readonly string[], foreign: readonly string[]) => string | undefined,
): void {
  const missing = want.filter((item) => !page.text.includes(item));
  const foreign = others.filter((item) => !want.includes(item) && page.text.includes(item));
  if (missing.length || foreign.length) {
    const shown = [...want.filter((item) => !missing.includes(item)), ...foreign];
    fail({
      expected: `${visitor}'s page (${describe(page.reply)}) to show ${want.length ? show(want) : 'an empty basket'}`,
      got: shown.length ? `a page showing ${show(shown)}${missing.length ? ` without ${show(missing)}` : ''}` : `a page without ${show(missing)}`,
      diagnosis: diagnose(missing, foreign),
    });
  }
}
