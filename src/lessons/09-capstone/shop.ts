// The capstone's shop as the check sees it: its seed data (drawn from the run's seed), the
// database read directly, and what its pages and answers say.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import { htmlParser, pageText, type Reply } from '../../check/visitor.ts';
import type { CheckContext } from '../types.ts';
import { drawProducts } from '../products.ts';
import { digestSwaps, flippedCookies, shiftedNumbers } from '../cookie-edits.ts';

export interface Product {
  readonly id: number;
  readonly name: string;
  readonly price: number;
  readonly stock: number;
}

export interface Customer {
  readonly name: string;
  readonly fullName: string;
}

export interface ShopData {
  readonly products: readonly Product[];
  /** The product the stock team reprices in the first step (plenty in stock). */
  readonly repriced: Product;
  /** Honey: two jars left. */
  readonly honey: Product;
  readonly customers: readonly Customer[];
  /** Orders already in the database: id → customer. */
  readonly pastOrders: ReadonlyArray<{ readonly id: number; readonly customer: string; readonly product: number }>;
}

const FIRST = ['Martin', 'Okafor', 'Nguyen', 'Schmidt', 'Rossi', 'Haddad', 'Kowalski', 'García', "O'Brien", 'Lindqvist'];

/** Draw the run's shop: three products from the shelf, then honey with two jars left. */
export function drawShop(random: () => number): ShopData {
  // The shelf never holds a second "Honey": the page and the check tell products apart by name.
  const shelf = drawProducts(random, 4)
    .filter((p) => p.name !== 'Honey')
    .slice(0, 3);
  const honeyId = shelf.at(-1)!.id + 1 + Math.floor(random() * 5);
  const products: Product[] = [
    ...shelf.map((p) => ({ ...p, stock: 10 + Math.floor(random() * 30) })),
    { id: honeyId, name: 'Honey', price: 560 + Math.floor(random() * 12) * 10, stock: 2 },
  ];
  const surnames = [...FIRST];
  const surname = () => surnames.splice(Math.floor(random() * surnames.length), 1)[0]!;
  const customers = ['alice', 'bob', 'carol'].map((name) => ({ name, fullName: `${name[0]!.toUpperCase()}${name.slice(1)} ${surname()}` }));
  const start = 1 + Math.floor(random() * 50);
  const pastOrders = [
    { id: start, customer: 'alice', product: products[0]!.id },
    { id: start + 1, customer: 'bob', product: products[1]!.id },
    { id: start + 2, customer: 'alice', product: products[2]!.id },
  ];
  return { products, repriced: products[Math.floor(random() * 3)]!, honey: products[3]!, customers, pastOrders };
}

