// What a lesson's steps draw from the run's seed and that no lesson owns alone.
import type { CheckContext } from './types.ts';

/** A worker of this run drawn from the seed, so that no worker number is special. */
export function someWorker(ctx: CheckContext): number {
  return ctx.workerAt(1 + Math.floor(ctx.random() * ctx.workers));
}
