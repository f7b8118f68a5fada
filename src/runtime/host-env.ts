// What a worker's environment holds, as a real host gives it: the environment the course was
// started with (as a process manager started from the same shell passes its own on), without
// the course's own variables and npm's lifecycle noise; then the lesson's settings, and what a
// process manager in cluster mode adds per process (PM2: NODE_APP_INSTANCE and pm_id) and per
// machine (its HOSTNAME).
import { seededRandom } from './dispatcher.ts';

/** The course's environment when it started, before any of its own code changed it. */
const startEnvironment: Readonly<NodeJS.ProcessEnv> = { ...process.env };

/** Variables that belong to the course or to npm running it, never to the app. */
const INTERNAL = [/^COURSE_/i, /^GSC_/i, /^npm_/i, /^INIT_CWD$/i, /^NODE_CHANNEL_/i, /^NODE_UNIQUE_ID$/i];

export function isInternalVariable(name: string): boolean {
  return INTERNAL.some((pattern) => pattern.test(name));
}

/** The environment a worker process starts with: the course's start environment, cleaned. */
export function baseEnvironment(from: Readonly<NodeJS.ProcessEnv> = startEnvironment): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && !isInternalVariable(name)) env[name] = value;
  }
  return env;
}

/** A lesson's settings without any course-only key (a lesson may pass the clock's start in them). */
export function appSettings(env: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(env ?? {})) if (!isInternalVariable(name)) settings[name] = value;
  return settings;
}

/**
 * Machine m's host name in a run with this seed: looks like a container's (`web-7f3a2c`),
 * differs per machine, stays the same within a run and for the same seed.
 */
export function machineHostname(seed: number, machine: number): string {
  const random = seededRandom((seed ^ Math.imul(machine, 0x9e3779b1)) >>> 0);
  const hex = Math.floor(random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `web-${hex}`;
}

/**
 * What PM2 gives process `instance` (from 0) of an app on a machine: NODE_APP_INSTANCE, and
 * pm_id, its id among all the processes that machine's PM2 runs (the same as the instance for
 * the web app's workers, the next free one for a second app such as the scheduled task).
 */
export function instanceVariables(instance: number, hostname: string, pmId = instance): Record<string, string> {
  return { NODE_APP_INSTANCE: String(instance), pm_id: String(pmId), HOSTNAME: hostname };
}
