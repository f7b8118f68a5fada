// What every plain command shares: where output goes, argument parsers, the workspace option,
// and opening the progress store for the length of one command.
import path from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import { findLesson, lessonsFor } from '../lessons/catalogue.ts';
import type { AppTrack, Lesson } from '../lessons/types.ts';
import { ProgressStore } from '../progress/store.ts';
import { command } from '../invocation.ts';
import { WorkspaceError, type Workspace } from '../workspace.ts';

/** An error the user can fix by calling differently: exit code 2 with this message. */
export class UsageError extends Error {}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** What a command group needs to register its commands. */
export interface Context {
  readonly io: Io;
  /** Wrap an action so its return value becomes the exit code. */
  readonly act: <A extends unknown[]>(fn: (...args: A) => number | Promise<number>) => (...args: A) => Promise<void>;
}

export function lessonList(track: AppTrack = 'node'): string {
  return lessonsFor(track).map((l) => `${l.number} (${l.slug.replace(/^\d+-/, '')})`).join(', ');
}

/**
 * The lesson a command names: a number, a name, or its folder as the shell completes it
 * (`01-frozen-at-startup/`, `./01-frozen-at-startup`, `01-frozen-at-startup/app.js`).
 */
export function lessonArg(key: string, track: AppTrack = 'node'): Lesson {
  const lesson = findLesson(key, track) ?? findLesson(folderOf(key), track);
  if (!lesson) throw new UsageError(`There is no lesson "${key}". Lessons: ${lessonList(track)}.`);
  return lesson;
}

function folderOf(key: string): string {
  const parts = key.split(/[\\/]+/).filter((p) => p && p !== '.');
  return parts.find((p) => findLesson(p) !== undefined) ?? key;
}

/** The lesson whose folder holds `cwd` inside `workspace`, if any. */
export function lessonAt(workspace: Workspace | undefined, cwd: string = process.cwd()): Lesson | undefined {
  if (!workspace) return undefined;
  const relative = path.relative(workspace.dir, cwd);
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const [first] = relative.split(path.sep);
  return lessonsFor(workspace.track).find((l) => l.slug === first);
}

/** The lesson given, or the one whose folder the learner is in. */
export function lessonOrHere(key: string | undefined, workspace: Workspace | undefined, verb: string, track: AppTrack = trackFor(workspace)): Lesson {
  if (key !== undefined) return lessonArg(key, track);
  const here = lessonAt(workspace);
  if (here) return here;
  throw new UsageError(`Which lesson? Name one (${command(verb, 1)}), or run it inside a lesson's folder. Lessons: ${lessonList(track)}.`);
}

export function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return n;
  };
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('the port must be a whole number from 0 to 65535 (0 picks a free port).');
  return n;
}

export function seedNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new InvalidArgumentError('the seed must be a whole number from 0 to 4294967295.');
  return n;
}

// Tracks (Node or Flask): the workspace's, or --track for runs without one (--solution).
export const trackOption = () => new Option('--track <track>', "the lessons' framework when there is no workspace (default: the workspace's, else node)").choices(['node', 'flask']);

export function trackFor(workspace: Workspace | undefined, flag?: string): AppTrack {
  if (flag === 'node' || flag === 'flask') return flag;
  return workspace?.track ?? 'node';
}

export const workspaceOption = () => new Option('--workspace <dir>', 'the course workspace (default: found from the current folder upward)');

export function noWorkspace(extra = ''): WorkspaceError {
  return new WorkspaceError(`No course workspace here (in or above ${process.cwd()}). Create one with \`${command('init')}\`${extra}, or pass --workspace DIR.`);
}

export function requireWorkspace(workspace: Workspace | undefined): Workspace {
  if (!workspace) throw noWorkspace();
  return workspace;
}

/** Open the workspace's progress for `use`, and close it after; a rebuilt database is reported on stderr. */
export function withProgress<T>(workspace: Workspace, use: (store: ProgressStore) => T, io: Io): T {
  const store = ProgressStore.open(workspace.progressFile);
  if (store.recovered) io.err(store.recovered);
  try {
    return use(store);
  } finally {
    store.close();
  }
}
