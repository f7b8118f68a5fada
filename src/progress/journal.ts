// The progress journal: every recorded attempt and hint, one JSON line each, appended beside the
// database. It is the second copy of the learner's progress: a crash that damages the database
// (or a learner who deletes it) cannot take the journal with it, and the store rebuilds the
// database from it. The same records are what `progress --export` writes and `--import` reads.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';

export interface AttemptRecord {
  readonly kind: 'attempt';
  readonly lesson: string;
  readonly passed: boolean;
  readonly workers: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly solution: boolean;
  readonly failedStep?: string;
  readonly at: string;
}

export interface HintRecord {
  readonly kind: 'hint';
  readonly lesson: string;
  readonly shown: number;
}

export type JournalRecord = AttemptRecord | HintRecord;

/** The journal's path for a database file: `.course/progress.db` → `.course/progress.journal`. */
export function journalFileFor(databaseFile: string): string {
  return databaseFile.replace(/\.db$/, '') + '.journal';
}

/** Append one record and flush it to disk before returning. */
export function appendRecord(file: string, record: JournalRecord): void {
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write a whole journal at once (a new file renamed into place, so a crash leaves the old one). */
export function writeJournal(file: string, records: readonly JournalRecord[]): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  renameSync(temp, file);
}

export interface ReadJournal {
  readonly records: JournalRecord[];
  /** Lines that could not be read (a write cut short by a crash): left out. */
  readonly skipped: number;
}

export function readJournal(file: string): ReadJournal {
  if (!existsSync(file)) return { records: [], skipped: 0 };
  return parseRecords(readFileSync(file, 'utf8').split('\n'));
}

export function parseRecords(lines: readonly string[]): ReadJournal {
  const records: JournalRecord[] = [];
  let skipped = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const record = asRecord(value);
    if (record) records.push(record);
    else skipped++;
  }
  return { records, skipped };
}

/** A record from untrusted JSON (a journal line, an imported file), or undefined when it is not one. */
export function asRecord(value: unknown): JournalRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.lesson !== 'string' || !v.lesson) return undefined;
  if (v.kind === 'hint') {
    return Number.isInteger(v.shown) && (v.shown as number) >= 0 ? { kind: 'hint', lesson: v.lesson, shown: v.shown as number } : undefined;
  }
  if (v.kind !== 'attempt') return undefined;
  if (typeof v.passed !== 'boolean' || typeof v.at !== 'string' || Number.isNaN(Date.parse(v.at))) return undefined;
  if (!Number.isInteger(v.workers) || !Number.isInteger(v.seed) || typeof v.durationMs !== 'number') return undefined;
  return {
    kind: 'attempt',
    lesson: v.lesson,
    passed: v.passed,
    workers: v.workers as number,
    seed: v.seed as number,
    durationMs: v.durationMs,
    solution: v.solution === true,
    ...(typeof v.failedStep === 'string' ? { failedStep: v.failedStep } : {}),
    at: v.at,
  };
}
