// How the flake gate (and the short version of it in the tests) varies the runs of a check.
import type { Lesson } from '../src/lessons/types.ts';
import type { Policy } from '../src/runtime/dispatcher.ts';

/** The variations of run i: the lesson's own set-up first, then seeds, policies and one more worker. */
export function variation(lesson: Lesson, run: number): { workers: number; policy: Policy; seed: number } {
  const policies: Policy[] = ['round-robin', 'random', 'least-busy', 'per-connection'];
  return {
    workers: lesson.workers > 1 && run % 2 === 1 ? lesson.workers + 1 : lesson.workers,
    policy: run === 0 ? 'round-robin' : policies[run % policies.length],
    seed: 1000 + run,
  };
}

