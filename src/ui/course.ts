// The course as the interactive screens use it: one workspace, its progress database kept open
// for the session, and the actions a screen can take, named for what happens. No React here.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { attemptOf } from '../progress/attempt.ts';
import type { CheckResult } from '../check/engine.ts';
import { lessonFiles, lessonsFor, solutionFile } from '../lessons/catalogue.ts';
import type { Lesson } from '../lessons/types.ts';
import { lessonStates, type LessonStatus } from '../progress/states.ts';
import { ProgressStore } from '../progress/store.ts';
import { learnerFile, resetLesson, type Workspace } from '../workspace.ts';
import { diffLines, type DiffLine } from './diff-lines.ts';

export interface Recorded {
  /** True when this run is the lesson's first pass. */
  readonly firstPass: boolean;
  /** The lesson this pass opened, when it opened one. */
  readonly unlocked?: Lesson;
}

export class CourseSession {
  readonly workspace: Workspace;
  /** Set when the progress database had to be rebuilt; the home screen shows it. */
  readonly notice?: string;
  readonly #store: ProgressStore;
  readonly #cwd: string;

  private constructor(workspace: Workspace, store: ProgressStore, cwd: string) {
    this.workspace = workspace;
    this.#store = store;
    this.#cwd = cwd;
    this.notice = store.recovered;
  }

  static open(workspace: Workspace, cwd: string = process.cwd()): CourseSession {
    return new CourseSession(workspace, ProgressStore.open(workspace.progressFile), cwd);
  }

  /** The lessons of the workspace's track (Node or Flask), in order. */
  get lessons(): readonly Lesson[] {
    return lessonsFor(this.workspace.track);
  }

  /** Every lesson with its state, read afresh (another course window may have recorded a pass). */
  statuses(): LessonStatus[] {
    return lessonStates(this.lessons, this.#store.summary());
  }

  status(lesson: Lesson): LessonStatus {
    return this.statuses().find((s) => s.lesson.slug === lesson.slug)!;
  }

  /** The learner's file for a lesson, absolute. */
  fileOf(lesson: Lesson): string {
    return learnerFile(this.workspace, lesson);
  }

  /** The learner's file as they can type it: relative to where the course was started, when inside it. */
  displayPath(lesson: Lesson): string {
    const file = this.fileOf(lesson);
    const relative = path.relative(this.#cwd, file);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  }

  /** Record a check of the learner's file, as the plain `check` command does. */
  recordCheck(lesson: Lesson, result: CheckResult): Recorded {
    const before = this.status(lesson).state === 'passed';
    const attempt = attemptOf(lesson, result, false);
    this.#store.record(attempt);
    const firstPass = attempt.passed && !before;
    const next = this.lessons.find((l) => l.number === lesson.number + 1);
    const unlocked = firstPass && next && this.status(next).state !== 'locked' ? next : undefined;
    return { firstPass, unlocked };
  }

  hintsShown(lesson: Lesson): number {
    return this.#store.hintsShown(lesson.slug);
  }

  /** Show the next hint (the last one again once all are seen); returns its number, from 1. */
  revealHint(lesson: Lesson): number {
    const next = Math.min(this.hintsShown(lesson) + 1, lesson.hints.length);
    this.#store.markHintShown(lesson.slug, next);
    return next;
  }

  /** Put the starter back; returns where the learner's versions were kept (none when unchanged). */
  reset(lesson: Lesson): string[] {
    return resetLesson(this.workspace, lesson);
  }

  /** The reference fix as a diff against the learner's file (the whole fix when the file is missing). */
  solutionDiff(lesson: Lesson): DiffLine[] {
    const reference = readFileSync(solutionFile(lesson), 'utf8');
    const file = this.fileOf(lesson);
    const mine = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return diffLines(mine, reference);
  }

  /**
   * The reference fix for every file the lesson has the learner edit (app.js, and jobs.js where
   * there is one), each as a diff against the learner's file, named as the learner can type it.
   */
  solutionDiffs(lesson: Lesson): { readonly file: string; readonly lines: DiffLine[] }[] {
    const folder = path.dirname(solutionFile(lesson));
    const appShown = this.displayPath(lesson);
    return lessonFiles(lesson).map((name) => {
      const reference = readFileSync(path.join(folder, name), 'utf8');
      const file = path.join(this.workspace.dir, lesson.slug, name);
      const mine = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return { file: path.join(path.dirname(appShown), name), lines: diffLines(mine, reference) };
    });
  }

  close(): void {
    this.#store.close();
  }
}
