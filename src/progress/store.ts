// The one module that owns the progress database: every check attempt, with its verdict.
// SQLite in WAL mode with a busy timeout, so two course windows on one workspace both work;
// each attempt is one committed insert, so a crash loses nothing already recorded.
import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface Attempt {
  readonly lesson: string;
  readonly passed: boolean;
  readonly workers: number;
  readonly seed: number;
  readonly durationMs: number;
  /** Attempts on the reference fix (instructors, demos) never unlock anything. */
  readonly solution: boolean;
  /** The first failing step's title, for the record. */
  readonly failedStep?: string;
  readonly at?: string;
}

export interface LessonProgress {
  readonly attempts: number;
  readonly passed: boolean;
  readonly firstPassedAt?: string;
  readonly lastAttemptAt?: string;
}

export class ProgressError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProgressError';
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY,
  lesson TEXT NOT NULL,
  passed INTEGER NOT NULL,
  workers INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  solution INTEGER NOT NULL DEFAULT 0,
  failed_step TEXT,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS attempts_lesson ON attempts (lesson);
CREATE TABLE IF NOT EXISTS hints (
  lesson TEXT PRIMARY KEY,
  shown INTEGER NOT NULL
);
`;

export class ProgressStore {
  readonly file: string;
  /** Set when the database had to be rebuilt: what happened, and where the old file went. */
  readonly recovered?: string;
  readonly #db: Database.Database;

  private constructor(file: string, db: Database.Database, recovered?: string) {
    this.file = file;
    this.#db = db;
    this.recovered = recovered;
  }

  /**
   * Open (or create) the progress database. A corrupt file is kept as a copy beside it and a
   * fresh database takes its place; `recovered` says so. A locked or read-only one is an error
   * that says what to do.
   */
  static open(file: string, options: { timeoutMs?: number } = {}): ProgressStore {
    const timeoutMs = options.timeoutMs ?? Number(process.env.GSC_PROGRESS_TIMEOUT_MS ?? 5000);
    try {
      return new ProgressStore(file, openDatabase(file, timeoutMs));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
        const kept = `${file}.corrupt-${Date.now()}`;
        renameSync(file, kept);
        for (const extra of ['-wal', '-shm']) {
          if (existsSync(file + extra)) renameSync(file + extra, kept + extra);
        }
        return new ProgressStore(
          file,
          openDatabase(file, timeoutMs),
          `The progress database was damaged (${code}); it was kept as ${kept} and a new one was started. Passed lessons recorded in it are not lost: the file is still there.`,
        );
      }
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        throw new ProgressError(`The progress database ${file} is locked by another program. Close it (or the other course window) and try again.`, { cause: error });
      }
      if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES') {
        throw new ProgressError(`The progress database ${file} cannot be opened for writing (${code}). Check the folder's permissions.`, { cause: error });
      }
      throw error;
    }
  }

  record(attempt: Attempt): void {
    try {
      this.#insert(attempt);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_READONLY' || code === 'SQLITE_FULL' || code === 'SQLITE_IOERR') {
        throw new ProgressError(`This attempt could not be recorded in ${this.file} (${code}): ${explain(code)}`, { cause: error });
      }
      throw error;
    }
  }

  #insert(attempt: Attempt): void {
    this.#db
      .prepare(
        'INSERT INTO attempts (lesson, passed, workers, seed, duration_ms, solution, failed_step) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        attempt.lesson,
        attempt.passed ? 1 : 0,
        attempt.workers,
        attempt.seed,
        Math.round(attempt.durationMs),
        attempt.solution ? 1 : 0,
        attempt.failedStep ?? null,
      );
  }

  /** Per lesson slug: attempts on the learner's own file, and whether one passed. */
  summary(): Map<string, LessonProgress> {
    const rows = this.#db
      .prepare(
        `SELECT lesson, COUNT(*) AS attempts, MAX(passed) AS passed,
                MIN(CASE WHEN passed = 1 THEN at END) AS firstPassedAt, MAX(at) AS lastAttemptAt
         FROM attempts WHERE solution = 0 GROUP BY lesson`,
      )
      .all() as { lesson: string; attempts: number; passed: number; firstPassedAt: string | null; lastAttemptAt: string }[];
    return new Map(
      rows.map((r) => [
        r.lesson,
        {
          attempts: r.attempts,
          passed: r.passed === 1,
          firstPassedAt: r.firstPassedAt ?? undefined,
          lastAttemptAt: r.lastAttemptAt,
        },
      ]),
    );
  }

  attempts(lesson: string): Attempt[] {
    const rows = this.#db
      .prepare('SELECT lesson, passed, workers, seed, duration_ms, solution, failed_step, at FROM attempts WHERE lesson = ? ORDER BY id')
      .all(lesson) as {
      lesson: string;
      passed: number;
      workers: number;
      seed: number;
      duration_ms: number;
      solution: number;
      failed_step: string | null;
      at: string;
    }[];
    return rows.map((r) => ({
      lesson: r.lesson,
      passed: r.passed === 1,
      workers: r.workers,
      seed: r.seed,
      durationMs: r.duration_ms,
      solution: r.solution === 1,
      failedStep: r.failed_step ?? undefined,
      at: r.at,
    }));
  }

  /** How many hints of a lesson the learner has seen. */
  hintsShown(lesson: string): number {
    const row = this.#db.prepare('SELECT shown FROM hints WHERE lesson = ?').get(lesson) as { shown: number } | undefined;
    return row?.shown ?? 0;
  }

  /** Record that hint `number` (1-based) was shown; never lowers the count. */
  markHintShown(lesson: string, number: number): void {
    this.#db
      .prepare('INSERT INTO hints (lesson, shown) VALUES (?, ?) ON CONFLICT (lesson) DO UPDATE SET shown = MAX(shown, excluded.shown)')
      .run(lesson, number);
  }

  /** A consistent copy of the database, for backups. */
  async backup(to: string): Promise<void> {
    await this.#db.backup(to);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function explain(code: string): string {
  switch (code) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'another program holds a lock on it. Close it (or the other course window) and check again.';
    case 'SQLITE_READONLY':
      return 'it is read-only. Check the permissions of the file and its folder.';
    case 'SQLITE_FULL':
      return 'the disk is full.';
    default:
      return 'the disk reported an error.';
  }
}

function openDatabase(file: string, timeoutMs: number): Database.Database {
  const db = new Database(file, { timeout: timeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') {
      throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
