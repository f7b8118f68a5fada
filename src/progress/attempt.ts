// What a check run means for progress: one rule for the plain commands and the interactive course.
import type { CheckResult } from '../check/engine.ts';
import type { Lesson } from '../check/lesson.ts';
import type { Attempt } from './store.ts';

/**
 * The attempt to record for `result`. A pass counts (and opens the next lesson) only with at
 * least the lesson's own number of workers: the one-worker "works locally" run passes lesson 3's
 * starter, which is the point of that run, not a solution.
 */
export function attemptOf(lesson: Lesson, result: CheckResult, solution: boolean): Attempt {
  const counts = passCounts(lesson, result);
  return {
    lesson: lesson.slug,
    passed: counts,
    workers: result.workers,
    seed: result.seed,
    durationMs: result.durationMs,
    solution,
    failedStep: result.problem
      ? 'app did not start'
      : result.passed && !counts
        ? `passed with ${result.workers} worker${result.workers === 1 ? '' : 's'}; the lesson needs ${lesson.workers}`
        : result.steps.find((s) => !s.passed)?.title,
  };
}

export function passCounts(lesson: Lesson, result: CheckResult): boolean {
  return result.passed && result.workers >= lesson.workers;
}
