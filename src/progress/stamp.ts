// Names for kept files (a damaged database, a learner's file before a reset) that a person can
// read: the local date and time, then a counter when that name is already taken.
import { existsSync } from 'node:fs';

/** `2026-12-01_15-40-09`: sorts by time, and is safe in a file name on every system. */
export function readableStamp(date: Date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}_${two(date.getHours())}-${two(date.getMinutes())}-${two(date.getSeconds())}`;
}

/** `make(stamp)`, or `make(stamp-2)`, `make(stamp-3)`… : the first name not already taken. */
export function freeName(make: (stamp: string) => string, date: Date = new Date()): string {
  const stamp = readableStamp(date);
  let name = make(stamp);
  for (let n = 2; existsSync(name); n++) name = make(`${stamp}-${n}`);
  return name;
}
