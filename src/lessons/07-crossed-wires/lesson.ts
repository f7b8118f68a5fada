import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expectJson, fail } from '../../check/expect.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext, Lesson } from '../types.ts';
import { markdown } from '../text.ts';
import { ANSWER_LIMIT_MS, answeredWithin, LET_TIME_PASS_MS, settle, together } from '../waiting.ts';
import { auditMark, customersOf, drawCustomers, expectAccount, expectAccountPage, expectAudit, expectSignInPage, seedShop } from './customers.ts';

/** The one worker of this lesson (with --workers N the check still talks to worker 1 only). */
const WORKER = 1;

/** alice and bob use browsers; bob is alice's office colleague (same network, same browser build). */
const alice = (ctx: CheckContext) => ctx.visitor('alice');
const bob = (ctx: CheckContext) => ctx.visitor('bob', { like: 'alice' });
/** carol has never signed in. */
const carol = (ctx: CheckContext) => ctx.visitor('carol', { like: 'alice' });
/** Programs calling the API (no browser, none of a browser's headers): bob's phone app, signed in as bob, and a price checker that never signs in. */
const bobsApp = (ctx: CheckContext) => ctx.visitor("bob's phone app", { kind: 'api' });
const priceChecker = (ctx: CheckContext) => ctx.visitor('a price checker', { kind: 'api' });

/** The simulated network calls of a request, as the exercise makes them: the audit log, then the warehouse. */
const AUDIT_MS = 20;
const WAREHOUSE_MS = 600;
/** A page or /api/account for someone signed in: the audit log, then the orders. */
const SIGNED_IN = [AUDIT_MS, WAREHOUSE_MS] as const;
/** A page or /api/account for someone not signed in: the audit log only. (A form posted makes no
 * call of its own; the browser then loads the page it is sent to.) */
const SIGNED_OUT = [AUDIT_MS] as const;

/** One request of a scenario: who sends it, what it is, how, and the network calls it makes alone. */
interface Turn {
  readonly who: string;
  /** What the request is, as a diagnosis names it ("page", "account", "sign-out"). */
  readonly what: string;
  readonly calls: readonly number[];
  send(): Promise<Reply>;
}

/** "bob's page", "alice's and carol's pages". */
const whose = (turns: readonly Turn[]) => turns.map((t) => `${t.who}'s ${t.what}`).join(' and ');

/**
 * Send each request in turn, each only once the ones before are parked in an await (or
 * answered), then let the network calls run, and `judge` the replies (in the same order). Each
 * request must also be answered in the time its own calls take, as when it is alone: a late one
 * fails the step once its answer has been judged (a wrong answer says more than a slow one).
 */
