// What an app's SQL statement reads, as SQLite plans it (src/lessons/statement-reads.ts): a race
// that holds a worker "after it read the products" must know it whatever the statement's shape.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { reads, statementReads, withoutParameters } from '../src/lessons/statement-reads.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'statement-reads-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'shop.db');
const db = new Database(file);
db.exec(`CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price INTEGER, stock INTEGER);
  CREATE TABLE catalogue_version (id INTEGER PRIMARY KEY, version INTEGER);
  CREATE VIEW shelf AS SELECT id, name, price FROM products;
  CREATE INDEX products_by_price ON products (price);`);
db.close();

test('a read of the products is seen through a view, a common table expression, an alias, a join and an index', () => {
  for (const sql of [
    'SELECT id, name, price FROM shelf ORDER BY id',
    'WITH rows AS (SELECT * FROM products) SELECT name FROM rows',
    'SELECT p.name FROM "products" AS p WHERE p.id = ?',
    'SELECT v.version, p.price FROM catalogue_version v CROSS JOIN products p',
    'SELECT price FROM products WHERE price > :least',
  ]) {
    assert.ok(reads(file, sql, 'products'), sql);
  }
  assert.equal(reads(file, 'SELECT version FROM catalogue_version WHERE id = 1', 'products'), false);
  // the columns read: the stock, or not
  assert.ok(reads(file, 'SELECT * FROM products WHERE id = $id', 'products', ['stock']));
  assert.equal(reads(file, 'SELECT name FROM shelf', 'products', ['stock']), false);
});

test('a statement SQLite cannot plan here answers the fallback; parameters are planned as NULL, quoted text left alone', () => {
  assert.equal(statementReads(file, 'SELECT n FROM a_table_made_elsewhere'), undefined);
  assert.equal(reads(file, 'SELECT n FROM a_table_made_elsewhere', 'products', undefined, true), true);
  assert.equal(withoutParameters("SELECT ?, ?2, :a, @b, $c, 'x?:y', \"q?\", x$y FROM t -- why?\n"), "SELECT NULL, NULL, NULL, NULL, NULL, 'x?:y', \"q?\", x$y FROM t -- why?\n");
});
