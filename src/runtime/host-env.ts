// What a worker's environment holds, as a real host gives it: the environment the course was
// started with (as a process manager started from the same shell passes its own on), without
// the course's own variables and npm's lifecycle noise; then the lesson's settings, and what a
// process manager in cluster mode adds per process (PM2: NODE_APP_INSTANCE and pm_id) and per
// machine (its HOSTNAME).
import os from 'node:os';
import path from 'node:path';
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

/** The app a process manager runs: its file and folder, how many instances, when they started, the run's seed. */
export interface ManagedApp {
  readonly file: string;
  readonly cwd: string;
  readonly instances: number;
  /** Date.now() when the process manager started the app. */
  readonly startedAt: number;
  readonly seed: number;
  /** Run in cluster mode (the web app's workers) or as one forked process (the scheduled task). */
  readonly mode: 'cluster' | 'fork';
}

/**
 * What PM2 gives process `instance` (from 0) of an app on a machine: NODE_APP_INSTANCE, and
 * pm_id, its id among all the processes that machine's PM2 runs (the same as the instance for
 * the web app's workers, the next free one for a second app such as the scheduled task); with
 * `app`, the rest of what PM2 copies from its process record into every instance's environment
 * (pm_exec_path, exec_mode, unique_id, its log files...), as under a real PM2.
 */
export function instanceVariables(instance: number, hostname: string, pmId = instance, app?: ManagedApp): Record<string, string> {
  return { ...(app ? pm2Record(pmId, app) : {}), NODE_APP_INSTANCE: String(instance), pm_id: String(pmId), HOSTNAME: hostname };
}

/** Names PM2 puts in an instance's environment (a runtime that is not PM2's drops them). */
export const PM2_VARIABLES: readonly string[] = [
  'NODE_APP_INSTANCE', 'pm_id', 'name', 'exec_mode', 'instances', 'pm_exec_path', 'pm_cwd', 'PM2_HOME', 'pm_out_log_path', 'pm_err_log_path',
  'pm_pid_path', 'unique_id', 'pm_uptime', 'created_at', 'status', 'restart_time', 'unstable_restarts', 'autorestart', 'watch', 'vizion',
  'pmx', 'automation', 'treekill', 'windowsHide', 'kill_retry_time', 'merge_logs', 'instance_var', 'namespace', 'km_link',
  'vizion_running', 'node_version', 'version', 'username', 'PM2_USAGE', 'exec_interpreter', 'args', 'node_args',
];

function pm2Record(pmId: number, app: ManagedApp): Record<string, string> {
  const name = path.basename(app.file, path.extname(app.file));
  const home = path.join(os.homedir(), '.pm2');
  const random = seededRandom((app.seed ^ Math.imul(pmId + 1, 0x85ebca6b)) >>> 0);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const variant = '89ab'[Math.floor(random() * 4)]!;
  let username = 'root';
  try {
    username = os.userInfo().username;
  } catch {
    // (no user name: PM2 would give none either)
  }
  return {
    name,
    exec_mode: app.mode === 'cluster' ? 'cluster_mode' : 'fork_mode',
    instances: String(app.mode === 'cluster' ? app.instances : 1),
    pm_exec_path: app.file,
    pm_cwd: app.cwd,
    PM2_HOME: home,
    pm_out_log_path: path.join(home, 'logs', `${name}-out-${pmId}.log`),
    pm_err_log_path: path.join(home, 'logs', `${name}-error-${pmId}.log`),
    pm_pid_path: path.join(home, 'pids', `${name}-${pmId}.pid`),
    unique_id: `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`,
    pm_uptime: String(app.startedAt),
    created_at: String(app.startedAt),
    status: 'launching',
    restart_time: '0',
    unstable_restarts: '0',
    autorestart: 'true',
    watch: 'false',
    vizion: 'true',
    pmx: 'true',
    automation: 'true',
    treekill: 'true',
    windowsHide: 'true',
    kill_retry_time: '100',
    merge_logs: 'false',
    instance_var: 'NODE_APP_INSTANCE',
    namespace: 'default',
    km_link: 'false',
    vizion_running: 'false',
    node_version: process.versions.node,
    version: 'N/A',
    username,
    PM2_USAGE: 'CLI',
    exec_interpreter: 'node',
    args: '',
    node_args: '',
  };
}
