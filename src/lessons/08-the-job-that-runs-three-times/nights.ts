// Lesson 8's nights: the check moves every process's clock to 03:00 at once, makes their first
// statements meet in the shared database, and lets an hour pass.
import type { CheckContext } from '../types.ts';
import { fail } from '../../check/expect.ts';
import { holdWrites, readOutbox, readSubscribers, type Sent } from './shared-database.ts';

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

/** Resolves once workers 1 to `count` all stand at `time` or later on their clocks (bounded). */
async function allReached(ctx: CheckContext, time: number, count: number, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (let worker = 1; worker <= count; worker++) {
    while (((await ctx.clockState(worker))?.now ?? Infinity) < time && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
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
 */
export async function night(ctx: CheckContext, machines = 1): Promise<Night> {
  const url = ctx.env.DATABASE_URL;
  const now = (await ctx.clockState(1))?.now;
  if (now === undefined) fail({ expected: 'worker 1 to be running', got: 'no worker 1' });
  const due = nextRun(now);
  const before = await lastId(url);
  const hold = await holdWrites(url, () => ctx.clockMoving());
  let atThree: Promise<void>;
  try {
    atThree = ctx.advanceClock(due - now);
    const moved = atThree.catch(() => {});
    // Every worker's clock reaches 03:00 (its timers due by then have fired) before the check
    // looks for the sessions that came: a worker slow to get there is not taken for one that
    // will not come.
    await Promise.race([allReached(ctx, due, ctx.workers * machines), moved]);
    await Promise.race([hold.queued(ctx.workers * machines), moved]);
  } finally {
    await hold.release();
  }
  await atThree;
  await ctx.advanceClock(HOUR);
  return { date: new Date(due).toISOString().slice(0, 10), sent: await readOutbox(url, before), subscribers: await readSubscribers(url) };
}

