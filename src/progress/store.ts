// The one module that owns the progress database: every check attempt, with its verdict.
// SQLite in WAL mode with a busy timeout, so two course windows on one workspace both work;
// each attempt is one committed insert, so a crash loses nothing already recorded. Every record
// is also appended to a journal beside the database (journal.ts): when the database is damaged
// or gone, it is rebuilt from the journal and the learner is told what was restored.
import { existsSync, renameSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { appendRecord, journalFileFor, writeJournal, type JournalRecord } from './journal.ts';
import { allRecords, insert, openDatabase, restore, seedJournal, setHint, type AttemptRow } from './sql.ts';
import { freeName } from './stamp.ts';

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
   * Open (or create) the progress database. A damaged file is kept under a dated name beside it
   * and the database is rebuilt from the journal; a missing one with a journal left is rebuilt
   * too. `recovered` says what happened and what was restored. A locked or read-only database is
   * an error that says what to do.
   */
  static open(file: string, options: { timeoutMs?: number } = {}): ProgressStore {
    const timeoutMs = options.timeoutMs ?? Number(process.env.GSC_PROGRESS_TIMEOUT_MS ?? 5000);
    const journal = journalFileFor(file);
    try {
      if (!existsSync(file) && existsSync(journal) && statSync(journal).size > 0) {
        const db = openDatabase(file, timeoutMs);
        const restored = restore(db, journal);
        return new ProgressStore(file, db, `The progress database ${file} was missing; it was rebuilt from ${journal}: ${restored}.`);
      }
      const db = openDatabase(file, timeoutMs);
      if (!existsSync(journal)) seedJournal(db, journal);
      return new ProgressStore(file, db);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
        const kept = freeName((stamp) => `${file}.corrupt-${stamp}`);
        renameSync(file, kept);
        for (const extra of ['-wal', '-shm']) {
          if (existsSync(file + extra)) renameSync(file + extra, kept + extra);
        }
        const db = openDatabase(file, timeoutMs);
        const restored = existsSync(journal) ? restore(db, journal) : undefined;
        return new ProgressStore(
          file,
          db,
          restored
            ? `The progress database was damaged (${code}) and was kept as ${kept}. Your progress was restored from ${journal}: ${restored}.`
            : `The progress database was damaged (${code}) and was kept as ${kept}; there was no journal to restore from, so a new one was started.`,
        );
      }
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        throw new ProgressError(`The progress database ${file} is locked by another program. Close it (or the other course window) and try again.`, { cause: error });
      }
      if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
        throw new ProgressError(`The progress database ${file} cannot be opened for writing (${code}): nothing can be saved. Check the folder's permissions, or that the disk is not read-only.`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** The journal beside the database: the copy progress is restored from. */
  get journalFile(): string {
    return journalFileFor(this.file);
  }

  record(attempt: Attempt): void {
    const at = this.#saving('This attempt could not be recorded', () => insert(this.#db, attempt));
    this.#journal({ kind: 'attempt', ...attempt, durationMs: Math.round(attempt.durationMs), at });
  }

  /** Run a write; a disk or lock failure becomes a ProgressError that says what to do. */
  #saving<T>(what: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') {
        throw new ProgressError(`${what} in ${this.file} (${code}): ${explain(code)}`, { cause: error });
      }
      throw error;
    }
  }

  /** Append to the journal; the database already holds the record, so a failure here is said, not fatal to it. */
  #journal(record: JournalRecord): void {
    try {
      appendRecord(this.journalFile, record);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      throw new ProgressError(
        `Saved in ${this.file}, but its journal ${this.journalFile} could not be written (${code}), so this record has no second copy. Check the folder's permissions and free space.`,
        { cause: error },
      );
    }
  }

  /** Every attempt and hint, as journal records (what `progress --export` writes). */
  records(): JournalRecord[] {
    return allRecords(this.#db);
  }

  /**
   * Add records from elsewhere (an exported file): attempts not already here, hint counts that are
   * higher. Returns how many attempts were added.
   */
  merge(records: readonly JournalRecord[]): number {
    const before = this.#db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number };
    const added = this.#saving('The progress could not be imported', () => {
      this.#db.transaction(() => {
        const exists = this.#db.prepare('SELECT 1 FROM attempts WHERE lesson = ? AND at = ? AND seed = ? AND workers = ? AND passed = ?');
        for (const r of records) {
          if (r.kind === 'hint') setHint(this.#db, r.lesson, r.shown);
          else if (!exists.get(r.lesson, r.at, r.seed, r.workers, r.passed ? 1 : 0)) insert(this.#db, r);
        }
      }).immediate();
      return (this.#db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n - before.n;
    });
    writeJournal(this.journalFile, allRecords(this.#db));
    return added;
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
      .all(lesson) as AttemptRow[];
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
    this.#saving('The hint could not be recorded', () => setHint(this.#db, lesson, number));
    this.#journal({ kind: 'hint', lesson, shown: number });
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
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'another program holds a lock on it. Close it (or the other course window) and check again.';
  if (code.startsWith('SQLITE_READONLY')) return 'it is read-only. Check the permissions of the file and its folder, or that the disk is not read-only.';
  if (code === 'SQLITE_FULL') return 'the disk is full.';
  return 'the disk reported an error.';
}

