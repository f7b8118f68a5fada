// How this learner runs the course, so every command the course prints can be typed as shown:
// `npx global-state-course hint 1` when it was started through npx (the bare name is not on their
// PATH then), `global-state-course hint 1` when it is installed globally or linked.
import path from 'node:path';

export const COURSE_NAME = 'global-state-course';

export interface Started {
  readonly env: NodeJS.ProcessEnv;
  /** The running script (process.argv[1]). */
  readonly script?: string;
}

/** True when npm's `npx`/`npm exec` started this process (npm marks its environment), or it runs from npx's cache. */
export function startedByNpx({ env, script }: Started): boolean {
  if (env.npm_command === 'exec') return true;
  if (env.npm_execpath && /npx-cli\.js$/.test(env.npm_execpath)) return true;
  return script !== undefined && script.split(/[\\/]/).includes('_npx');
}

/**
 * The words that start the course for this learner: `npx global-state-course`, or
 * `npx --package=<file> global-state-course` when npx ran it from a tarball (a workshop's), or the
 * bare name.
 */
export function courseInvocation(started: Started = { env: process.env, script: process.argv[1] }): string {
  if (!startedByNpx(started)) return COURSE_NAME;
  const pkg = started.env.npm_config_package;
  if (pkg && /\.(tgz|tar\.gz)$/.test(pkg)) return `npx --package=${quote(pkg)} ${COURSE_NAME}`;
  return `npx ${COURSE_NAME}`;
}

/** A command line to print: `command('hint', 1)` → `npx global-state-course hint 1`. */
export function command(...args: readonly (string | number)[]): string {
  return [courseInvocation(), ...args.map(String)].join(' ');
}

/** The tarball as an absolute path (npx runs the course in the folder it was started from), quoted for a shell when needed. */
function quote(file: string): string {
  const shown = path.resolve(file);
  return /[\s'"$`\\]/.test(shown) ? `'${shown.replace(/'/g, `'\\''`)}'` : shown;
}
