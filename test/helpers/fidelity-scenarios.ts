// What each lesson's bug looks like on a real host (node:cluster, 3 workers, a new connection
// per request), played with only what such a host allows: people asking over fresh connections
// (the primary hands each to the next worker), the shop's staff editing the database, the
// machine's clock. Each scenario says whether the lesson's bug showed, and what was seen.
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ClusterRun } from './cluster-run.ts';
import { Person } from './fresh-http.ts';

export interface Seen {
  /** The lesson's bug showed. */
  readonly bug: boolean;
  /** What the people saw, for the test's message. */
  readonly evidence: string;
}

/** How many fresh connections a person opens to be sure to have met every worker twice. */
const ROUNDS = 6;

interface Product {
  readonly id: number;
  readonly price: number;
}

function editSqlite(file: string, sql: string, ...params: unknown[]): void {
  const db = new Database(file);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** `ask` once per round, in turn (each over a fresh connection, so on the next worker). */
async function inTurn<T>(ask: () => Promise<T>, rounds = ROUNDS): Promise<T[]> {
  const seen: T[] = [];
  for (let i = 0; i < rounds; i++) seen.push(await ask());
  return seen;
}

const pricesOf = async (person: Person, id: number) =>
  inTurn(async () => (await person.json<{ products: Product[] }>('/api/products')).products.find((p) => p.id === id)?.price);

/** 1. A price the stock team changes in the database must show on every worker at once. */
export async function frozenAtStartup(run: ClusterRun): Promise<Seen> {
  const shopper = new Person('dora', run.port);
  const [first] = (await shopper.json<{ products: Product[] }>('/api/products')).products;
  const price = first!.price + 37;
  editSqlite(run.env.SHOP_DB!, 'UPDATE products SET price = ? WHERE id = ?', price, first!.id);
  const seen = await pricesOf(shopper, first!.id);
  return { bug: seen.some((p) => p !== price), evidence: `price set to ${price}; the workers answered ${seen.join(', ')}` };
}

type Basket = { items: string[] };

/** 2. Bob, a new visitor, must never see the item Alice put in her basket. */
export async function everyonesList(run: ClusterRun): Promise<Seen> {
  const alice = new Person('alice', run.port);
  const added = await alice.post('/api/basket', { item: 'oolong' });
  if (added.status !== 201) throw new Error(`alice's POST answered ${added.status}: ${added.body}`);
  const bob = new Person('bob', run.port);
  const seen = await inTurn(async () => (await bob.json<Basket>('/api/basket')).items);
  return { bug: seen.some((items) => items.includes('oolong')), evidence: `bob's basket, asked ${ROUNDS} times: ${JSON.stringify(seen)}` };
}

/** 3. An item Alice adds must be in her basket whichever worker answers next. */
export async function twoWorkersTwoLists(run: ClusterRun): Promise<Seen> {
  const alice = new Person('alice', run.port);
  await alice.json<Basket>('/api/basket'); // her visitor cookie first, as a browser gets it with the page
  const added = await alice.post('/api/basket', { item: 'tea' });
  if (added.status !== 201) throw new Error(`alice's POST answered ${added.status}: ${added.body}`);
  const seen = await inTurn(async () => (await alice.json<Basket>('/api/basket')).items);
  return { bug: seen.some((items) => !items.includes('tea')), evidence: `alice's basket after adding tea: ${JSON.stringify(seen)}` };
}

/** 4. Alice, logged in once, must stay logged in whichever worker answers. */
export async function loggedOutAtRandom(run: ClusterRun): Promise<Seen> {
  const alice = new Person('alice', run.port);
  const login = await alice.post('/api/login', { name: 'alice', password: 'wonderland' });
  if (login.status !== 200) throw new Error(`alice's login answered ${login.status}: ${login.body}`);
  const seen = await inTurn(async () => (await alice.json<{ user: string | null }>('/api/me')).user);
  return { bug: seen.some((user) => user !== 'alice'), evidence: `/api/me after alice logged in: ${JSON.stringify(seen)}` };
}

/** 5. A price changed through the app must show on every worker, not only the one that made the change. */
export async function theCacheThatLies(run: ClusterRun): Promise<Seen> {
  const staff = new Person('staff', run.port);
  const [first] = (await staff.json<{ products: Product[] }>('/api/products')).products;
  await pricesOf(staff, first!.id); // every worker has read the prices (and kept its copy)
  const price = first!.price + 41;
  const changed = await staff.post('/api/admin/price', { id: first!.id, price });
  if (changed.status !== 200) throw new Error(`the price change answered ${changed.status}: ${changed.body}`);
  const seen = await pricesOf(new Person('dora', run.port), first!.id);
  return { bug: seen.some((p) => p !== price), evidence: `price changed to ${price}; the workers answered ${seen.join(', ')}` };
}

/** 6. Thirty buyers at once for the last teapots: exactly the stock is sold. No lock is held: a real database. */
export async function lostUpdates(run: ClusterRun): Promise<Seen> {
  type Stock = { left: number; sold: number };
  const watcher = new Person('ops', run.port);
  const before = await watcher.json<Stock>('/api/stock');
  const buyers = Array.from({ length: 30 }, (_, i) => new Person(`buyer${i + 1}`, run.port));
  const answers = await Promise.all(buyers.map((b) => b.post('/api/buy', { buyer: b.name })));
  const bought = answers.filter((a) => a.status === 201).length;
  const after = await watcher.json<Stock>('/api/stock');
  const sold = after.sold - before.sold;
  const right = bought === before.left && sold === before.left && after.left === 0;
  return { bug: !right, evidence: `${before.left} teapots, 30 buyers: ${bought} told they bought one, ${sold} orders, ${after.left} left` };
}

/** 7. Alice's and Bob's account pages, asked at the same moments: each sees only their own. */
export async function crossedWires(run: ClusterRun): Promise<Seen> {
  const alice = new Person('alice', run.port);
  const bob = new Person('bob', run.port);
  for (const person of [alice, bob]) {
    const signedIn = await person.post('/login', { name: person.name });
    if (signedIn.status !== 200) throw new Error(`${person.name}'s sign-in answered ${signedIn.status}: ${signedIn.body}`);
  }
  const crossed: string[] = [];
  // Two rounds of six at once, alternating: the primary deals them out in turn, so each worker
  // gets one of alice's and one of bob's at the same moment.
  for (let round = 0; round < 2; round++) {
    const people = [alice, bob, alice, bob, alice, bob];
    const names = await Promise.all(people.map(async (p) => (await p.json<{ name: string }>('/api/account')).name));
    names.forEach((name, i) => name !== people[i]!.name && crossed.push(`${people[i]!.name} saw ${name}'s account`));
  }
  return { bug: crossed.length > 0, evidence: crossed.length ? crossed.join('; ') : '12 account pages, each its own' };
}

/** 9. The capstone: a price changed in the database, a signed-in customer, on every worker. */
export async function capstone(run: ClusterRun): Promise<Seen> {
  const alice = new Person('alice', run.port);
  const signedIn = await alice.post('/login', { name: 'alice' });
  if (signedIn.status !== 200) throw new Error(`alice's sign-in answered ${signedIn.status}: ${signedIn.body}`);
  const [first] = (await alice.json<{ products: Product[] }>('/api/products')).products;
  const price = first!.price + 53;
  editSqlite(run.env.SHOP_DB!, 'UPDATE products SET price = ? WHERE id = ?', price, first!.id);
  const prices = await pricesOf(alice, first!.id);
  const me = await inTurn(async () => (await alice.get('/api/me')).status);
  const problems = [
    ...(prices.some((p) => p !== price) ? [`price set to ${price}, the workers answered ${prices.join(', ')}`] : []),
    ...(me.some((s) => s !== 200) ? [`alice's /api/me answered ${me.join(', ')}`] : []),
  ];
  return { bug: problems.length > 0, evidence: problems.join('; ') || 'every worker showed the new price and knew alice' };
}

/** 8. One night's emails (subscribers, and who got how many), once the night's job has finished somewhere. */
export async function nightOfEmails(run: ClusterRun, deadline: number): Promise<Seen> {
  const log = new Database(run.env.SHOP_DB!, { readonly: true });
  const client = new pg.Client(run.env.DATABASE_URL);
  await client.connect();
  try {
    const runsLogged = () => log.prepare("SELECT count(*) FROM jobs_log WHERE job = 'daily-deals'").pluck().get() as number;
    const counts = async () =>
      (await client.query<{ recipient: string; n: number }>('SELECT recipient, count(*)::int AS n FROM outbox GROUP BY recipient ORDER BY recipient')).rows;
    const subscribers = (await client.query<{ email: string }>('SELECT email FROM subscribers')).rows.length;
    // The night's job is over once a process has logged its run: it logs after its last email.
    while (runsLogged() === 0) {
      if (Date.now() > deadline) throw new Error(`no process logged the night's run in time:\n${run.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sent = await counts();
    const evidence = `${subscribers} subscribers; emails: ${sent.map((r) => `${r.recipient} ×${r.n}`).join(', ')}; ${runsLogged()} run(s) logged`;
    return { bug: sent.length !== subscribers || sent.some((r) => r.n !== 1), evidence };
  } finally {
    await client.end();
    log.close();
  }
}
