// Each run's data lives in a scratch folder of its own, filled with the lesson's seed data, and,
// for a lesson that declares one, in a fresh database of the course's PostgreSQL server.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../runtime/dispatcher.ts';
import type { Lesson } from './lesson.ts';

/** The machine, not the learner's app, is in the way: exit code 2 and this message. */
export class EnvironmentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvironmentError';
  }
}

/** One machine's disk: the folder its processes start in and the environment that points at its data. */
export interface MachineDisk {
  readonly cwd: string;
  readonly env: Record<string, string>;
}

export interface SeededRun {
  readonly dir: string;
  readonly env: Record<string, string>;
  /**
   * Machine k's own disk (k >= 2; machine 1's is `dir` and `env`): a folder of its own, seeded
   * like the first one. Only what `env` names outside the folders (DATABASE_URL) is shared.
   */
  machineDisk(machine: number): MachineDisk;
  /** Remove the folders and everything in them, and drop the run's database. */
  remove(): Promise<void>;
}

/**
 * Make a scratch folder and write the lesson's seed data into it; a full or unwritable disk is an
 * EnvironmentError, and so is a database server that cannot run here. The folder's name says
 * nothing about who runs the app (a check, a person): every caller gets the same kind of name, as
 * a host's release folder. `seed` makes the data replayable (the same seed, the same data).
 */
export async function seedRun(lesson: Lesson, seed?: number): Promise<SeededRun> {
  const random = () => (seed === undefined ? Math.random : seededRandom(seed));
  const folders: string[] = [];
  const disks = new Map<number, MachineDisk>();
  const removeFolders = () => {
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
  };
  const seedFolder = (): MachineDisk => {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(path.join(os.tmpdir(), 'app-'));
      folders.push(dir);
      // The machine's own temporary folder too, as each server or container has: a lock file in
      // the temp folder is a lock on one machine (and one run: two checks at once share nothing).
      const tmp = path.join(dir, 'tmp');
      mkdirSync(tmp);
      return { cwd: dir, env: { ...lesson.seed(dir, random()), TMPDIR: tmp } };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason = code === 'ENOSPC' || code === 'SQLITE_FULL' ? 'the disk is full' : (error as Error).message;
      throw new EnvironmentError(
        `The course could not write this run's data in ${dir ?? os.tmpdir()} (${reason}). Free some space, or point TMPDIR to a folder with room.`,
        { cause: error },
      );
    }
  };
  let first: MachineDisk;
  try {
    first = seedFolder();
  } catch (error) {
    removeFolders();
    throw error;
  }
  const shared: Record<string, string> = {};
  let dropDatabase = async () => {};
  if (lesson.database) {
    // Loaded only by the lessons that need it: the server's module brings the PostgreSQL client.
    const { databaseServer, DatabaseUnavailableError } = await import('../runtime/postgres.ts');
    try {
      const database = await databaseServer.createDatabase({ name: lesson.slug, sql: lesson.database.sql });
      shared.DATABASE_URL = database.url;
      dropDatabase = () => database.drop();
    } catch (error) {
      removeFolders();
      if (error instanceof DatabaseUnavailableError) throw new EnvironmentError(error.message, { cause: error });
      throw new EnvironmentError(`The course could not make this run's database (${(error as Error).message}).`, { cause: error });
    }
  }
  return {
    dir: first.cwd,
    env: { ...first.env, ...shared },
    machineDisk(machine) {
      if (machine <= 1) return first;
      let disk = disks.get(machine);
      if (!disk) {
        disk = seedFolder();
        disks.set(machine, disk);
      }
      return disk;
    },
    async remove() {
      removeFolders();
      await dropDatabase();
    },
  };
}
