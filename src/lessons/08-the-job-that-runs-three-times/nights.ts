// Lesson 8's nights: the check moves every process's clock to 03:00 at once, makes their first
// statements meet in the shared database, and lets an hour pass.
import type { CheckContext } from '../types.ts';
import { fail } from '../../check/expect.ts';
import { holdWrites, readOutbox, readSubscribers, type Sent } from './shared-database.ts';
import { watchStuckLocks } from './stuck-locks.ts';

const HOUR = 3_600_000;
/** The job's hour (UTC), as the starter schedules it. */
const RUN_HOUR = 3;

/** The first RUN_HOUR:00 UTC strictly after `now`. */
function nextRun(now: number): number {
  const next = new Date(now);
  next.setUTCHours(RUN_HOUR, 0, 0, 0);
  if (next.getTime() <= now) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime();
}

const lastId = async (url: string) => (await readOutbox(url, 0)).at(-1)?.id ?? 0;

/** Resolves once workers `from` to `to` all stand at `time` or later on their own clocks (bounded). */
async function allReached(ctx: CheckContext, time: number, from: number, to: number, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (let worker = from; worker <= to; worker++) {
    while (((await ctx.clockState(worker))?.now ?? Infinity) < time && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Move the clock `ms` on, to 03:00 on the clocks of workers `from` to `to`, with the shared
 * database's tables held until every one of them that came to it waits there, so that their
 * first statements meet, as they can on a real night.
 */
async function toThree(ctx: CheckContext, ms: number, due: number, from: number, to: number): Promise<void> {
  const hold = await holdWrites(ctx.env.DATABASE_URL, () => ctx.clockMoving());
  let moving: Promise<void>;
  try {
    moving = ctx.advanceClock(ms);
    const moved = moving.catch(() => {});
    // Every worker's clock reaches 03:00 (its timers due by then have fired) before the check
    // looks for the sessions that came: a worker slow to get there is not taken for one that
    // will not come.
    await Promise.race([allReached(ctx, due, from, to), moved]);
    await Promise.race([hold.queued(to - from + 1), moved]);
  } finally {
    await hold.release();
  }
  await moving;
}

/** Resolves once an email to every subscriber went out after `afterId` (the first machine's run is over), or when none comes (bounded). */
async function sentToAll(url: string, afterId: number, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  const everyone = (await readSubscribers(url)).length;
  while (new Set((await readOutbox(url, afterId)).map((s) => s.recipient)).size < everyone && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface Night {
  /** The night's date, as the job names it (YYYY-MM-DD, UTC). */
  readonly date: string;
  /** The emails the mail service logged that night. */
  readonly sent: Sent[];
  readonly subscribers: string[];
}

/**
 * One night: move every process's clock to 03:00 at once (each job starts), with the shared
 * database's tables held until every worker that came to it waits there, so that their first
 * statements meet, as they can on a real night; then let an hour pass (every send finishes).
 * On two machines whose clocks differ (`behindMs`: the second's date runs that far behind),
 * 03:00 comes twice: first on the first machine, whose run finishes before the second machine's
 * clock gets there, then on the second, as it does when two machines' clocks are apart.
 */
export async function night(ctx: CheckContext, machines = 1, behindMs = 0): Promise<Night> {
  const url = ctx.env.DATABASE_URL;
  const now = (await ctx.clockState(1))?.now;
  if (now === undefined) fail({ expected: 'worker 1 to be running', got: 'no worker 1' });
  const due = nextRun(now);
  const before = await lastId(url);
  // A lock left held for good stops every process waiting for it, and the night with them: the
  // watch ends the night with what it saw rather than wait for the step's time limit.
  const watch = await watchStuckLocks(ctx);
  try {
    const passing = (async () => {
      if (machines < 2 || behindMs <= 0) {
        await toThree(ctx, due - now, due, 1, ctx.workers * machines);
        await ctx.advanceClock(HOUR);
      } else {
        await toThree(ctx, due - now, due, 1, ctx.workers);
        // The first machine's run goes to its end (its emails sent) before the second machine's
        // clock reaches 03:00.
        await ctx.advanceClock(behindMs / 2);
        await sentToAll(url, before);
        await toThree(ctx, behindMs / 2, due, ctx.workers + 1, ctx.workers * machines);
        await ctx.advanceClock(HOUR);
      }
    })();
    passing.catch(() => {});
    await Promise.race([passing, watch.stuck]);
  } finally {
    await watch.stop();
  }
  return { date: new Date(due).toISOString().slice(0, 10), sent: await readOutbox(url, before), subscribers: await readSubscribers(url) };
}
