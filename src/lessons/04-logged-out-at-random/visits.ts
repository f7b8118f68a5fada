// Lesson 4's steps about everyday visits that real traffic brings and a fix must survive: a login
// with a wrong password, and a customer who comes back an hour later while others came and went.
import { describe, fail } from '../../check/expect.ts';
import type { CheckContext, CheckStep } from '../types.ts';
import { expectUser, logInWithApi, NEWCOMERS, PASSWORDS, userIn, whom, type Diagnose } from './account.ts';
import { where } from './diagnoses.ts';
import { someWorker } from '../draws.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** `visitor` sends a login for `name` with `password`, which is not `name`'s: the answer must refuse it. */
async function wrongLogin(ctx: CheckContext, visitor: string, name: string, password: string, worker: number): Promise<void> {
  const reply = await ctx.visitor(visitor).post('/api/login', { name, password }, { worker });
  const refused = reply.status >= 400 && reply.status < 500;
  if (refused) return;
  const user = reply.status < 300 ? userIn(reply) : undefined;
  if (user === null) return;
  fail({
    expected: `${describe(reply)}, a login as ${name} with a wrong password, to be refused (401)`,
    got: `status ${reply.status}: ${reply.body}`,
    diagnosis:
      reply.status >= 500
        ? `A login with a wrong password made the app fail. Check the password first, and answer a wrong one with 401 "Wrong name or password". The error and its line are in the output below.`
        : `${visitor} sent a wrong password for ${name}, and the app logged ${visitor} in as ${name}. A login must check the password against the users table before anything else, and refuse it (401) when it does not match.`,
  });
}

/** Why someone is not who they were after a login with a wrong password. */
const afterWrongLogin = (visitor: string, self: string | null, name: string, worker: number): Diagnose => (got, w, route) => {
  if (got === name) {
    return `${visitor} sent a wrong password for ${name} on worker ${worker}; the login was refused, yet ${where(w, route)} finds ${visitor} logged in as ${name}. The login wrote ${name} into the session before it checked the password, and that session was kept with the refusal (a saved row, a cookie sent with the 401). Check the password first; only once it is right start a new session and write the user into it.`;
  }
  if (got === null && self !== null) {
    return `${self} was logged in and sent a wrong password on worker ${worker}; the login was refused, and ${where(w, route)} has logged ${self} out. A refused login must leave the session the browser brought as it was: check the password first, and start a new session (or drop the old one) only when it is right.`;
  }
  return `${visitor} sent a wrong password for ${name} on worker ${worker}, and ${where(w, route)} now answers ${visitor} as ${whom(got)} instead of ${whom(self)}: a refused login must change nobody's session.`;
};

/** How long a session lasts, said in the app's own terms. */
const lifetimeHint = (ctx: CheckContext) =>
  ctx.track === 'flask'
    ? "Flask's session lasts until the browser closes unless it is made permanent, and then `permanent_session_lifetime` (31 days by default) is both the cookie's age and the oldest signature Flask accepts; a token of your own needs a `max_age` (in seconds) of hours or days."
    : "Express's cookie `maxAge` is in milliseconds, the rows a store keeps must last as long as the cookie (its `expires`, renewed by `touch`), and a token's own expiry the same: hours or days, not minutes.";

export const visitSteps: readonly CheckStep[] = [
  {
    title: 'A login with a wrong password is refused, and changes nobody\'s session',
    async run(ctx) {
      const worker = someWorker(ctx);
      // carol, who is not logged in, tries alice's account with bob's password.
      await wrongLogin(ctx, 'carol', 'alice', PASSWORDS.bob!, worker);
      // bob, logged in as himself, mistypes: alice's name with his own password, then his own name with a made-up one.
      const second = ctx.workerAt(worker + 1);
      await wrongLogin(ctx, 'bob', 'alice', PASSWORDS.bob!, second);
      await wrongLogin(ctx, 'bob', 'bob', `${PASSWORDS.bob!}!`, second);
      for (let k = 0; k < ctx.workers; k++) {
        const w = ctx.workerAt(worker + k);
        await expectUser(ctx, 'carol', w, null, afterWrongLogin('carol', null, 'alice', worker));
        await expectUser(ctx, 'bob', w, 'bob', afterWrongLogin('bob', 'bob', 'alice', second));
        await expectUser(ctx, 'alice', w, 'alice', (got, at, route) =>
          `Someone else sent a wrong password for alice, and ${where(at, route)} now answers alice as ${whom(got)}: a refused login must leave everyone's session as it was, alice's own above all.`,
        );
      }
    },
  },
  {
    title: 'alice comes back an hour later, while others logged in and out meanwhile: still logged in on every worker',
    async run(ctx) {
      // An hour in four quarters: each quarter, someone else logs in, looks and leaves.
      for (let quarter = 0; quarter < 4; quarter++) {
        await ctx.advanceClock(15 * MINUTE);
        for (const name of ['alice', 'bob']) await ctx.visitor(name).passTime(15 * MINUTE);
        const name = NEWCOMERS[quarter % NEWCOMERS.length]!;
        const visitor = `${name}'s tablet`;
        const worker = someWorker(ctx);
        await logInWithApi(ctx, visitor, worker, name);
        await expectUser(ctx, visitor, ctx.workerAt(worker + 1), name, (got, w, route) => `${name} logged in on worker ${worker}, and ${where(w, route)} answers as ${whom(got)}.`);
        await ctx.visitor(visitor).post('/api/logout', undefined, { worker: ctx.workerAt(worker + 2) });
      }
      const first = someWorker(ctx);
      for (let k = 0; k < ctx.workers; k++) {
        for (const name of ['alice', 'bob']) {
          await expectUser(ctx, name, ctx.workerAt(first + k), name, (got, w, route) =>
            got === null
              ? `${name} logged in an hour ago and comes back to the shop, and ${where(w, route)} has logged ${name} out: the session ran out, in the browser (the cookie's age) or in the app (the store's rows, a token's expiry). A customer stays logged in for as long as people keep a shop open in a tab. ${lifetimeHint(ctx)}`
              : `${name} comes back an hour later, and ${where(w, route)} answers as ${got}: a session must stay the visitor's own while others log in and out.`,
          );
        }
      }
    },
  },
];

/**
 * The lesson's last step (more than a day passes: the sessions of the steps before have run out by then,
 * as a day's session should).
 */
export const daysLaterStep: CheckStep = {
    title: 'A day later, on workers that have run all along, grace logs in for the first time and stays logged in on every worker',
    async run(ctx) {
      // The same workers, a day (and more) on: whatever the app worked out when it started (a date, an
      // expiry) is more than a day old now. grace's browser lives on today's date.
      await ctx.advanceClock(DAY + 2 * 60 * MINUTE);
      const visitor = "grace's laptop";
      const worker = someWorker(ctx);
      await logInWithApi(ctx, visitor, worker, 'grace');
      for (let k = 1; k <= ctx.workers; k++) {
        await expectUser(ctx, visitor, ctx.workerAt(worker + k), 'grace', (got, w, route) =>
          got === null
            ? `grace logged in on worker ${worker} and, at once, ${where(w, route)} has her logged out: her session was over before it began. The workers have been running for more than a day, and an expiry worked out once, when the app started (a cookie's \`expires\` date, a store's deadline, kept in module scope), is in the past by now. Work out each session's expiry when it is made (a cookie's max age does that), not once at start.`
            : `grace logged in on worker ${worker}, and ${where(w, route)} answers as ${got}.`,
        );
      }
    },
  };
