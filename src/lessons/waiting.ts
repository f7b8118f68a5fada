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
