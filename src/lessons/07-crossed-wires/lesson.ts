import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { inTurn, LET_TIME_PASS_MS, settle } from '../waiting.ts';

interface Customer {
  readonly id: number;
  readonly name: string;
  readonly fullName: string;
  readonly address: string;
  readonly orders: readonly number[];
}

const CUSTOMERS: readonly Customer[] = [
  { id: 1, name: 'alice', fullName: 'Alice Martin', address: '12 Rue des Lilas, Lyon', orders: [1001, 1004] },
  { id: 2, name: 'bob', fullName: 'Bob Okafor', address: '4 Harbour Lane, Leith', orders: [1002] },
];
const ORDERS = [
  { id: 1001, customer: 1, item: 'Green tea', total: 900 },
  { id: 1002, customer: 2, item: 'Oat milk', total: 239 },
  { id: 1004, customer: 1, item: 'Honey', total: 620 },
];

const customer = (name: string) => CUSTOMERS.find((c) => c.name === name)!;
/** The one worker of this lesson (with --workers N the check still talks to worker 1 only). */
const WORKER = 1;

/** What it means when `victim`'s page shows `other`'s details. */
const crossed = (victim: string, other: string) =>
  `${victim}'s request and ${other}'s were in the same worker at once: one was still waiting (for the audit log, then the warehouse) when the other arrived. ` +
  `The customer the app keeps in module scope (\`currentCustomer\`, or anything keyed by what every visitor shares) was replaced meanwhile, and ${victim}'s code read ${other}'s after its await. ` +
  'Keep the customer with the request itself: `req.customer`, `res.locals.customer`, or an AsyncLocalStorage.';

async function signIn(ctx: CheckContext, name: string): Promise<void> {
  const reply = await settle(ctx, WORKER, () => ctx.visitor(name).post('/login', { name }, { worker: WORKER }));
  expectJson(reply, `JSON like {"name": "${name}"}`);
}

/** Demand that `reply` is `name`'s own account page, and nobody else's. */
function expectAccount(reply: Reply, name: string): void {
  const want = customer(name);
  const body = expectJson(reply, `JSON like {"name", "fullName", "address", "orders"}`) as Record<string, unknown>;
  const orders = Array.isArray(body.orders) ? body.orders.map((o: { id?: unknown }) => o?.id) : undefined;
  const shown = `${JSON.stringify(body.name)}, ${JSON.stringify(body.address)}, orders ${JSON.stringify(orders)}`;
  const right =
    body.name === want.name && body.fullName === want.fullName && body.address === want.address && JSON.stringify(orders) === JSON.stringify(want.orders);
  if (right) return;
  // Whose details leaked into the page, by any of them: name, address or an order.
  const other = CUSTOMERS.find(
    (c) => c !== want && (body.name === c.name || body.fullName === c.fullName || body.address === c.address || c.orders.some((id) => orders?.includes(id))),
  );
  fail({
    expected: `${name}'s own account (${want.name}, ${JSON.stringify(want.address)}, orders ${JSON.stringify(want.orders)}) from ${describe(reply)}`,
    got: other ? `${other.name}'s details: ${shown}` : shown,
    diagnosis: other ? crossed(name, other.name) : "Keep the answer's shape: the signed-in customer's name, fullName, address and orders.",
  });
}

/**
 * Send each visitor's account request in turn, each only once the ones before are parked in an
 * await (or answered), then let the network calls finish. Returns the replies in the same order.
 */
async function overlapping(ctx: CheckContext, names: readonly string[]): Promise<Reply[]> {
  const { requests, progress } = await inTurn(
    ctx,
    names.map((name) => ({ worker: WORKER, send: () => ctx.visitor(name).get('/api/account', { worker: WORKER }) })),
  );
  if (progress[0] === 'answered') {
    const reply = await requests[0].reply;
    fail({
      expected: `${names[0]}'s request to wait for the audit log and the warehouse, as it does on the real host`,
      got: `an answer at once: ${reply.status} ${reply.body}`,
      diagnosis:
        'The check needs each page to wait for its network calls, as it would in production. Keep `await writeAuditLog(...)` and `await fetchOrders(...)`: the fix is where the customer is kept, not whether the app waits.',
    });
  }
  const stuck = progress.indexOf('stuck');
  if (stuck >= 0) {
    const name = names[stuck];
    const earlier = names.slice(0, stuck);
    const waiting = progress.filter((p) => p === 'waiting').length;
    fail({
      expected: earlier.length
        ? `${name}'s request to go ahead while ${earlier.join(' and ')}'s ${earlier.length > 1 ? 'were' : 'was'} waiting`
        : `${name}'s request to reach its first network call`,
      got: `no progress within 1.5 s (${waiting} request${waiting === 1 ? '' : 's'} waiting on the network)`,
      diagnosis: earlier.length
        ? `Requests in this worker take turns: ${name}'s waits until ${earlier.join(' and ')}'s is done. A lock or queue around each request makes Node a one-request-at-a-time worker again, and one slow page then stalls every visitor. Keep the customer per request instead.`
        : 'The request never got to the audit log. Does every middleware call next()?',
    });
  }
  await ctx.advanceClock(LET_TIME_PASS_MS);
  return Promise.all(requests.map((r) => r.reply));
}

