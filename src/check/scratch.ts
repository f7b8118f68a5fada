// Each run's data lives in a scratch folder of its own, filled with the lesson's seed data.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Lesson } from './lesson.ts';

/** The machine, not the learner's app, is in the way: exit code 2 and this message. */
export class EnvironmentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvironmentError';
  }
}

export interface SeededRun {
  readonly dir: string;
  readonly env: Record<string, string>;
  /** Remove the folder and everything in it. */
  remove(): void;
}

/**
 * Make a scratch folder and write the lesson's seed data into it; a full or unwritable disk is an
 * EnvironmentError. The folder's name says nothing about who runs the app (a check, a person):
 * every caller gets the same kind of name, as a host's release folder. `random` varies the data.
 */
export function seedRun(lesson: Lesson, random: () => number = Math.random): SeededRun {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'app-'));
    const env = lesson.seed(dir, random);
    const made = dir;
    return { dir: made, env, remove: () => rmSync(made, { recursive: true, force: true }) };
  } catch (error) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    const code = (error as { code?: string }).code;
    const reason = code === 'ENOSPC' || code === 'SQLITE_FULL' ? 'the disk is full' : (error as Error).message;
    throw new EnvironmentError(
      `The course could not write this run's data in ${dir ?? os.tmpdir()} (${reason}). Free some space, or point TMPDIR to a folder with room.`,
      { cause: error },
    );
  }
}
