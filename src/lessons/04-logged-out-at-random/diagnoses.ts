// What lesson 4's check says when a visitor is not who they should be: a diagnosis for each
// way a session can be lost, taken over or brought back, in the lesson's words.
import type { CheckContext } from '../types.ts';
import { type Diagnose, type Route } from './account.ts';
import { cookiesOf, signedWith } from './cookies.ts';

export const where = (worker: number, route: Route) => (route === 'page' ? `the page / on worker ${worker}` : `GET /api/me on worker ${worker}`);

/** Why `visitor`, logged in on `loggedInOn`, was not themselves on another worker. */
export function sessionLost(ctx: CheckContext, visitor: string, loggedInOn: number): Diagnose {
  return (got, worker, route) => {
    if (got !== null) {
      return `${visitor}'s request was answered as ${got}: who is logged in must come from ${visitor}'s own session, found through ${visitor}'s own cookie, not from anything every visitor shares.`;
    }
    if (route === 'page') {
      return `GET /api/me on worker ${worker} knows ${visitor}, but ${where(worker, route)} shows the login form: the page must find who is logged in the same way the API does, from the session every worker shares.`;
    }
    if (ctx.track === 'flask') {
      return `${visitor} logged in on worker ${loggedInOn}, but worker ${worker} does not find that login: what remembers it lives in one worker only (its memory, or a key that worker made itself). Keep it where every worker finds it: in Flask's session cookie signed with the host's SESSION_SECRET, or in the sessions table on ACCOUNTS_DB.`;
    }
    return `${visitor} logged in on worker ${loggedInOn}, but worker ${worker} has never heard of that session. express-session keeps sessions in the memory of the worker that created them (its default MemoryStore), and every worker has its own memory. Keep sessions where every worker finds them: in a store on ACCOUNTS_DB, or in the cookie itself, signed with SESSION_SECRET (cookie-session).`;
  };
}

/**
 * Like sessionLost, but first looks at the cookie: one signed with a key that is not the host's
 * SESSION_SECRET, and refused by another worker, was signed with a key each worker made itself.
 */
export async function sessionLostOrOwnKey(ctx: CheckContext, visitor: string, loggedInOn: number): Promise<Diagnose> {
  const { cookies } = await cookiesOf(ctx.visitor(visitor));
  const signature = signedWith(cookies, ctx.env.SESSION_SECRET!);
  const lost = sessionLost(ctx, visitor, loggedInOn);
  const ownKey =
    ctx.track === 'flask'
      ? `A key made when the module is imported (os.urandom at module level) is a different key in every worker that imports it, and a new one after every reload: this lesson's bug again, one level down. Sign with os.environ["SESSION_SECRET"], which the host gives every worker alike.`
      : `A secret generated when the app starts (crypto.randomBytes at module level) is a different secret in every worker, and a new one after every reload: this lesson's bug again, one level down. Sign with process.env.SESSION_SECRET, which the host gives every worker alike.`;
  return (got, worker, route) =>
    got === null && route === 'api' && signature === 'other'
      ? `${visitor}'s cookie from worker ${loggedInOn} is signed, but not with the host's SESSION_SECRET, and worker ${worker} refuses the signature. ${ownKey}`
      : lost(got, worker, route);
}

export const reloaded = (ctx: CheckContext): Diagnose => (got) =>
  got === null
    ? `The reload started every worker afresh, and what the sessions depended on went with the old processes: sessions kept in process memory, or a signing ${ctx.track === 'flask' ? 'key made when the module was imported' : 'secret made when the app started'} (a new one after every reload). A deploy would log everyone out. Keep sessions in the database, or in a cookie signed with SESSION_SECRET.`
    : `After the reload the app answered as ${got}: who is logged in must come from each visitor's own session.`;

export const takenOver = (ctx: CheckContext, visitor: string): Diagnose => (got, worker, route) =>
  got !== null && got !== visitor
    ? `After the reload ${got} logged in, and ${visitor}'s cookie now opens ${got}'s session (${where(worker, route)}): the new session was given the id of ${visitor}'s, which the store still holds. Ids that count from a start (a counter, the worker's number and a counter, the time) start again at every reload and come out again: ${ctx.track === 'flask' ? 'make session ids long and random (secrets.token_urlsafe(32))' : "let express-session make the ids (its default is long and random), or make them with crypto.randomBytes"}.`
    : `After the reload others logged in, and ${where(worker, route)} answers ${visitor} as ${got ?? 'nobody'}: a new login replaced or removed ${visitor}'s session. Give every new session an id no other session has had, long and random.`;

export const loggedOut = (visitor: string, on: number, how: string): Diagnose => (got, worker, route) =>
  got === visitor
    ? `${visitor} logged out ${how} on worker ${on}, but ${where(worker, route)} still finds her session: a copy survived somewhere. Logging out must remove the session where every worker looks (or clear the session cookie), and every worker must look there on every request.`
    : `${visitor} logged out, and ${where(worker, route)} answers as ${got}.`;

export const stillIn = (visitor: string, other: string): Diagnose => (got, worker, route) =>
  got === null ? `${other} logged out, and ${visitor} lost the session too (${where(worker, route)}): log out only the session of the visitor who asked.` : `${where(worker, route)} answered ${visitor} as ${got}.`;

/** Why `visitor`, who logged in at the same moment as `other` on `workers`, is not logged in. */
export const loginLostAtOnce = (ctx: CheckContext, visitor: string, other: string, workers: readonly number[]): Diagnose => (got, worker, route) =>
  got === null
    ? `${visitor} and ${other} logged in at the same moment, on workers ${workers.join(' and ')}, and ${where(worker, route)} has lost ${visitor}'s login. Each login read the sessions, added its own and wrote them all back, and the later write undid the earlier one (a lost update). Keep each session apart, one row per session in the sessions table on ACCOUNTS_DB${ctx.track === 'flask' ? ", or in Flask's session cookie signed with SESSION_SECRET" : ', or the session in a cookie signed with SESSION_SECRET'}: never in one file or value that every login rewrites whole.`
    : `${visitor} and ${other} logged in at the same moment, and ${where(worker, route)} answers ${visitor} as ${got}: each login must start a session of its own, found through that visitor's own cookie.`;
