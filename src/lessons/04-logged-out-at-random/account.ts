// How lesson 4's check sees who is logged in: through the API (`GET /api/me`) and on the account
// page, as a person reads it (a logout button and their name, or the login form). Logging in and
// out go through the page's forms or through the API, as people and programs do.
import { describe, expectJson, fail } from '../../check/expect.ts';
import { formsOf, pageText } from '../../check/pages.ts';
import type { Reply } from '../../check/visitor.ts';
import type { CheckContext } from '../types.ts';

/** The shop's accounts and their passwords (the seed stores only salted hashes). */
export const PASSWORDS: Readonly<Record<string, string>> = {
  alice: 'wonderland',
  bob: 'builder',
  mallory: 'mischief',
  dave: 'driftwood',
  erin: 'evergreen',
  frank: 'fiddlesticks',
  grace: 'gooseberry',
};

/** Customers who log in once the host has reloaded, one on each worker. */
export const NEWCOMERS = ['dave', 'erin', 'frank', 'grace'] as const;
const ACCOUNTS = Object.keys(PASSWORDS);

export type Route = 'api' | 'page';

/** Why `visitor` was seen as `got` instead of who they are, on `worker`, through `route`. */
export type Diagnose = (got: string | null, worker: number, route: Route) => string;

export const whom = (user: string | null) => (user === null ? 'nobody' : `"${user}"`);

/** The user named in a `{"user": ...}` answer. */
export function userIn(reply: Reply): string | null {
  const body = expectJson(reply, 'JSON like {"user": "alice"} or {"user": null}') as Record<string, unknown> | null;
  const user = body?.user;
  if (user !== null && typeof user !== 'string') {
    fail({
      expected: `JSON like {"user": "alice"} or {"user": null} from ${describe(reply)}`,
      got: reply.body,
      diagnosis: 'Keep the answer\'s shape: "user" is the name of whoever is logged in, or null.',
    });
  }
  return user;
}

const actionOf = (action: string, page: string) => new URL(action || page, `http://shop${page}`).pathname;

/**
 * Who the account page says is logged in: the account named beside a logout button, or nobody
 * when it shows the login form instead.
 */
export async function userOnPage(reply: Reply): Promise<string | null> {
  if (reply.status !== 200 || !/html/i.test(reply.contentType)) {
    fail({
      expected: `the account page (HTML) from ${describe(reply)}`,
      got: `status ${reply.status}: ${reply.body}`,
      diagnosis: reply.status >= 500 ? 'The app threw an error while drawing the page; the error and its line are in the output below.' : 'The page / shows who is logged in, with a logout button, or the login form; the forms lead back to it.',
    });
  }
  const actions = (await formsOf(reply.text)).filter((f) => f.method === 'POST').map((f) => actionOf(f.action, reply.path));
  const logout = actions.includes('/api/logout');
  const login = actions.includes('/api/login');
  if (logout === login) {
    fail({
      expected: `the account page from ${describe(reply)} to show either a logout button or the login form`,
      got: logout ? 'both' : 'neither',
      diagnosis: 'Keep the page as it was: when someone is logged in, their name and a form posting to /api/logout; otherwise the form posting a name and a password to /api/login.',
    });
  }
  if (!logout) return null;
  const text = await pageText(reply.text);
  const named = ACCOUNTS.filter((name) => new RegExp(`(^|[^\\p{L}])${name}([^\\p{L}]|$)`, 'u').test(text));
  if (named.length !== 1) {
    fail({
      expected: `the account page from ${describe(reply)} to name who is logged in`,
      got: named.length ? `the names ${named.join(', ')}` : 'no name',
      diagnosis: 'When someone is logged in, the page shows their name beside the logout button.',
    });
  }
  return named[0]!;
}

/** `visitor` asks who they are on `worker`, through the API and on the page: both must say `want`. */
export async function expectUser(ctx: CheckContext, visitor: string, worker: number, want: string | null, diagnose: Diagnose): Promise<void> {
  const v = ctx.visitor(visitor);
  const api = await v.get('/api/me', { worker });
  const fromApi = userIn(api);
  if (fromApi !== want) fail({ expected: `${whom(want)} logged in for ${describe(api)}`, got: whom(fromApi), diagnosis: diagnose(fromApi, worker, 'api') });
  if (v.kind !== 'browser') return;
  const page = await v.page('/', { worker });
  const onPage = await userOnPage(page);
  if (onPage !== want) {
    fail({ expected: `the account page from ${describe(page)} to show ${want === null ? 'the login form' : `${want} logged in`}`, got: onPage === null ? 'the login form' : `${onPage} logged in`, diagnosis: diagnose(onPage, worker, 'page') });
  }
}

