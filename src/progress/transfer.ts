// Progress that moves between laptops: `progress --export FILE` writes every attempt and hint as
// one JSON file; `progress --import FILE` adds them to another workspace (nothing is removed).
import { readFileSync, writeFileSync } from 'node:fs';
import { asRecord, type JournalRecord } from './journal.ts';
import { ProgressError, type ProgressStore } from './store.ts';

const FORMAT = 'global-state-course progress';

export interface ExportFile {
  readonly format: typeof FORMAT;
  readonly version: 1;
  readonly exportedAt: string;
  readonly records: readonly JournalRecord[];
}

export interface Moved {
  readonly attempts: number;
  /** Lessons passed in the moved records. */
  readonly passed: readonly string[];
}

function summarise(records: readonly JournalRecord[], attempts: number): Moved {
  const passed = [...new Set(records.filter((r) => r.kind === 'attempt' && r.passed && !r.solution).map((r) => r.lesson))];
  return { attempts, passed };
}

export function exportProgress(store: ProgressStore, file: string): Moved {
  const records = store.records();
  const body: ExportFile = { format: FORMAT, version: 1, exportedAt: new Date().toISOString(), records };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return summarise(records, records.filter((r) => r.kind === 'attempt').length);
}

/** Read an exported file; a file that is not one is a ProgressError saying so. */
export function readExport(file: string): JournalRecord[] {
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as { code?: string }).code) throw error;
    throw new ProgressError(`${file} is not a progress export (it is not JSON). Make one with: progress --export FILE`);
  }
  const b = body as Partial<ExportFile> | null;
  if (!b || b.format !== FORMAT || !Array.isArray(b.records)) {
    throw new ProgressError(`${file} is not a progress export of this course. Make one with: progress --export FILE`);
  }
  const records = b.records.map(asRecord);
  const bad = records.filter((r) => r === undefined).length;
  if (bad) throw new ProgressError(`${file} has ${bad} record${bad === 1 ? '' : 's'} that cannot be read; nothing was imported.`);
  return records as JournalRecord[];
}

export function importProgress(store: ProgressStore, file: string): Moved {
  const records = readExport(file);
  return summarise(records, store.merge(records));
}
