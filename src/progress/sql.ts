// The progress database's SQL: its schema, and the reads and writes the store and its journal
// share (an attempt inserted live, replayed from the journal, or imported from another laptop).
import Database from 'better-sqlite3';
import { readJournal, writeJournal, type AttemptRecord, type JournalRecord } from './journal.ts';
import type { Attempt } from './store.ts';

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

/** Insert an attempt (with its own time when it has one); returns the time recorded. */
export function insert(db: Database.Database, attempt: Attempt): string {
  const row = db
    .prepare(
      `INSERT INTO attempts (lesson, passed, workers, seed, duration_ms, solution, failed_step, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, COALESCE(?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) RETURNING at`,
    )
    .get(
      attempt.lesson,
      attempt.passed ? 1 : 0,
      attempt.workers,
      attempt.seed,
      Math.round(attempt.durationMs),
      attempt.solution ? 1 : 0,
      attempt.failedStep ?? null,
      attempt.at ?? null,
    ) as { at: string };
  return row.at;
}

export function setHint(db: Database.Database, lesson: string, shown: number): void {
  db.prepare('INSERT INTO hints (lesson, shown) VALUES (?, ?) ON CONFLICT (lesson) DO UPDATE SET shown = MAX(shown, excluded.shown)').run(lesson, shown);
}

/** One row of the attempts table, as SQLite gives it back. */
export interface AttemptRow {
  lesson: string;
  passed: number;
  workers: number;
  seed: number;
  duration_ms: number;
  solution: number;
  failed_step: string | null;
  at: string;
}

export function allRecords(db: Database.Database): JournalRecord[] {
  const attempts = db.prepare('SELECT lesson, passed, workers, seed, duration_ms, solution, failed_step, at FROM attempts ORDER BY id').all() as AttemptRow[];
  const hints = db.prepare('SELECT lesson, shown FROM hints ORDER BY lesson').all() as { lesson: string; shown: number }[];
  return [
    ...attempts.map(
      (r): AttemptRecord => ({
        kind: 'attempt',
        lesson: r.lesson,
        passed: r.passed === 1,
        workers: r.workers,
        seed: r.seed,
        durationMs: r.duration_ms,
        solution: r.solution === 1,
        ...(r.failed_step ? { failedStep: r.failed_step } : {}),
        at: r.at,
      }),
    ),
    ...hints.map((h): JournalRecord => ({ kind: 'hint', lesson: h.lesson, shown: h.shown })),
  ];
}

/** A workspace from before the journal existed: start it with everything the database holds. */
export function seedJournal(db: Database.Database, journal: string): void {
  try {
    writeJournal(journal, allRecords(db));
  } catch {
    /* a read-only folder: recording will say so when it matters */
  }
}

/** Replay the journal into a fresh database; says what was restored, in words. */
export function restore(db: Database.Database, journal: string): string {
  const { records, skipped } = readJournal(journal);
  db.transaction(() => {
    for (const r of records) {
      if (r.kind === 'hint') setHint(db, r.lesson, r.shown);
      else insert(db, r);
    }
  }).immediate();
  const attempts = records.filter((r) => r.kind === 'attempt');
  const passed = [...new Set(attempts.filter((r) => r.passed && !r.solution).map((r) => r.lesson))];
  const parts = [
    `${attempts.length} attempt${attempts.length === 1 ? '' : 's'}`,
    passed.length ? `passed: ${passed.join(', ')}` : 'no lesson passed yet',
  ];
  if (skipped) parts.push(`${skipped} unreadable line${skipped === 1 ? '' : 's'} left out`);
  return parts.join('; ');
}

export function openDatabase(file: string, timeoutMs: number): Database.Database {
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