/** Write the shop's database into `dir`; returns its path. */
export function writeShop(dir: string, shop: ShopData): string {
  const file = path.join(dir, 'shop.db');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL, stock INTEGER NOT NULL);
      CREATE TABLE customers (name TEXT PRIMARY KEY, full_name TEXT NOT NULL);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL REFERENCES customers (name), product_id INTEGER NOT NULL REFERENCES products (id), price INTEGER NOT NULL);
    `);
    const addProduct = db.prepare('INSERT INTO products (id, name, price, stock) VALUES (?, ?, ?, ?)');
    for (const p of shop.products) addProduct.run(p.id, p.name, p.price, p.stock);
    const addCustomer = db.prepare('INSERT INTO customers (name, full_name) VALUES (?, ?)');
    for (const c of shop.customers) addCustomer.run(c.name, c.fullName);
    const addOrder = db.prepare('INSERT INTO orders (id, customer, product_id, price) VALUES (?, ?, ?, ?)');
    for (const o of shop.pastOrders) addOrder.run(o.id, o.customer, o.product, shop.products.find((p) => p.id === o.product)!.price);
  } finally {
    db.close();
  }
  return file;
}

/**
 * What each run seeded, by database path, kept in the course's memory (never in the app's data
 * folder, where an app could read the check's expectations).
 */
const seeded = new Map<string, ShopData>();

export function rememberShop(file: string, shop: ShopData): void {
  seeded.set(file, shop);
  if (seeded.size > 64) seeded.delete(seeded.keys().next().value!);
}

/** The shop's data as this run seeded it. */
export function shopOf(ctx: CheckContext): ShopData {
  const shop = seeded.get(ctx.env.SHOP_DB!);
  if (!shop) throw new Error(`no seeded shop for ${ctx.env.SHOP_DB}`);
  return shop;
}

export function withDb<T>(ctx: CheckContext, use: (db: Database.Database) => T): T {
  const db = new Database(ctx.env.SHOP_DB);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

export interface OrderRow {
  readonly id: number;
  readonly customer: string;
  readonly productId: number;
  readonly price: number;
}

/** Orders placed since `afterId`, read from the database. */
export function ordersSince(ctx: CheckContext, afterId: number): OrderRow[] {
  return withDb(ctx, (db) => db.prepare('SELECT id, customer, product_id AS productId, price FROM orders WHERE id > ? ORDER BY id').all(afterId) as OrderRow[]);
}

export function lastOrderId(ctx: CheckContext): number {
  return withDb(ctx, (db) => (db.prepare('SELECT coalesce(max(id), 0) FROM orders').pluck().get() as number));
}

export function productsOf(reply: Reply): Product[] {
  const body = expectJson(reply, 'JSON like {"products": [...]}') as { products?: unknown };
  const products = body?.products;
  if (!Array.isArray(products) || !products.every((p) => p && typeof p.id === 'number' && typeof p.price === 'number')) {
    fail({ expected: `JSON like {"products": [{"id", "name", "price", "stock"}]} from ${describe(reply)}`, got: reply.body });
  }
  return products as Product[];
}

/** "4.50": a price in cents as the page shows it. */
export const euros = (cents: number): string => (cents / 100).toFixed(2);

/** The text of the page's list item that names `product`, or undefined when the page has none. */
export async function lineOf(page: Reply, product: string): Promise<string | undefined> {
  const { parse } = await htmlParser();
  const items = parse(page.text).querySelectorAll('li');
  return items.map((li) => li.text.replace(/\s+/g, ' ').trim()).find((text) => text.includes(product));
}

/** Demand a page (2xx HTML) and return its visible text. */
export async function pageOf(reply: Reply, what: string): Promise<string> {
  if (reply.status < 200 || reply.status >= 300 || !/html/.test(reply.contentType)) {
    fail({ expected: `${what} (an HTML page) from ${describe(reply)}`, got: `status ${reply.status}: ${reply.body}` });
  }
  return pageText(reply.text);
}

/** A cookie's piece read as text one way, and written back the same way. */
interface Encoding {
  decode(piece: string): string | undefined;
  encode(text: string, like: string, inToken: boolean): string;
}

/** Text a person could read and edit: no control characters, no bytes that are not UTF-8. */
const readable = (text: string): boolean => text.length > 0 && !/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(text);

/**
 * Padding as the original suggests: a piece with padding keeps it; a piece of a token (pieces
 * joined by dots, as a JWT's) stays bare; a cookie of one piece whose length is a multiple of
 * four is written padded, as most encoders do and strict decoders want.
 */
const padLike = (encoded: string, like: string, inToken: boolean): string =>
  like.endsWith('=') || (!inToken && like.length % 4 === 0) ? encoded : encoded.replace(/=+$/, '');

const ENCODINGS: readonly Encoding[] = [
  { decode: (piece) => piece, encode: (text) => text },
  {
    decode: (piece) => (/^[A-Za-z0-9+/]+={0,2}$/.test(piece) && piece.length % 4 !== 1 ? Buffer.from(piece, 'base64').toString('utf8') : undefined),
    encode: (text, like, inToken) => padLike(Buffer.from(text).toString('base64'), like, inToken),
  },
  {
    decode: (piece) => (/^[A-Za-z0-9_-]+={0,2}$/.test(piece) && piece.length % 4 !== 1 ? Buffer.from(piece, 'base64url').toString('utf8') : undefined),
    encode: (text, like, inToken) => padLike(Buffer.from(text).toString('base64').replaceAll('+', '-').replaceAll('/', '_'), like, inToken),
  },
  {
    decode: (piece) => (/^(?:[0-9a-f]{2})+$/i.test(piece) ? Buffer.from(piece, 'hex').toString('utf8') : undefined),
    encode: (text, like) => (/[A-F]/.test(like) ? Buffer.from(text).toString('hex').toUpperCase() : Buffer.from(text).toString('hex')),
  },
];

/** One piece of a cookie with `from` written over as `to`, in the first encoding that shows `from`; the piece itself when none does. */
function editPiece(piece: string, from: string, to: string, inToken: boolean): string {
  for (const encoding of ENCODINGS) {
    const text = encoding.decode(piece);
    if (text === undefined || !readable(text) || !text.includes(from)) continue;
    // Only a faithful reading: decoding and encoding again gives the piece back.
    if (encoding.encode(text, piece, inToken) !== piece) continue;
    return encoding.encode(text.replaceAll(from, to), piece, inToken);
  }
  return piece;
}

/** A cookie's value edited: URL-encoded or not, each dot-separated piece read as text (plain, base64, base64url or hex). */
function editValue(value: string, from: string, to: string): string {
  const edit = (text: string) => {
    const pieces = text.split('.');
    return pieces.map((piece) => editPiece(piece, from, to, pieces.length > 1)).join('.');
  };
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    /* not URL-encoded */
  }
  if (decoded === value) return edit(value);
  const edited = edit(decoded);
  return edited === decoded ? value : encodeURIComponent(edited);
}

/**
 * Bob's cookies, edited as a visitor could edit them in the browser: "bob" becomes "alice"
 * wherever it can be read, in plain text, URL-encoded, or in any dot-separated piece written in
 * base64, base64url or hex (a session id a worker keeps, a JSON payload, a token's body). A
 * signature, where there is one, is left as it was: a worker that checks it refuses the edit.
 */
export function forgedFrom(ctx: CheckContext, from: string, to: string): string {
  const cookies = ctx.visitor(from).jar.serializeSync()?.cookies ?? [];
  return cookies.map((c) => `${c.key}=${editValue(String(c.value ?? ''), from, to)}`).join('; ');
}

/** A cookie header an attacker made from someone's cookies, and what she did, for a message. */
export interface Forgery {
  readonly what: string;
  readonly cookie: string;
}

/**
 * `from`'s cookies edited where they identify him without his name: one number in them moved to
 * its neighbours' (the session before his, the one after) or to the first ids, or an unkeyed
 * digest of one of `pairs`' first values (his name) replaced by the same digest of the second
 * (another customer's). The other cookies are sent as they were.
 */
export function editedFrom(ctx: CheckContext, from: string, pairs: ReadonlyArray<readonly [string, string]>): Forgery[] {
  const cookies = (ctx.visitor(from).jar.serializeSync()?.cookies ?? []).map((c) => ({ key: String(c.key ?? ''), value: String(c.value ?? '') }));
  const forgeries: Forgery[] = [];
  cookies.forEach((cookie, i) => {
    if (cookie.key.endsWith('.sig')) return;
    for (const edit of [...digestSwaps(cookie.value, pairs), ...shiftedNumbers(cookie.value)]) {
      const header = cookies.map((c, j) => `${c.key}=${j === i ? edit.value : c.value}`).join('; ');
      forgeries.push({ what: `${from}'s cookie "${cookie.key}" with ${edit.what}`, cookie: header });
    }
  });
  return forgeries;
}

/** The cookies of `visitor` (signed in as `from`), bit-flipped to read `to` (cookie-edits.ts flippedCookies), as Cookie headers. */
export function flippedFrom(ctx: CheckContext, visitor: string, from: string, to: string): Forgery[] {
  const cookies = (ctx.visitor(visitor).jar.serializeSync()?.cookies ?? []).map((c) => ({ key: String(c.key ?? ''), value: String(c.value ?? '') }));
  return flippedCookies(cookies, from, to).map((flip) => ({ what: flip.what, cookie: flip.cookies.map((c) => `${c.key}=${c.value}`).join('; ') }));
}

export function briefOf(json: unknown): string | undefined {
  const body = json as Record<string, unknown>;
  if (Array.isArray(body.products)) {
    return body.products.map((p: Product) => `${p.name} ${euros(p.price)} (${p.stock} left)`).join(', ');
  }
  if (Array.isArray(body.orders)) return `${String(body.name)}: orders ${body.orders.map((o: { id?: unknown }) => `#${String(o?.id)}`).join(' ')}`;
  if (typeof body.order === 'number') return `order #${body.order}: ${String(body.product)}`;
  if (typeof body.name === 'string') return `signed in as ${body.name}`;
  return undefined;
}
