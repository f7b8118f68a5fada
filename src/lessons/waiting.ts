// Requests that wait on the network, made deterministic. On a manual clock a simulated network
// call is a timer, so a check can tell when a request is parked in its await (the worker holds
// one more timer) and only then send the next request: the interleaving is the same every run.
import type { Reply } from '../check/visitor.ts';
import type { CheckContext } from './types.ts';

/** What became of a request sent without waiting for its answer. */
export type Progress = 'waiting' | 'answered' | 'stuck';

/** A request in flight, and whether it has been answered yet. */
export interface InFlight {
  readonly reply: Promise<Reply>;
  answered(): boolean;
}

export function inFlight(reply: Promise<Reply>): InFlight {
  let done = false;
  const tracked = reply.finally(() => {
    done = true;
  });
  return { reply: tracked, answered: () => done };
}

/** How many timers wait on worker k's manual clock now. */
export async function timersOn(ctx: CheckContext, worker: number): Promise<number> {
  return (await ctx.clockState(worker))?.timers ?? 0;
}

/**
 * Wait until `request` is answered, or worker k holds at least `timers` timers (the request is
 * parked in an await). 'stuck' when neither happens within `limitMs`: the request is held up by
 * something that is not the clock.
 */
export async function untilWaiting(ctx: CheckContext, worker: number, timers: number, request: InFlight, limitMs = 1500): Promise<Progress> {
  return (await untilParked(ctx, worker, timers, request, limitMs)).progress;
}

/** untilWaiting, and the number of timers the worker held when the request was seen parked. */
async function untilParked(ctx: CheckContext, worker: number, timers: number, request: InFlight, limitMs: number): Promise<{ progress: Progress; timers: number }> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    if (request.answered()) return { progress: 'answered', timers };
    const held = await timersOn(ctx, worker);
    if (held >= timers) return { progress: request.answered() ? 'answered' : 'waiting', timers: held };
    if (performance.now() > deadline) return { progress: 'stuck', timers };
    await new Promise((resolve) => setTimeout(resolve, 4));
  }
}

/** Ten seconds of simulated time: long enough for every simulated network call in these lessons. */
export const LET_TIME_PASS_MS = 10_000;

/** Send one request, let its network calls finish, and return its answer. */
export async function settle(ctx: CheckContext, worker: number, send: () => Promise<Reply>): Promise<Reply> {
  const before = await timersOn(ctx, worker);
  const request = inFlight(send());
  await untilWaiting(ctx, worker, before + 1, request);
  if (!request.answered()) await ctx.advanceClock(LET_TIME_PASS_MS);
  return request.reply;
}

/** One request of a scenario, sent to a given worker. */
export interface Turn {
  readonly worker: number;
  send(): Promise<Reply>;
  /**
   * The simulated network calls (ms) this request makes, one after another, when it is served
   * alone (the longest way it may go). [] for a request that makes none: it is answered without
   * the clock moving. Without it the request's timing is not judged.
   */
  readonly calls?: readonly number[];
}

export interface Turns {
  /** The requests sent, in order; fewer than asked when one got stuck. */
  readonly requests: readonly InFlight[];
  /** How each went before the next was sent. */
  readonly progress: readonly Progress[];
}

/**
 * Send each request only once the ones before it are parked in an await on their worker (or
 * answered): each later request then arrives while the earlier ones wait, the same way on
 * every run. Stops after a request that gets stuck. The caller then lets time pass.
 */
export async function inTurn(ctx: CheckContext, turns: readonly Turn[]): Promise<Turns> {
  const parked = new Map<number, number>();
  for (const worker of new Set(turns.map((t) => t.worker))) parked.set(worker, await timersOn(ctx, worker));
  const requests: InFlight[] = [];
  const progress: Progress[] = [];
  for (const turn of turns) {
    const request = inFlight(turn.send());
    requests.push(request);
    if (turn.calls?.length === 0) {
      // No network call to wait for: the answer comes without the clock moving, or the request
      // is held up behind another one (a timer it holds meanwhile is a poll, not a network call).
      const answered = (await answeredWithin([request], ANSWER_LIMIT_MS)).length === 0;
      progress.push(answered ? 'answered' : 'stuck');
      if (!answered) break;
      parked.set(turn.worker, await timersOn(ctx, turn.worker));
      continue;
    }
    // Parked: the worker holds more timers than before this request came. A request may add
    // more than one (its network call, and a timeout of the app's own around it): the next
    // request is judged against all of them, not against one more than before.
    const result = await untilParked(ctx, turn.worker, parked.get(turn.worker)! + 1, request, 1500);
    progress.push(result.progress);
    if (result.progress === 'waiting') parked.set(turn.worker, result.timers);
    if (result.progress === 'stuck') break;
  }
  return { requests, progress };
}

