// A disk whose file clock ticks coarsely, for the lessons whose data lives in a SQLite file: two
// writes within one tick (a second on many disks, a few milliseconds on others) leave the files
// with the same times, and a write-ahead log that SQLite has checkpointed keeps its size. A copy
// that a worker keeps until the database's files look changed (their mtime, their size) then
// keeps old data after a change, and a Last-Modified made from them does not move. The check makes
// a change within one tick the same way every run: it stamps the files with one second before the
// workers look and again after the change; its other edits (inTheNextTick) each move the files'
// times to a second of their own, so that only the changes made within one tick go unseen.
import { existsSync, utimesSync } from 'node:fs';
import Database from 'better-sqlite3';

const SUFFIXES = ['', '-wal', '-shm', '-journal'] as const;

/** The database's files (the database, its log and shared memory, a rollback journal) all stamped with one whole second. */
export function stampFilesAt(dbFile: string, second: number): void {
  for (const suffix of SUFFIXES) {
    const file = dbFile + suffix;
    if (existsSync(file)) utimesSync(file, second, second);
  }
}

/** The second each database's files were last stamped with by the check (its file clock). */
const ticks = new Map<string, number>();

/** The file clock's present tick for `dbFile`: the second it last stamped, or now. */
function presentTick(dbFile: string): number {
  return ticks.get(dbFile) ?? Math.floor(Date.now() / 1000);
}

/**
 * An edit in a tick of the file clock of its own: afterwards the database's files hold a whole
 * second later than any the check stamped before, so every edit moves their times (and a
 * Last-Modified made from them), whatever the machine's speed. Only withinOneTick() makes a
 * change that the files' times do not show, in the steps made for it.
 */
export function inTheNextTick<T>(dbFile: string, edit: () => T): T {
  const result = edit();
  const second = Math.max(presentTick(dbFile) + 1, Math.floor(Date.now() / 1000));
  ticks.set(dbFile, second);
  stampFilesAt(dbFile, second);
  return result;
}

/**
 * SQLite's checkpoint, as it runs by itself once the log has grown: the log's pages go into the
 * database, and the next writer starts the log again from its beginning (the file keeps its size).
 */
export function checkpoint(dbFile: string): void {
  const db = new Database(dbFile);
  try {
    db.pragma('wal_checkpoint(RESTART)');
  } finally {
    db.close();
  }
}

/**
 * Give the log room for the next few changes: `rounds` commits that write each of `table`'s rows
 * back unchanged (as a busy shop's log holds the day's many commits), then a checkpoint. A change
 * then writes its pages over the log's start, and the log keeps its size.
 */
export function roomInTheLog(dbFile: string, table: string, rounds = 16): void {
  const db = new Database(dbFile);
  try {
    const touch = db.prepare(`UPDATE ${table} SET rowid = rowid`);
    for (let i = 0; i < rounds; i++) touch.run();
  } finally {
    db.close();
  }
  checkpoint(dbFile);
}

/** What happens within one tick of the file clock, and after it. */
export interface OneTick {
  /** The workers look at the data (and keep whatever they keep). */
  look(): Promise<void>;
  /** The change. */
  change(): Promise<void> | void;
  /** The workers are asked again. */
  then(): Promise<void>;
}

/**
 * A change within one tick of the file clock: the database's files stamped with the same second
 * before `look` and after `change`, and the log's size unchanged between them. A connection stays
 * open meanwhile (the shop's own tools keep the database open), so that no connection that closes
 * is the last one, which would fold the log into the database and remove it.
 */
export async function withinOneTick(dbFile: string, table: string, { look, change, then }: OneTick): Promise<void> {
  const keeper = new Database(dbFile);
  try {
    // Having read once, the connection keeps its shared lock on the database while it is open.
    keeper.prepare('SELECT count(*) FROM sqlite_master').get();
    roomInTheLog(dbFile, table);
    const second = presentTick(dbFile);
    ticks.set(dbFile, second);
    stampFilesAt(dbFile, second);
    await look();
    await change();
    stampFilesAt(dbFile, second);
    await then();
  } finally {
    keeper.close();
  }
}
