// The learner's workspace: one folder per lesson holding the app they edit, and `.course/`
// holding the progress database and backups. Found from the current folder upward.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { exerciseFile, lessonFiles, lessonsFor, solutionFile } from './lessons/catalogue.ts';
import type { AppTrack, Lesson } from './lessons/types.ts';
import { command } from './invocation.ts';
import { freeName } from './progress/stamp.ts';
import { packageRoot } from './runtime/package-root.ts';

export const DEFAULT_WORKSPACE = 'global-state-course';
const MARKER = path.join('.course', 'workspace.json');

export interface Workspace {
  readonly dir: string;
  readonly progressFile: string;
  readonly backupsDir: string;
  /** The framework of the workspace's apps: 'node' (Express), or 'flask' (made with `init --track flask`). */
  readonly track: AppTrack;
}

export const TRACKS: readonly AppTrack[] = ['node', 'flask'];

export class WorkspaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspaceError';
  }
}

function open(dir: string): Workspace {
  return {
    dir,
    progressFile: path.join(dir, '.course', 'progress.db'),
    backupsDir: path.join(dir, '.course', 'backups'),
    track: trackOf(dir),
  };
}

/** The track written in the workspace's marker; workspaces made before tracks existed are Node ones. */
function trackOf(dir: string): AppTrack {
  try {
    const marker = JSON.parse(readFileSync(path.join(dir, MARKER), 'utf8')) as { track?: string };
    return marker.track === 'flask' ? 'flask' : 'node';
  } catch {
    return 'node';
  }
}

export function isWorkspace(dir: string): boolean {
  return existsSync(path.join(dir, MARKER));
}

/** The workspace holding `from`, or the default one inside it; undefined when there is none. */
export function findWorkspace(from: string = process.cwd()): Workspace | undefined {
  const start = path.resolve(from);
  if (isWorkspace(path.join(start, DEFAULT_WORKSPACE))) return open(path.join(start, DEFAULT_WORKSPACE));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (isWorkspace(dir)) return open(dir);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Use `--workspace DIR` when given (it must be a workspace), else search from the current folder. */
export function resolveWorkspace(explicit?: string): Workspace | undefined {
  if (explicit) {
    const dir = path.resolve(explicit);
    if (!isWorkspace(dir)) {
      throw new WorkspaceError(`${dir} is not a course workspace. Create one with: ${command('init', explicit)}`);
    }
    return open(dir);
  }
  return findWorkspace();
}

export interface InitResult {
  readonly workspace: Workspace;
  readonly created: boolean;
  /** Lesson folders copied now (existing ones are never overwritten). */
  readonly added: readonly string[];
}

/** The workspace a folder is inside of (not the folder itself), if any. */
export function enclosingWorkspace(dir: string): Workspace | undefined {
  for (let parent = path.dirname(path.resolve(dir)); ; parent = path.dirname(parent)) {
    if (isWorkspace(parent)) return open(parent);
    if (path.dirname(parent) === parent) return undefined;
  }
}

/**
 * Create a workspace for a track (Node unless told), or add lessons missing from an existing one.
 * Never overwrites the learner's files; an existing workspace keeps its track.
 */
export function initWorkspace(dir: string, track: AppTrack = 'node', trackGiven = false): InitResult {
  const target = path.resolve(dir);
  const outer = isWorkspace(target) ? undefined : enclosingWorkspace(target);
  if (outer) {
    throw new WorkspaceError(
      `${target} is inside the course workspace ${outer.dir}: a workspace is not made inside another. Use that one (run \`${command()}\` in it), or choose a folder outside it.`,
    );
  }
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new WorkspaceError(`${target} exists and is not a folder.`);
  }
  const created = !isWorkspace(target);
  if (!created && trackGiven && trackOf(target) !== track) {
    throw new WorkspaceError(`${target} is already a workspace for the ${trackOf(target) === 'flask' ? 'Flask' : 'Node'} track. Make the ${track === 'flask' ? 'Flask' : 'Node'} one in another folder.`);
  }
  if (created && existsSync(target) && readdirSync(target).length > 0) {
    throw new WorkspaceError(`${target} already exists and is not empty. Choose another folder, or an empty one.`);
  }
  mkdirSync(path.join(target, '.course', 'backups'), { recursive: true });
  if (created) {
    const version = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
    writeFileSync(path.join(target, MARKER), `${JSON.stringify({ course: 'global-state-course', version, track, createdAt: new Date().toISOString() }, null, 2)}\n`);
    writeFileSync(path.join(target, 'README.md'), track === 'flask' ? WORKSPACE_README.replace("one lesson's app.", "one lesson's Flask app (app.py; the course runs it with Python and Flask 2.2 or newer).") : WORKSPACE_README);
  }
  const added: string[] = [];
  for (const lesson of lessonsFor(trackOf(target))) {
    const folder = path.join(target, lesson.slug);
    if (existsSync(folder)) continue;
    mkdirSync(folder, { recursive: true });
    for (const name of lessonFiles(lesson)) cpSync(path.join(path.dirname(exerciseFile(lesson)), name), path.join(folder, name));
    added.push(lesson.slug);
  }
  return { workspace: open(target), created, added };
}

/** The file the learner edits for a lesson. */
export function learnerFile(workspace: Workspace, lesson: Lesson): string {
  return path.join(workspace.dir, lesson.slug, lesson.file);
}

/** Put the starter back, keeping the learner's files in .course/backups; returns the backups' paths. */
export function resetLesson(workspace: Workspace, lesson: Lesson): string[] {
  const backups: string[] = [];
  for (const name of lessonFiles(lesson)) {
    const file = path.join(workspace.dir, lesson.slug, name);
    const starter = path.join(path.dirname(exerciseFile(lesson)), name);
    if (existsSync(file)) {
      if (readFileSync(file, 'utf8') === readFileSync(starter, 'utf8')) continue;
      const backup = freeName((stamp) => path.join(workspace.backupsDir, `${lesson.slug}-${stamp}-${name}`));
      mkdirSync(workspace.backupsDir, { recursive: true });
      copyFileSync(file, backup);
      backups.push(backup);
    }
    mkdirSync(path.dirname(file), { recursive: true });
    copyFileSync(starter, file);
  }
  return backups;
}

/** Which app a command runs: the reference fix, or the learner's file (which must exist). */
export function appFileFor(lesson: Lesson, workspace: Workspace | undefined, useSolution: boolean): string {
  if (useSolution) return solutionFile(lesson);
  if (!workspace) {
    throw new WorkspaceError(
      `No course workspace here (in or above ${process.cwd()}). Create one with \`${command('init')}\`, pass --workspace DIR, or add --solution to run the reference fix.`,
    );
  }
  const file = learnerFile(workspace, lesson);
  if (!existsSync(file)) {
    throw new WorkspaceError(`${file} is missing. Restore the starter with: ${command('reset', lesson.number)}`);
  }
  return file;
}

const WORKSPACE_README = `# Your global-state-course workspace

Each folder holds one lesson's app. Edit the app in your own editor, then check it:

    npx global-state-course            # the interactive course
    npx global-state-course check 1    # or check a lesson from the shell

Your progress lives in .course/progress.db; reset backups in .course/backups/.
`;