const lesson: Lesson = {
  number: 7,
  slug: '07-crossed-wires',
  title: 'Crossed wires',
  track: 'advanced',
  summary: "Alice opens her account page and sees Bob's name and address.",
  file: 'app.js',
  text: () => markdown(import.meta.url, 'text.md'),
  why: () => markdown(import.meta.url, 'why.md'),
  hints: [
    'Follow `currentCustomer` through one request: the middleware sets it, then the request waits (`await writeAuditLog`, `await fetchOrders`). While it waits, the same worker runs the middleware for the next visitor. Which value does the first handler read when it resumes?',
    "Copying `currentCustomer` into a local variable does not help: by the time the handler starts, the audit log's await has already let another request overwrite it. The customer must travel with the request from the moment the middleware finds it.",
    'In the middleware, write `req.customer = findCustomer.get(...)` (or `res.locals.customer = ...`), and read `req.customer` everywhere `currentCustomer` was read. If code far from the request needs it, `AsyncLocalStorage` from `node:async_hooks` keeps a value per request across awaits.',
  ],
  workers: 1,
  mode: 'concurrent',
  clock: 'manual',
  brief(json) {
    const body = json as Record<string, unknown>;
    if (Array.isArray(body.orders)) {
      return `${String(body.name)} (${String(body.address)}), orders ${body.orders.map((o: { id?: unknown }) => `#${String(o?.id)}`).join(' ')}`;
    }
    if (typeof body.name === 'string') return `signed in as ${body.name}`;
    return undefined;
  },
  seed(dir) {
    const file = path.join(dir, 'shop.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, full_name TEXT NOT NULL, address TEXT NOT NULL);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), item TEXT NOT NULL, total INTEGER NOT NULL);
      CREATE TABLE audit_log (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, path TEXT NOT NULL, at TEXT NOT NULL);
    `);
    const addCustomer = db.prepare('INSERT INTO customers (id, name, full_name, address) VALUES (?, ?, ?, ?)');
    for (const c of CUSTOMERS) addCustomer.run(c.id, c.name, c.fullName, c.address);
    const addOrder = db.prepare('INSERT INTO orders (id, customer_id, item, total) VALUES (?, ?, ?, ?)');
    for (const o of ORDERS) addOrder.run(o.id, o.customer, o.item, o.total);
    db.close();
    return { SHOP_DB: file, COOKIE_SECRET: randomBytes(16).toString('hex') };
  },
  steps: [
    {
      title: 'alice signs in and sees her own account page',
      async run(ctx) {
        await signIn(ctx, 'alice');
        const reply = await settle(ctx, WORKER, () => ctx.visitor('alice').get('/api/account', { worker: WORKER }));
        expectAccount(reply, 'alice');
      },
    },
    {
      title: "bob's page, opened while alice's is loading, shows bob, and alice's shows alice",
      async run(ctx) {
        await signIn(ctx, 'bob');
        const [alice, bob] = await overlapping(ctx, ['alice', 'bob']);
        expectAccount(alice, 'alice');
        expectAccount(bob, 'bob');
      },
    },
    {
      title: 'alice, a visitor who has not signed in, and bob at once: each gets their own answer',
      async run(ctx) {
        const [alice, carol, bob] = await overlapping(ctx, ['alice', 'carol', 'bob']);
        expectAccount(alice, 'alice');
        if (carol.status !== 401) {
          fail({
            expected: `401 "Sign in first" for carol, who never signed in, from ${describe(carol)}`,
            got: `${carol.status}: ${carol.body}`,
            diagnosis:
              "carol's request went ahead as if someone were signed in. Some check still reads a module-level variable that another request set meanwhile: every place that asks \"who is this?\" must ask the request itself.",
          });
        }
        expectAccount(bob, 'bob');
      },
    },
  ],
};

export default lesson;
