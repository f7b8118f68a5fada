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

/** Create the products table in `file` and fill it with the seed products. */
export function seedProducts(file: string): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO products (id, name, price) VALUES (?, ?, ?)');
    for (const p of SEED_PRODUCTS) insert.run(p.id, p.name, p.price);
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