/** `visitor` asks who they are on `worker`, through the API and on the page: neither may say `not`. */
export async function expectNotUser(ctx: CheckContext, visitor: string, worker: number, not: string, diagnose: (worker: number, route: Route) => string): Promise<void> {
  const v = ctx.visitor(visitor);
  const api = await v.get('/api/me', { worker });
  if (userIn(api) === not) fail({ expected: `anyone but ${not} for ${describe(api)}`, got: whom(not), diagnosis: diagnose(worker, 'api') });
  if (v.kind !== 'browser') return;
  const page = await v.page('/', { worker });
  if ((await userOnPage(page)) === not) fail({ expected: `the account page from ${describe(page)} to show anyone but ${not}`, got: `${not} logged in`, diagnosis: diagnose(worker, 'page') });
}

/**
 * `visitor`, who is `self`, asks who they are on `worker`, through the API and on the page: both
 * must say nobody or `self`. For a cookie the visitor edited in a way a right app may ignore.
 */
export async function expectNobodyElse(ctx: CheckContext, visitor: string, worker: number, self: string, diagnose: Diagnose): Promise<void> {
  const v = ctx.visitor(visitor);
  const api = await v.get('/api/me', { worker });
  const fromApi = userIn(api);
  if (fromApi !== null && fromApi !== self) fail({ expected: `nobody, or ${self}, logged in for ${describe(api)}`, got: whom(fromApi), diagnosis: diagnose(fromApi, worker, 'api') });
  if (v.kind !== 'browser') return;
  const page = await v.page('/', { worker });
  const onPage = await userOnPage(page);
  if (onPage !== null && onPage !== self) {
    fail({ expected: `the account page from ${describe(page)} to show the login form, or ${self} logged in`, got: `${onPage} logged in`, diagnosis: diagnose(onPage, worker, 'page') });
  }
}

/** `visitor` logs in as `name` (their own account by default) through the API (the page's script, or a program), on `worker`. */
export async function logInWithApi(ctx: CheckContext, visitor: string, worker: number, name = visitor): Promise<void> {
  const reply = await ctx.visitor(visitor).post('/api/login', { name, password: PASSWORDS[name] }, { worker });
  const user = userIn(reply);
  if (user !== name) fail({ expected: `${describe(reply)} to log ${name} in`, got: reply.body });
}

/**
 * `visitor` fills in the login form of `page` (loaded earlier) as `name` and sends it, on
 * `worker`; the page it lands on must show `name` logged in.
 */
export async function logInWithForm(ctx: CheckContext, visitor: string, name: string, page: Reply, worker: number, diagnose: Diagnose): Promise<void> {
  const landed = await ctx.visitor(visitor).fillIn(page, { name, password: PASSWORDS[name]! }, { worker, action: '/api/login' });
  if (landed.status === 0 && landed.worker === null && !landed.redirects) {
    fail({ expected: `a login form on ${describe(page)}`, got: landed.body, diagnosis: 'Someone who is not logged in must find the login form on the page /.' });
  }
  const shown = await userOnPage(landed);
  if (shown !== name) {
    fail({ expected: `the page after logging in (${describe(landed)}) to show ${name} logged in`, got: shown === null ? 'the login form' : `${shown} logged in`, diagnosis: diagnose(shown, landed.worker ?? worker, 'page') });
  }
}

/** `visitor` loads the page on `worker` and presses its logout button; the page it lands on must show the login form. */
export async function logOutWithForm(ctx: CheckContext, visitor: string, worker: number): Promise<void> {
  const v = ctx.visitor(visitor);
  const page = await v.page('/', { worker });
  if ((await userOnPage(page)) === null) fail({ expected: `${visitor} logged in on ${describe(page)}, with a logout button`, got: 'the login form' });
  const landed = await v.fillIn(page, {}, { worker, action: '/api/logout' });
  const shown = await userOnPage(landed);
  if (shown !== null) {
    fail({
      expected: `the page after logging out (${describe(landed)}) to show the login form`,
      got: `${shown} logged in`,
      diagnosis: 'The logout button must end the session: remove it where every worker looks (or clear the session cookie).',
    });
  }
}
