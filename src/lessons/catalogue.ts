// The course in order. Adding a lesson: its folder here, in exercises/ and in solutions/, and one line below.
import path from 'node:path';
import { packageRoot } from '../runtime/package-root.ts';
import type { AppTrack, Lesson } from './types.ts';
import { onTrack } from '../check/lesson.ts';
import frozenAtStartup from './01-frozen-at-startup/lesson.ts';
import everyonesList from './02-everyones-list/lesson.ts';
import twoWorkersTwoLists from './03-two-workers-two-lists/lesson.ts';
import loggedOutAtRandom from './04-logged-out-at-random/lesson.ts';
import theCacheThatLies from './05-the-cache-that-lies/lesson.ts';
import lostUpdates from './06-lost-updates/lesson.ts';
import crossedWires from './07-crossed-wires/lesson.ts';
import theJobThatRunsThreeTimes from './08-the-job-that-runs-three-times/lesson.ts';
import capstone from './09-capstone/lesson.ts';

export const lessons: readonly Lesson[] = [
  frozenAtStartup,
  everyonesList,
  twoWorkersTwoLists,
  loggedOutAtRandom,
  theCacheThatLies,
  lostUpdates,
  crossedWires,
  theJobThatRunsThreeTimes,
  capstone,
];

/** The lessons written for a track, in order, each as that track presents it (its file, text, hints). */
export function lessonsFor(track: AppTrack): readonly Lesson[] {
  if (track === 'node') return lessons;
  return lessons.flatMap((lesson) => onTrack(lesson, track) ?? []);
}

/** Find a lesson by number ("2"), slug ("02-everyones-list") or the slug's words ("everyones-list"). */
export function findLesson(key: string, track: AppTrack = 'node'): Lesson | undefined {
  const text = key.trim().toLowerCase();
  const all = lessonsFor(track);
  if (/^\d+$/.test(text)) return all.find((l) => l.number === Number(text));
  return all.find((l) => l.slug === text || l.slug.replace(/^\d+-/, '') === text);
}

/** The files the learner edits: the app, and the jobs module for lessons that have one. */
export function lessonFiles(lesson: Lesson): string[] {
  return lesson.jobs ? [lesson.file, lesson.jobs] : [lesson.file];
}

/** The jobs module beside `appFile`, when the lesson has one and it exists. */
export { jobsFileFor } from '../check/lesson.ts';

/** The starter app shipped with the course. */
export function exerciseFile(lesson: Lesson): string {
  return path.join(packageRoot, 'exercises', lesson.slug, lesson.file);
}

/** The reference fix shipped with the course. */
export function solutionFile(lesson: Lesson): string {
  return path.join(packageRoot, 'solutions', lesson.slug, lesson.file);
}
