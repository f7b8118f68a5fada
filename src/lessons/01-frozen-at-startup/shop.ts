// What lesson 1's check reads: the shop's rows and settings as they are now, and what each route
// of the app (the page, the page's script, the till's API client) shows for them.
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { inTheNextTick } from '../file-clock.ts';
import { describe, fail } from '../../check/expect.ts';
import { pageText, type Reply } from '../../check/visitor.ts';
import type { CheckContext } from '../types.ts';
import { priceText, productOnPage, productsIn, readProducts, type Product } from '../products.ts';

const SHOP_SHAPE = '{"shop": "...", "products": [...]}';

/** Shop names a run draws from; some hold "&", which the page must escape. */
export const SHOP_NAMES = [
  'Sunny Side Store', 'Hill Street Grocer', 'The Pantry', 'Market Hall Foods', 'Green & Grain', 'Bread & Butter',
  'Larder & Co', 'Mill Lane Stores', 'Harbour Deli', 'Oak & Ivy Provisions',
] as const;

export interface Site {
  readonly shopName: string;
  readonly currency: string;
}

export const siteOf = (ctx: CheckContext): Site => JSON.parse(readFileSync(ctx.env.SITE_CONFIG!, 'utf8')) as Site;

export function writeSite(ctx: CheckContext, site: Site): void {
  writeFileSync(ctx.env.SITE_CONFIG!, JSON.stringify(site, null, 2));
}

/** The products as the database holds them now: what every answer must show. */
export const shelfOf = (ctx: CheckContext): Product[] => productsIn(ctx.env.SHOP_DB!);

/**
 * Change the shop's data behind the app's back, as the stock team does (in a tick of the disk's
 * file clock of its own: the files' times move).
 */
export function editShop(ctx: CheckContext, sql: string, ...params: unknown[]): void {
  editShopAtOnce(ctx, [[sql, ...params]]);
}

/** Several changes committed together, as one run of the stock team's script commits them. */
export function editShopAtOnce(ctx: CheckContext, edits: readonly (readonly [sql: string, ...params: unknown[]])[]): void {
  inTheNextTick(ctx.env.SHOP_DB!, () => {
    const db = new Database(ctx.env.SHOP_DB!);
    try {
      db.transaction(() => {
        for (const [sql, ...params] of edits) db.prepare(sql).run(...params);
      })();
    } finally {
      db.close();
    }
  });
}

/** The workers in an order drawn from the run's seed: which one answers first must not matter. */
export function workersInOrder(ctx: CheckContext): number[] {
  const start = Math.floor(ctx.random() * ctx.workers);
  return Array.from({ length: ctx.workers }, (_, i) => ctx.workerAt(start + i + 1));
}

const show = (p: Product) => `"${p.name}" at ${priceText(p.price)}`;

/** What the diagnosis says when a route shows other rows than the database holds. */
export type Diagnose = (route: 'page' | 'api', worker: number) => string;

/** The API answer (from a browser's page script or the till's client) shows `shelf` and `shopName`. */
function expectApi(reply: Reply, shelf: readonly Product[], shopName: string, worker: number, diagnose: Diagnose): void {
  const { body, products } = readProducts(reply, SHOP_SHAPE);
  for (const want of shelf) {
    const found = products.find((p) => p.id === want.id);
    if (!found) {
      fail({ expected: `product ${want.id} (${show(want)}) from ${describe(reply)}`, got: `no such product in ${reply.body}`, diagnosis: diagnose('api', worker) });
    }
    if (found.price !== want.price || found.name !== want.name) {
      fail({ expected: `${show(want)} from ${describe(reply)}`, got: show(found), diagnosis: diagnose('api', worker) });
    }
  }
  const extra = products.find((p) => !shelf.some((s) => s.id === p.id));
  if (extra) fail({ expected: `only the products in the database from ${describe(reply)}`, got: `also ${show(extra)}`, diagnosis: diagnose('api', worker) });
  if (body?.shop !== shopName) {
    fail({ expected: `"shop": ${JSON.stringify(shopName)} from ${describe(reply)}`, got: JSON.stringify(body?.shop), diagnosis: diagnose('api', worker) });
  }
}

/**
 * The page shows the shop's name and every product with its current price, and none of `gone`
 * (products deleted from the database) whose name it could not show for another reason.
 */
async function expectPage(reply: Reply, shelf: readonly Product[], shopName: string, worker: number, diagnose: Diagnose, gone: readonly Product[]): Promise<void> {
  if (reply.status !== 200 || !/html/i.test(reply.contentType)) {
    fail({ expected: `the shop's page from ${describe(reply)}`, got: `status ${reply.status}: ${reply.body}`, diagnosis: 'Keep the page at / : a browser loads it to see the products.' });
  }
  const text = await pageText(reply.text);
  for (const want of shelf) {
    const seen = productOnPage(text, want, shelf);
    if (!seen.shown) {
      fail({
        expected: `the page to show ${show(want)} (${describe(reply)})`,
        got: seen.price === undefined ? `no "${want.name}" with a price on the page` : `"${want.name}" at ${seen.price}`,
        diagnosis: diagnose('page', worker),
      });
    }
  }
  for (const product of gone) {
    const elsewhere = shopName.includes(product.name) || shelf.some((p) => p.name.includes(product.name));
    if (!elsewhere && text.includes(product.name)) {
      fail({ expected: `the page not to list ${show(product)}, deleted from the database (${describe(reply)})`, got: `"${product.name}" on the page`, diagnosis: diagnose('page', worker) });
    }
  }
  if (!text.includes(shopName)) {
    fail({ expected: `the page to be titled ${JSON.stringify(shopName)} (${describe(reply)})`, got: JSON.stringify(text.slice(0, 80)), diagnosis: diagnose('page', worker) });
  }
}

/**
 * Every worker, whichever answers first, shows the database as it is now through every route:
 * alice's browser loads the page and its script calls the API; the till (an API client) calls it
 * too. Products of `gone`, just deleted, must be on neither.
 */
export async function everyWorkerShowsTheShop(ctx: CheckContext, diagnose: Diagnose, gone: readonly Product[] = []): Promise<void> {
  const shelf = shelfOf(ctx);
  const { shopName } = siteOf(ctx);
  const alice = ctx.visitor('alice');
  const till = ctx.visitor('till', { kind: 'api' });
  for (const worker of workersInOrder(ctx)) {
    const first = ctx.random() < 0.5;
    if (first) expectApi(await till.get('/api/products', { worker }), shelf, shopName, worker, diagnose);
    await expectPage(await alice.page('/', { worker }), shelf, shopName, worker, diagnose, gone);
    expectApi(await alice.get('/api/products', { worker }), shelf, shopName, worker, diagnose);
    if (!first) expectApi(await till.get('/api/products', { worker }), shelf, shopName, worker, diagnose);
  }
}
