// The shop's customers as a run's seed draws them, and what the check demands of every answer
// about them: the account in JSON, the account page, and the audit log the app keeps.
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import { formsOf, pageText, type Reply } from '../../check/visitor.ts';
import type { AppTrack, CheckContext } from '../types.ts';
import { drawProducts } from '../products.ts';

export interface Order {
  readonly id: number;
  readonly item: string;
  readonly total: number;
}

export interface Customer {
  readonly id: number;
  /** The name a customer signs in with (the demo's shortcut: no password). */
  readonly name: string;
  readonly fullName: string;
  readonly address: string;
  readonly orders: readonly Order[];
}

const SURNAMES = ['Martin', 'Okafor', 'Nowak', 'Rossi', 'Haddad', 'Lindqvist', "O'Brien", 'Tanaka', 'García', 'Dubois', 'Kowalczyk', 'Mensah'];
const STREETS = ['12 Rue des Lilas, Lyon', '4 Harbour Lane, Leith', '9 Kastanienallee, Berlin', '221 Mill Road, Cambridge', '3 Via Roma, Bologna', '17 Canal Street & Quay, Dublin', '58 Elm Row, Bath', '2 Calle Mayor, Toledo'];

/** alice and bob, their addresses and orders drawn from the run's seed. */
export function drawCustomers(random: () => number): Customer[] {
  const pick = <T>(list: T[]) => list.splice(Math.floor(random() * list.length), 1)[0]!;
  const surnames = [...SURNAMES];
  const streets = [...STREETS];
  const products = drawProducts(random, 5);
  let orderId = 1000 + Math.floor(random() * 8000);
  const customers: Customer[] = [];
  for (const [id, name, count] of [[1, 'alice', 2 + Math.floor(random() * 2)], [2, 'bob', 1 + Math.floor(random() * 2)]] as const) {
    const orders: Order[] = [];
    for (let i = 0; i < count; i++) {
      const product = products.shift()!;
      orderId += 1 + Math.floor(random() * 5);
      orders.push({ id: orderId, item: product.name, total: product.price });
    }
    customers.push({ id, name, fullName: `${name[0]!.toUpperCase()}${name.slice(1)} ${pick(surnames)}`, address: pick(streets), orders });
  }
  return customers;
}

