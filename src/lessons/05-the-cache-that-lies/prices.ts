// How lesson 5's check reads prices: from the database (what is true), from the API, and from
// the price page as a person reads it. Every worker must show the same, right after a change.
import Database from 'better-sqlite3';
import { describe, fail } from '../../check/expect.ts';
import { pageText } from '../../check/pages.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext } from '../types.ts';
import { readProducts, type Product } from '../products.ts';

export const euros = (cents: number) => (cents / 100).toFixed(2);

/** The products as the database holds them now: what every worker must show. */
export function productsInDatabase(ctx: CheckContext): Product[] {
  const db = new Database(ctx.env.SHOP_DB!, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, name, price FROM products ORDER BY id').all() as Product[];
  } finally {
    db.close();
  }
}

/** The price the page shows for `product`, in cents; undefined when the page does not list it. */
export async function priceOnPage(html: string, product: Product, all: readonly Product[]): Promise<number | undefined> {
  const text = await pageText(html);
  const at = findName(text, product.name);
  if (at < 0) return undefined;
  let end = text.length;
  for (const other of all) {
    if (other.id === product.id) continue;
    const next = findName(text, other.name, at + product.name.length);
    if (next >= 0 && next < end) end = next;
  }
  const shown = /(\d+)[.,](\d{2})(?!\d)/.exec(text.slice(at + product.name.length, end));
  return shown ? Number(shown[1]) * 100 + Number(shown[2]) : undefined;
}

/** Where `name` stands as a whole name in `text` (not inside a longer word), from `from` on. */
function findName(text: string, name: string, from = 0): number {
  for (let at = text.indexOf(name, from); at >= 0; at = text.indexOf(name, at + 1)) {
    const before = text[at - 1] ?? ' ';
    const after = text[at + name.length] ?? ' ';
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return at;
  }
  return -1;
}

export type Route = 'page' | 'api';

/** What a worker answered with the wrong price, for the diagnosis. */
export interface Stale {
  readonly worker: number;
  readonly route: Route;
}

/** Which answer was wrong, to open a diagnosis: "The price page on worker 2". */
export const where = ({ worker, route }: Stale) => (route === 'page' ? `The price page on worker ${worker}` : `The price list (GET /api/products) on worker ${worker}`);

/**
 * The price list `reply` (a page or the API) must show `want` for every product: each one listed,
 * under its name, at its price. Fails with `diagnose(stale)` for a wrong price, and for a product
 * of `changed` (just added or renamed) that is missing, and for a product the database does not
 * hold: in the API, any; on the page, one of `gone` (just deleted). Any other missing product is
 * a page or an answer that lost its shape.
 */
export async function expectPrices(
  reply: Reply,
  route: Route,
  want: readonly Product[],
  diagnose: (stale: Stale) => string,
  changed: readonly number[] = [],
  gone: readonly Product[] = [],
): Promise<void> {
  const stale = () => diagnose({ worker: reply.worker ?? 0, route });
  if (route === 'api') {
    const { products } = readProducts(reply);
    for (const product of want) {
      const found = products.find((p) => p.id === product.id);
      if (!found) fail({ expected: `product ${product.id} (${product.name}) in ${describe(reply)}`, got: reply.body, diagnosis: changed.includes(product.id) ? stale() : undefined });
      if (found.name !== product.name) fail({ expected: `product ${product.id} named ${product.name} in ${describe(reply)}`, got: found.name, diagnosis: stale() });
      if (found.price !== product.price) fail({ expected: `${product.name} at ${euros(product.price)} from ${describe(reply)}`, got: euros(found.price), diagnosis: stale() });
    }
    const extra = products.find((p) => !want.some((w) => w.id === p.id));
    if (extra) fail({ expected: `only the products the database holds in ${describe(reply)}`, got: `also product ${extra.id} (${extra.name} at ${euros(extra.price)})`, diagnosis: stale() });
    return;
  }
  if (reply.status !== 200) {
    fail({ expected: `the price page from ${describe(reply)}`, got: `status ${reply.status}: ${reply.body}`, diagnosis: reply.status >= 500 ? 'The app threw an error while drawing the page; the error and its line are in the output below.' : undefined });
  }
  for (const product of want) {
    const shown = await priceOnPage(reply.text, product, want);
    if (shown === undefined) {
      fail({
        expected: `the page from ${describe(reply)} to list ${product.name} with its price`,
        got: reply.body,
        diagnosis: changed.includes(product.id) ? stale() : 'Keep the price page as it was: each product\'s name, then its price in euros (like 4.50).',
      });
    }
    if (shown !== product.price) fail({ expected: `the page from ${describe(reply)} to show ${product.name} at ${euros(product.price)}`, got: euros(shown), diagnosis: stale() });
  }
  if (gone.length === 0) return;
  const text = await pageText(reply.text);
  for (const product of gone) {
    // A name that is part of a name still listed proves nothing.
    if (want.some((w) => findName(w.name, product.name) >= 0)) continue;
    if (findName(text, product.name) >= 0) fail({ expected: `the page from ${describe(reply)} not to list ${product.name}, deleted from the database`, got: reply.body, diagnosis: stale() });
  }
}

/**
 * Every worker, starting with the one after `from`, must show `want` on the page (alice's
 * browser) and through the API (bob's program); `changed` and `gone` as in expectPrices.
 */
export async function everyWorkerShows(
  ctx: CheckContext,
  want: readonly Product[],
  from: number,
  diagnose: (stale: Stale) => string,
  changed: readonly number[] = [],
  gone: readonly Product[] = [],
): Promise<void> {
  for (let i = 1; i <= ctx.workers; i++) {
    const worker = ctx.workerAt(from + i);
    await expectPrices(await ctx.visitor('alice').page('/', { worker }), 'page', want, diagnose, changed, gone);
    await expectPrices(await ctx.visitor('bob', { kind: 'api' }).get('/api/products', { worker }), 'api', want, diagnose, changed, gone);
  }
}