async function overlapping(ctx: CheckContext, turns: readonly Turn[], judge: (replies: Reply[]) => Promise<void>, options: { readonly atOnce?: boolean } = {}): Promise<void> {
  const names = turns.map((t) => t.who);
  const { requests, progress, late } = await together(
    ctx,
    turns.map((turn) => ({ worker: WORKER, send: turn.send, calls: turn.calls })),
    options,
  );
  if (progress[0] === 'answered') {
    const reply = await requests[0].reply;
    fail({
      expected: `${names[0]}'s request to wait for the audit log and the warehouse, as it does on the real host`,
      got: `an answer at once: ${reply.status} ${reply.body}`,
      diagnosis:
        ctx.track === 'flask'
          ? 'The check needs each page to wait for its network calls, as it would in production. Keep `write_audit_log(...)` and `fetch_orders(...)` as they are: the fix is where the customer is kept, not whether the app waits.'
          : 'The check needs each page to wait for its network calls, as it would in production. Keep `await writeAuditLog(...)` and `await fetchOrders(...)`: the fix is where the customer is kept, not whether the app waits.',
    });
  }
  const takingTurns = ctx.track === 'flask' ? 'A lock around each request (or a flag polled with time.sleep) makes the threaded worker serve one request at a time again' : 'A lock, queue or busy flag around each request makes Node a one-request-at-a-time worker again';
  const stuck = progress.indexOf('stuck');
  if (stuck >= 0) {
    const turn = turns[stuck]!;
    const earlier = turns.slice(0, stuck).filter((t) => t.who !== turn.who && t.calls.length);
    const waiting = progress.filter((p) => p === 'waiting').length;
    fail({
      expected: earlier.length
        ? `${turn.who}'s ${turn.what} to go ahead while ${whose(earlier)} ${earlier.length > 1 ? 'were' : 'was'} waiting`
        : `${turn.who}'s request to reach its first network call`,
      got: `no progress within 1.5 s (${waiting} request${waiting === 1 ? '' : 's'} waiting on the network)`,
      diagnosis: earlier.length
        ? `Requests in this worker take turns: ${turn.who}'s ${turn.what} waits until ${whose(earlier)} ${earlier.length > 1 ? 'are' : 'is'} done. ${takingTurns}, and one slow page then stalls every visitor. Keep the customer per request instead.`
        : 'The request never got to the audit log. Does every middleware call next()?',
    });
  }
  const unanswered = await answeredWithin(requests, ANSWER_LIMIT_MS);
  if (!unanswered.length) await judge(await Promise.all(requests.map((r) => r.reply)));
  const first = late[0] ?? (unanswered.length ? { index: requests.indexOf(unanswered[0]!), afterMs: LET_TIME_PASS_MS } : undefined);
  if (first) {
    const { index, afterMs } = first;
    const turn = turns[index]!;
    const before = turns.slice(0, index).filter((t) => t.calls.length);
    const alone = turn.calls.reduce((sum, ms) => sum + ms, 0);
    fail({
      expected: `${turn.who}'s ${turn.what} to be answered about ${alone} ms after it was sent, as when it is alone (${turn.calls.length > 1 ? 'the audit log, then the warehouse' : 'the audit log'}), while ${whose(before)} ${before.length > 1 ? 'were' : 'was'} loading too`,
      got: `no answer ${afterMs} ms after it was sent`,
      diagnosis: `Requests in this worker take turns: ${turn.who}'s ${turn.what} waited for ${whose(before)} to finish before its own network calls began. ${takingTurns}: nothing crosses any more, but one slow page stalls every visitor behind it. Keep the customer per request instead.`,
    });
  }
}

/** Sign in through the JSON API, as the page's own script would. */
async function signInByApi(ctx: CheckContext, who: ReturnType<typeof alice>, name = who.name): Promise<void> {
  const reply = await settle(ctx, WORKER, () => who.post('/login', { name }, { worker: WORKER }));
  expectJson(reply, `JSON like {"name": "${name}"}`);
}

/** A request from someone who never signed in must be refused. */
function notSignedIn(reply: Reply, who: string): void {
  if (reply.status !== 401) {
    fail({
      expected: `401 "Sign in first" for ${who}, who never signed in, from ${describe(reply)}`,
      got: `${reply.status}: ${reply.body}`,
      diagnosis: `${who}'s request went ahead as if someone were signed in. Some check still reads a module-level variable that another request set meanwhile: every place that asks "who is this?" must ask the request itself, whoever sends it (a browser, or a program calling the API).`,
    });
  }
}