export function seedShop(file: string, customers: readonly Customer[]): void {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL, address TEXT NOT NULL);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), item TEXT NOT NULL, total INTEGER NOT NULL);
      CREATE TABLE audit_log (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, path TEXT NOT NULL, at TEXT NOT NULL);
    `);
    const addCustomer = db.prepare('INSERT INTO customers (id, name, full_name, address) VALUES (?, ?, ?, ?)');
    const addOrder = db.prepare('INSERT INTO orders (id, customer_id, item, total) VALUES (?, ?, ?, ?)');
    for (const c of customers) {
      addCustomer.run(c.id, c.name, c.fullName, c.address);
      for (const o of c.orders) addOrder.run(o.id, c.id, o.item, o.total);
    }
  } finally {
    db.close();
  }
}

/** The customers of this run, as the check seeded them. */
export function customersOf(ctx: CheckContext): Customer[] {
  const db = new Database(ctx.env.SHOP_DB, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, name, full_name AS fullName, address FROM customers ORDER BY id').all() as Omit<Customer, 'orders'>[];
    const orders = db.prepare('SELECT id, item, total FROM orders WHERE customer_id = ? ORDER BY id');
    return rows.map((c) => ({ ...c, orders: orders.all(c.id) as Order[] }));
  } finally {
    db.close();
  }
}

/** How the fix is said on each track. */
const keepWithRequest = (track: AppTrack) =>
  track === 'flask'
    ? 'Keep the customer with the request itself: `flask.g` (`g.customer`), which belongs to one request on whichever thread serves it.'
    : 'Keep the customer with the request itself: `req.customer`, `res.locals.customer`, or an AsyncLocalStorage.';

/** What it means when `victim`'s answer shows `other`'s details (or nobody's). */
export const crossed = (victim: string, other: string, where: string, track: AppTrack = 'node') =>
  track === 'flask'
    ? `${victim}'s request for ${where} and ${other}'s were in the same worker at once, on two of its threads: ${victim}'s was waiting on the network (the audit log, then the warehouse) when ${other}'s arrived. ` +
      `The customer the app keeps in module scope (\`current_customer\`, or anything keyed by what every visitor shares) was replaced meanwhile, and ${victim}'s view read ${other}'s after its wait. ` +
      keepWithRequest(track)
    : `${victim}'s request for ${where} and ${other}'s were in the same worker at once: ${victim}'s was parked at an await (the audit log, then the warehouse) when ${other}'s arrived. ` +
      `The customer the app keeps in module scope (\`currentCustomer\`, or anything keyed by what every visitor shares) was replaced meanwhile, and ${victim}'s code read ${other}'s after its await. ` +
      keepWithRequest(track);

const signedOutMeanwhile = (victim: string, track: AppTrack) =>
  `${victim} is signed in (the sign-in cookie came with the request), yet the answer treats ${victim} as signed out. While that request was ${track === 'flask' ? 'waiting on the network, another thread served' : 'parked at an await,'} a request from someone not signed in (or signing in or out: every request goes through ${track === 'flask' ? 'before_request' : 'the middleware'}) ${track === 'flask' ? 'and ' : ''}replaced the customer kept in module scope. ` +
  keepWithRequest(track);

/** Whose details, other than `want`'s, appear in `text`. */
function leaked(customers: readonly Customer[], want: Customer | undefined, text: string): Customer | undefined {
  return customers.find((c) => c !== want && (text.includes(c.fullName) || text.includes(c.address) || c.orders.some((o) => new RegExp(`\\b${o.id}\\b`).test(text))));
}

/** Demand that `reply` (GET /api/account) is `name`'s own account in JSON, and nobody else's. */
export function expectAccount(customers: readonly Customer[], reply: Reply, name: string, track: AppTrack = 'node'): void {
  const want = customers.find((c) => c.name === name)!;
  if (reply.status === 401) {
    fail({ expected: `${name}'s own account from ${describe(reply)}`, got: `401: ${reply.body}`, diagnosis: signedOutMeanwhile(name, track) });
  }
  const body = expectJson(reply, `JSON like {"name", "fullName", "address", "orders"}`) as Record<string, unknown>;
  const orders = Array.isArray(body.orders) ? body.orders.map((o: { id?: unknown }) => o?.id) : undefined;
  const shown = `${JSON.stringify(body.name)}, ${JSON.stringify(body.address)}, orders ${JSON.stringify(orders)}`;
  const wanted = want.orders.map((o) => o.id);
  const right = body.name === want.name && body.fullName === want.fullName && body.address === want.address && JSON.stringify(orders) === JSON.stringify(wanted);
  if (right) return;
  const other = leaked(customers, want, JSON.stringify(body)) ?? customers.find((c) => c !== want && body.name === c.name);
  fail({
    expected: `${name}'s own account (${want.name}, ${JSON.stringify(want.address)}, orders ${JSON.stringify(wanted)}) from ${describe(reply)}`,
    got: other ? `${other.name}'s details: ${shown}` : shown,
    diagnosis: other ? crossed(name, other.name, '/api/account', track) : "Keep the answer's shape: the signed-in customer's name, fullName, address and orders.",
  });
}

/** Demand that `reply` (the page /) is `name`'s own account page, and shows nobody else's details. */
export async function expectAccountPage(customers: readonly Customer[], reply: Reply, name: string, track: AppTrack = 'node'): Promise<void> {
  const want = customers.find((c) => c.name === name)!;
  const text = reply.status === 200 ? (await pageText(reply.text)).replace(/^<!doctype html>\s*/i, '') : '';
  const missing = [want.fullName, want.address, ...want.orders.map((o) => `#${o.id}`)].filter((part) => !text.includes(part));
  const other = leaked(customers, want, text);
  if (!missing.length && !other) return;
  const signInForm = (await formsOf(reply.text)).some((f) => /\/login$/.test(f.action));
  fail({
    expected: `${name}'s own account page (${want.fullName}, ${want.address}, orders ${want.orders.map((o) => `#${o.id}`).join(' ')}) from ${describe(reply)}`,
    got: other ? `${other.name}'s details on it: "${text.slice(0, 140)}"` : signInForm ? `the sign-in form, as if ${name} had signed out` : reply.status === 200 ? `"${text.slice(0, 140)}"` : `status ${reply.status}: ${reply.body}`,
    diagnosis: other ? crossed(name, other.name, 'the page (/)', track) : signInForm ? signedOutMeanwhile(name, track) : "Show the signed-in customer's full name, address and orders (#id) on the page.",
  });
}

/** Demand the sign-in page, with no customer's details, for a visitor who is not signed in. */
export async function expectSignInPage(customers: readonly Customer[], reply: Reply): Promise<void> {
  const text = reply.status === 200 ? (await pageText(reply.text)).replace(/^<!doctype html>\s*/i, '') : '';
  const other = leaked(customers, undefined, text);
  const form = (await formsOf(reply.text)).some((f) => /\/login$/.test(f.action));
  if (form && !other) return;
  fail({
    expected: `the sign-in form, and nobody's details, for ${reply.visitor}, who is not signed in, from ${describe(reply)}`,
    got: other ? `${other.name}'s account: "${text.slice(0, 140)}"` : reply.status === 200 ? `"${text.slice(0, 140)}"` : `status ${reply.status}: ${reply.body}`,
    diagnosis: other
      ? `${reply.visitor} is not signed in, yet saw ${other.name}'s account: the page found a customer kept in module scope (set by another request meanwhile, or left over from an earlier one) instead of asking the request itself. Every place that asks "who is this?" must ask the request, and a request without a sign-in cookie has no customer.`
      : "A visitor who is not signed in must get the page's sign-in form (posting to /login).",
  });
}

/** The audit log's last entry id: read before a step, to read back what the step adds. */
export function auditMark(ctx: CheckContext): number {
  const db = new Database(ctx.env.SHOP_DB, { readonly: true });
  try {
    return (db.prepare('SELECT coalesce(max(id), 0) FROM audit_log').pluck().get() as number) ?? 0;
  } finally {
    db.close();
  }
}

/**
 * Demand that the page views since `mark` went to the audit log each under the right customer:
 * `expected` lists [customer or 'anonymous', path] for every GET the step sent, in any order.
 */
export function expectAudit(ctx: CheckContext, mark: number, expected: readonly (readonly [string, string])[], wrongCustomer?: string): void {
  const db = new Database(ctx.env.SHOP_DB, { readonly: true });
  let rows: { customer: string; path: string }[];
  try {
    rows = db.prepare('SELECT customer, path FROM audit_log WHERE id > ? ORDER BY id').all(mark) as typeof rows;
  } finally {
    db.close();
  }
  const key = ([customer, path]: readonly [string, string]) => `${customer} ${path}`;
  const got = rows.map((r) => key([r.customer, r.path])).sort();
  const want = expected.map(key).sort();
  if (JSON.stringify(got) === JSON.stringify(want)) return;
  fail({
    expected: `the audit log to name who viewed each page: ${want.join('; ')}`,
    got: got.length ? got.join('; ') : 'no entries',
    diagnosis:
      got.length === want.length
        ? (wrongCustomer ?? 'The pages were right, but the audit log names the wrong customer for some of them. Whatever writes the log still reads a customer kept in module scope (or a module-level logger context) after an await, by which time another request has replaced it. Pass the request\'s own customer to the audit log.')
        : 'Every page view (every GET) must go to the audit log once, under the customer who asked (or "anonymous"): keep the audit middleware as it is.',
  });
}
