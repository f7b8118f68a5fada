// Which lessons are open: the first always; each next one once the one before it has passed.
import type { Lesson } from '../check/lesson.ts';
import type { LessonProgress } from './store.ts';

export type LessonState = 'locked' | 'current' | 'open' | 'passed';

export interface LessonStatus {
  readonly lesson: Lesson;
  readonly state: LessonState;
  readonly attempts: number;
}

export function lessonStates(lessons: readonly Lesson[], progress: ReadonlyMap<string, LessonProgress>): LessonStatus[] {
  let previousPassed = true;
  let currentGiven = false;
  return lessons.map((lesson) => {
    const record = progress.get(lesson.slug);
    const passed = record?.passed ?? false;
    let state: LessonState;
    if (passed) state = 'passed';
    else if (!previousPassed) state = 'locked';
    else if (!currentGiven) {
      state = 'current';
      currentGiven = true;
    } else state = 'open';
    previousPassed = passed;
    return { lesson, state, attempts: record?.attempts ?? 0 };
  });
}
