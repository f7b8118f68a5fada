// The shop's products, as lessons 1 and 5 seed and read them.
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../check/expect.ts';
import type { Reply } from '../check/visitor.ts';

export interface Product {
  readonly id: number;
  readonly name: string;
  /** In cents. */
  readonly price: number;
}

export const SEED_PRODUCTS: readonly Product[] = [
  { id: 1, name: 'Green tea', price: 450 },
  { id: 2, name: 'Oat milk', price: 239 },
  { id: 3, name: 'Rye bread', price: 380 },
];

/** Products a corner shop sells, with a usual price in cents: runs draw their shelves from here. */
const SHELF: readonly (readonly [string, number])[] = [
  ['Green tea', 450], ['Oat milk', 239], ['Rye bread', 380], ['Honey', 620], ['Sourdough', 520], ['Oolong', 790],
  ['Espresso beans', 1150], ['Almond butter', 870], ['Fish & chips', 990], ['Mac & cheese', 560], ['Oat flakes', 310],
  ['Dark chocolate', 275], ['Apple juice', 199], ['Sparkling water', 129], ['Butter', 345], ['Free-range eggs', 415],
  ['Goat cheese', 689], ['Basmati rice', 429], ['Olive oil', 1049], ['Tomato passata', 189], ['Salt & pepper crisps', 159],
  ['Earl Grey', 520], ['Rooibos', 480], ['Cinnamon buns', 640],
];

/**
 * A run's shelf, drawn from the seed: `count` different products, ids that are not 1, 2, 3 every
 * time, prices near the usual ones. Names may hold characters a page must escape ("&").
 */
export function drawProducts(random: () => number, count = 3): Product[] {
  const pool = [...SHELF];
  const products: Product[] = [];
  let id = 1 + Math.floor(random() * 40);
  for (let i = 0; i < count && pool.length > 0; i++) {
    const [name, usual] = pool.splice(Math.floor(random() * pool.length), 1)[0]!;
    const price = Math.max(99, Math.round((usual * (0.8 + random() * 0.4)) / 10) * 10 - (random() < 0.5 ? 1 : 0));
    products.push({ id, name, price });
    id += 1 + Math.floor(random() * 6);
  }
  return products;
}

/** A price that differs from `price`, as the stock team might set it: drawn from the seed. */
export function otherPrice(random: () => number, price: number): number {
  for (;;) {
    const next = Math.max(99, Math.round((price * (0.6 + random() * 0.8)) / 10) * 10 - 1);
    if (next !== price) return next;
  }
}

/**
 * `name` with two neighbouring small letters swapped, drawn from the seed: what a typo in the
 * stock team's script makes of it ("Oat milk" as "Oat mlik"). The new name has the same length
 * and the same letters: a summary of the table (its rows, its totals, the length of its names)
 * stays as it was.
 */
export function withLettersSwapped(random: () => number, name: string): string {
  const spots: number[] = [];
  for (let i = 1; i + 1 < name.length; i++) {
    if (/\p{Ll}/u.test(name[i]!) && /\p{Ll}/u.test(name[i + 1]!) && name[i] !== name[i + 1]) spots.push(i);
  }
  const at = spots[Math.floor(random() * spots.length)];
  // A name with no two different small letters side by side (none on the shelf): its first letter's case.
  if (at === undefined) return (name[0] === name[0]!.toUpperCase() ? name[0]!.toLowerCase() : name[0]!.toUpperCase()) + name.slice(1);
  return name.slice(0, at) + name[at + 1]! + name[at]! + name.slice(at + 2);
}

/** Create the products table in `file` and fill it with `products` (the fixed seed products by default). */
export function seedProducts(file: string, products: readonly Product[] = SEED_PRODUCTS): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO products (id, name, price) VALUES (?, ?, ?)');
    for (const p of products) insert.run(p.id, p.name, p.price);
  } finally {
    db.close();
  }
}

/**
 * The answer's body and its "products" list, failing with the expected shape when it is not
 * a list of {id, name, price}. `shape` names the whole answer, e.g. `{"shop": "...", "products": [...]}`.
 */
export function readProducts(reply: Reply, shape = '{"products": [...]}'): { body: Record<string, unknown> | null; products: Product[] } {
  const body = expectJson(reply, `JSON like ${shape}`) as Record<string, unknown> | null;
  const products = body?.products;
  const valid =
    Array.isArray(products) &&
    products.every((p) => p && typeof p.id === 'number' && typeof p.name === 'string' && typeof p.price === 'number');
  if (!valid) {
    fail({
      expected: `JSON like ${shape.replace('[...]', '[{"id", "name", "price"}]')} from ${describe(reply)}`,
      got: reply.body,
      diagnosis: 'Keep the answer\'s shape: "products" is the list of rows, each with id, name and price (in cents).',
    });
  }
  return { body, products: products as Product[] };
}

/** The products in the database `file`, by id: what a fresh read must show. */
export function productsIn(file: string): Product[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, name, price FROM products ORDER BY id').all() as Product[];
  } finally {
    db.close();
  }
}

/** A price in cents as pages show it: 450 → "4.50". */
export function priceText(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** What a page shows for one product: missing, or the price shown next to its name. */
export type OnPage = { readonly shown: true; readonly price: string } | { readonly shown: false; readonly price?: string };

/**
 * How the page text `text` (as `pageText` reads it) shows `product`: its name, then its price
 * after it on the same line (before any other product's name). Shown only when the price is the
 * product's; `price` is the one found next to the name, if any.
 */
export function productOnPage(text: string, product: Product, others: readonly Product[] = []): OnPage {
  const want = priceText(product.price);
  let seen: string | undefined;
  for (let at = text.indexOf(product.name); at >= 0; at = text.indexOf(product.name, at + 1)) {
    let rest = text.slice(at + product.name.length).split('\n')[0]!.slice(0, 60);
    for (const other of others) {
      if (other.name === product.name || other.name.includes(product.name)) continue;
      const cut = rest.indexOf(other.name);
      if (cut >= 0) rest = rest.slice(0, cut);
    }
    const price = /(?<![\d.])\d+\.\d\d(?!\d)/.exec(rest)?.[0];
    if (price === want) return { shown: true, price };
    seen ??= price;
  }
  return seen === undefined ? { shown: false } : { shown: false, price: seen };
}