/**
 * Send every request at the same moment, as a busy site gets them (ctx.arriveTogether: a
 * threaded worker serves them as the GIL would, handing over between the app's callbacks), then
 * wait until each is parked in an await or answered. The requests all go to one worker. Those
 * that neither answer nor park within the limit are 'stuck', the later ones first.
 */
export async function allAtOnce(ctx: CheckContext, turns: readonly Turn[], limitMs = 1500): Promise<Turns> {
  const worker = turns[0]?.worker ?? 1;
  if (turns.some((t) => t.worker !== worker)) throw new Error('allAtOnce: every request goes to one worker');
  const before = await timersOn(ctx, worker);
  await ctx.arriveTogether(worker, turns.length);
  const requests = turns.map((turn) => inFlight(turn.send()));
  const deadline = performance.now() + limitMs;
  const unanswered = () => requests.filter((r) => !r.answered());
  for (;;) {
    const open = unanswered();
    const mustAnswer = open.some((r) => turns[requests.indexOf(r)]!.calls?.length === 0);
    const parked = (await timersOn(ctx, worker)) - before;
    if (!mustAnswer && parked >= open.length) break;
    if (performance.now() > deadline) {
      // Parked ones cannot be told apart: the earlier requests count as parked, the rest as stuck.
      let room = Math.max(0, parked);
      const progress = requests.map((r, i): Progress => {
        if (r.answered()) return 'answered';
        if (turns[i]!.calls?.length !== 0 && room > 0) {
          room--;
          return 'waiting';
        }
        return 'stuck';
      });
      return { requests, progress };
    }
    await new Promise((resolve) => setTimeout(resolve, 4));
  }
  return { requests, progress: requests.map((r) => (r.answered() ? 'answered' : 'waiting')) };
}

/**
 * How long (wall time) an answer that is due may take to come back once the clock has moved: it
 * comes at once from an app that serves requests side by side, so the limit only bounds the wait
 * on the failure path.
 */
export const ANSWER_LIMIT_MS = 2000;

/** Wait until every one of `requests` is answered, or `limitMs` (wall time) has passed: returns those still unanswered. */
export async function answeredWithin(requests: readonly InFlight[], limitMs: number): Promise<InFlight[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, limitMs);
  });
  await Promise.race([Promise.allSettled(requests.map((r) => r.reply)), limit]);
  clearTimeout(timer);
  return requests.filter((r) => !r.answered());
}

/**
 * Move the clock only as far as the requests need when each is served alone, call by call: first
 * the longest first call of any of them (and a margin shorter than any call), then the longest
 * second call, and so on. After each move, every request whose calls are all done by then must
 * be answered. Returns those that were not: they waited for something besides their own network
 * calls (another request's turn). Requests without `calls` are not judged.
 */
export async function inTheirTime(ctx: CheckContext, turns: readonly Turn[], requests: readonly InFlight[]): Promise<Late[]> {
  const calls = turns.map((t) => t.calls ?? []);
  const every = calls.flat();
  if (!every.length || turns.some((t) => !t.calls)) return [];
  const margin = Math.min(10, Math.floor(Math.min(...every) / 2));
  const late: Late[] = [];
  const rounds = Math.max(...calls.map((c) => c.length));
  let moved = 0;
  for (let k = 0; k < rounds; k++) {
    const step = Math.max(...calls.map((c) => c[k] ?? 0)) + (k === 0 ? margin : 0);
    await ctx.advanceClock(step);
    moved += step;
    const due = requests.filter((_, i) => calls[i]!.length === k + 1);
    for (const missed of await answeredWithin(due, ANSWER_LIMIT_MS)) late.push({ index: requests.indexOf(missed), afterMs: moved });
  }
  return late.sort((a, b) => a.index - b.index);
}

/** A request still unanswered when its own network calls were done. */
export interface Late {
  /** Its index in the requests sent. */
  readonly index: number;
  /** How far the clock had moved since the requests were sent, when it was found unanswered. */
  readonly afterMs: number;
}

export interface Together extends Turns {
  /** The requests not answered when their own network calls were done, in the order sent. */
  readonly late: readonly Late[];
}

/**
 * Send requests that overlap (inTurn, or allAtOnce), then judge them as real traffic would feel them: each must
 * be answered in about the time it takes alone (inTheirTime), not after another's turn. The
 * date stands still meanwhile, moving only with the clock's moves, so the time the check itself
 * takes never counts as the requests' time. Then lets the rest of the time pass (unless a
 * request got stuck: the caller fails then).
 */
export async function together(ctx: CheckContext, turns: readonly Turn[], options: { readonly atOnce?: boolean } = {}): Promise<Together> {
  return ctx.sameMoment(async () => {
    const sent = options.atOnce ? await allAtOnce(ctx, turns) : await inTurn(ctx, turns);
    if (sent.progress.includes('stuck')) return { ...sent, late: [] };
    const late = await inTheirTime(ctx, turns, sent.requests);
    await ctx.advanceClock(LET_TIME_PASS_MS);
    return { ...sent, late };
  });
}