/** Which of two orders a pair of requests goes in this run: the verdict must not depend on it. */
const eitherFirst = <T>(ctx: CheckContext, pair: readonly [T, T]): [T, T] => (ctx.random() < 0.5 ? [pair[0], pair[1]] : [pair[1], pair[0]]);

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
    'Follow `currentCustomer` through one request: the middleware sets it, then the request waits (`await writeAuditLog`, `await fetchOrders`). While it waits, the same worker runs the middleware for the next visitor (for every request: pages, the API, signing in and out). Which value does the first handler read when it resumes?',
    "Copying `currentCustomer` into a local variable does not help: by the time the handler starts, the audit log's await has already let another request overwrite it. The customer must travel with the request from the moment the middleware finds it, into the audit log too.",
    'In the middleware, write `req.customer = findCustomer.get(...)` (or `res.locals.customer = ...`), and read `req.customer` everywhere `currentCustomer` was read: the audit log call, the account route and the page. If code far from the request needs it, `AsyncLocalStorage` from `node:async_hooks` keeps a value per request across awaits.',
  ],
  flask: {
    file: 'app.py',
    // gunicorn's gthread worker: one process, four threads, each serving a request.
    threads: 4,
    text: () => markdown(import.meta.url, 'text.flask.md'),
    why: () => markdown(import.meta.url, 'why.flask.md'),
    hints: [
      'Follow `current_customer` through one request: `who_is_asking()` sets it, then the request waits (`write_audit_log`, `fetch_orders`). While it waits, another thread of the same process runs `who_is_asking()` for the next visitor (for every request: pages, the API, signing in and out). Which value does the first view read when it resumes?',
      "Copying `current_customer` into a local variable at the top of the view does not help: by then the audit log's wait has already let another request overwrite it. And on a sync worker, a global set only when someone is signed in is still there for the next visitor, who is not. The customer must travel with the request from the moment it is found, into the audit log too.",
      'In `who_is_asking()`, write `g.customer = find_customer(...)` (`from flask import g`): `g` belongs to one request, on whichever thread serves it. Read `g.customer` everywhere `current_customer` was read: the audit log call, the account view and the page. A lock around each request would make the worker serve one request at a time again.',
    ],
  },
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
  seed(dir, random) {
    const file = path.join(dir, 'shop.db');
    seedShop(file, drawCustomers(random));
    return { SHOP_DB: file, COOKIE_SECRET: randomBytes(16).toString('hex') };
  },
  steps: [
    {
      title: "alice signs in through the page's form and sees her own account page",
      async run(ctx) {
        const customers = customersOf(ctx);
        const mark = auditMark(ctx);
        const signIn = await settle(ctx, WORKER, () => alice(ctx).page('/', { worker: WORKER }));
        await expectSignInPage(customers, signIn);
        const home = await settle(ctx, WORKER, () => alice(ctx).fillIn(signIn, { name: 'alice' }, { worker: WORKER }));
        await expectAccountPage(customers, home, 'alice', ctx.track);
        const account = await settle(ctx, WORKER, () => alice(ctx).get('/api/account', { worker: WORKER }));
        expectAccount(customers, account, 'alice', ctx.track);
        expectAudit(ctx, mark, [['anonymous', '/'], ['alice', '/'], ['alice', '/api/account']]);
      },
    },
    {
      title: "bob's page, opened while alice's is loading, shows bob, and alice's shows alice (pages, API and audit log)",
      async run(ctx) {
        const customers = customersOf(ctx);
        await signInByApi(ctx, bob(ctx));
        const mark = auditMark(ctx);
        // Each route once as the request that waits while the other arrives; which round goes first varies.
        const rounds = eitherFirst(ctx, [
          { page: alice(ctx), api: bob(ctx), pageFirst: true },
          { page: alice(ctx), api: bob(ctx), pageFirst: false },
        ] as const);
        for (const { page, api, pageFirst } of rounds) {
          const turns: Turn[] = [
            { who: page.name, what: 'page', calls: SIGNED_IN, send: () => page.page('/', { worker: WORKER }) },
            { who: api.name, what: 'account (/api/account)', calls: SIGNED_IN, send: () => api.get('/api/account', { worker: WORKER }) },
          ];
          await overlapping(ctx, pageFirst ? turns : [turns[1]!, turns[0]!], async (replies) => {
            const [pageReply, apiReply] = pageFirst ? replies : [replies[1]!, replies[0]!];
            await expectAccountPage(customers, pageReply!, page.name, ctx.track);
            expectAccount(customers, apiReply!, api.name, ctx.track);
          });
        }
        expectAudit(ctx, mark, [['alice', '/'], ['bob', '/api/account'], ['alice', '/'], ['bob', '/api/account']]);
      },
    },
    {
      title: 'alice, a program that has not signed in, bob, and bob\'s phone app at once: each gets their own answer',
      async run(ctx) {
        const customers = customersOf(ctx);
        await signInByApi(ctx, bobsApp(ctx), 'bob');
        const mark = auditMark(ctx);
        await overlapping(ctx, [
          { who: 'alice', what: 'account (/api/account)', calls: SIGNED_IN, send: () => alice(ctx).get('/api/account', { worker: WORKER }) },
          { who: 'a price checker', what: 'request for /api/account', calls: SIGNED_OUT, send: () => priceChecker(ctx).get('/api/account', { worker: WORKER }) },
          { who: 'bob', what: 'page', calls: SIGNED_IN, send: () => bob(ctx).page('/', { worker: WORKER }) },
          { who: "bob's phone app", what: 'account (/api/account)', calls: SIGNED_IN, send: () => bobsApp(ctx).get('/api/account', { worker: WORKER }) },
        ], async ([aliceReply, checkerReply, bobReply, appReply]) => {
          expectAccount(customers, aliceReply!, 'alice', ctx.track);
          notSignedIn(checkerReply!, 'a price checker');
          await expectAccountPage(customers, bobReply!, 'bob', ctx.track);
          expectAccount(customers, appReply!, 'bob', ctx.track);
          expectAudit(ctx, mark, [['alice', '/api/account'], ['anonymous', '/api/account'], ['bob', '/'], ['bob', '/api/account']]);
        });
      },
    },
    {
      title: "bob signs out and back in through the page's forms while alice's page loads: alice still sees only hers",
      async run(ctx) {
        const customers = customersOf(ctx);
        const bobsPage = await settle(ctx, WORKER, () => bob(ctx).page('/', { worker: WORKER }));
        await expectAccountPage(customers, bobsPage, 'bob', ctx.track);
        const mark = auditMark(ctx);
        await overlapping(ctx, [
          { who: 'alice', what: 'page', calls: SIGNED_IN, send: () => alice(ctx).page('/', { worker: WORKER }) },
          { who: 'bob', what: 'sign-out form (then the sign-in page it leads to)', calls: SIGNED_OUT, send: () => bob(ctx).fillIn(bobsPage, {}, { worker: WORKER, action: '/logout' }) },
          { who: 'carol', what: 'sign-in page', calls: SIGNED_OUT, send: () => carol(ctx).page('/', { worker: WORKER }) },
          { who: 'bob', what: 'sign-in form (then his page)', calls: SIGNED_IN, send: () => bob(ctx).submit('/login', { name: 'bob' }, { worker: WORKER }) },
        ], async ([aliceReply, signedOut, carolReply, signedIn]) => {
          await expectAccountPage(customers, aliceReply!, 'alice', ctx.track);
          if (!signedOut!.redirects?.length) {
            fail({
              expected: `the sign-out form to send bob back to the page (303), from ${describe(signedOut!)}`,
              got: `${signedOut!.status}: ${signedOut!.body}`,
              diagnosis: 'Keep POST /logout as it is: it clears the sign-in cookie and sends the browser back to /.',
            });
          }
          await expectSignInPage(customers, signedOut!);
          await expectSignInPage(customers, carolReply!);
          await expectAccountPage(customers, signedIn!, 'bob', ctx.track);
          expectAudit(ctx, mark, [['alice', '/'], ['anonymous', '/'], ['anonymous', '/'], ['bob', '/']]);
        });
      },
    },
    {
      title: "alice's page, bob's phone app and a program that has not signed in arrive at the same moment: each gets their own answer and audit entry",
      async run(ctx) {
        const customers = customersOf(ctx);
        const mark = auditMark(ctx);
        // On a busy host requests arrive together, and a threaded worker switches between them at
        // any call: between who_is_asking() and audit(), with no wait in between. The order they
        // come in varies; the verdict must not.
        const turns: Turn[] = [
          { who: 'alice', what: 'page', calls: SIGNED_IN, send: () => alice(ctx).page('/', { worker: WORKER }) },
          { who: "bob's phone app", what: 'account (/api/account)', calls: SIGNED_IN, send: () => bobsApp(ctx).get('/api/account', { worker: WORKER }) },
          { who: 'a price checker', what: 'request for /api/account', calls: SIGNED_OUT, send: () => priceChecker(ctx).get('/api/account', { worker: WORKER }) },
        ];
        const order = eitherFirst(ctx, [0, 1] as const);
        const sent = [turns[order[0]]!, turns[order[1]]!, turns[2]!];
        await overlapping(
          ctx,
          sent,
          async (replies) => {
            const reply = (who: string) => replies[sent.findIndex((t) => t.who === who)]!;
            await expectAccountPage(customers, reply('alice'), 'alice', ctx.track);
            expectAccount(customers, reply("bob's phone app"), 'bob', ctx.track);
            notSignedIn(reply('a price checker'), 'a price checker');
            expectAudit(
              ctx,
              mark,
              [['alice', '/'], ['bob', '/api/account'], ['anonymous', '/api/account']],
              ctx.track === 'flask'
                ? "The pages were right, but the audit log names the wrong customer for some of them. The three requests arrived together, and the worker's threads took turns between one request's callbacks, as Python's threads do at any call: after one request's `who_is_asking()` set the module-level customer, another request's `who_is_asking()` ran before the first one's `audit()` read it, with no wait in between. Whatever the audit log reads must belong to the request: `g.customer`, set in `who_is_asking()`."
                : 'The pages were right, but the audit log names the wrong customer for some of them. The three requests arrived together; whatever writes the log still reads a customer kept in module scope, which another request replaced before the log was written. Pass the request\'s own customer (req.customer) to the audit log.',
            );
          },
          { atOnce: true },
        );
      },
    },
  ],
};

export default lesson;
