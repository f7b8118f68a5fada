// `doctor`: what the course needs from this machine, checked one item at a time, each with
// what it means and what to do.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { lessonsFor } from './lessons/catalogue.ts';
import { findPython, INSTALL_HINT, POSTGRES_INSTALL_HINT, type PythonInfo } from './runtime/python/find.ts';
import { pythonHostFile } from './runtime/python/runtime.ts';
import { ProgressStore } from './progress/store.ts';
import { clusterPrimaryFile, databaseKeeperFile, packageRoot, probeMachineViews, workerMainFile } from './runtime/processes.ts';
import { command } from './invocation.ts';
import { learnerFile, resolveWorkspace } from './workspace.ts';

export type Verdict = 'ok' | 'warn' | 'problem';

export interface Finding {
  readonly item: string;
  readonly verdict: Verdict;
  readonly detail: string;
  /** What to do about it, when something is wrong. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly healthy: boolean;
  readonly findings: readonly Finding[];
  /** The interpreter the Flask track uses, when one was found. */
  readonly python?: PythonInfo;
}

const EXERCISE_DEPENDENCIES = ['express', 'better-sqlite3', 'cookie-parser', 'express-session', 'cookie-session', '@sinonjs/fake-timers'];

export function checkNode(version = process.versions.node): Finding {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > 22 || (major === 22 && minor >= 22);
  return ok
    ? { item: 'Node.js', verdict: 'ok', detail: `v${version} (22.22 or newer is needed: the SQLite driver's binaries and the module hooks that let your apps use the course's libraries)` }
    : {
        item: 'Node.js',
        verdict: 'problem',
        detail: `v${version} is too old: the course's SQLite driver crashes on Node 20, and the module hooks need 22.15+.`,
        fix: 'Install Node 22 (22.22 or newer) or 24, the LTS lines.',
      };
}

function checkWorkspace(explicit?: string): Finding[] {
  let workspace;
  try {
    workspace = resolveWorkspace(explicit);
  } catch (error) {
    return [{ item: 'Workspace', verdict: 'problem', detail: (error as Error).message, fix: `Run \`${command('init')}\` or pass --workspace DIR.` }];
  }
  if (!workspace) {
    return [{ item: 'Workspace', verdict: 'warn', detail: 'No workspace in or above this folder.', fix: `Create one with \`${command('init')}\` (or just run \`${command()}\`).` }];
  }
  const missing = lessonsFor(workspace.track).filter((lesson) => !existsSync(learnerFile(workspace, lesson)));
  const findings: Finding[] = [
    missing.length === 0
      ? { item: 'Workspace', verdict: 'ok', detail: `${workspace.dir} (${workspace.track === 'flask' ? 'Flask' : 'Node'} track), every lesson's app in place` }
      : {
          item: 'Workspace',
          verdict: 'problem',
          detail: `${workspace.dir}: missing ${missing.map((l) => path.join(l.slug, l.file)).join(', ')}`,
          fix: missing.map((l) => command('reset', l.number)).join('; ') + ` (or \`${command('init')}\` to add lesson folders that are missing altogether)`,
        },
  ];
  try {
    const store = ProgressStore.open(workspace.progressFile);
    const summary = store.summary();
    store.close();
    const passed = [...summary.values()].filter((p) => p.passed).length;
    findings.push(
      store.recovered
        ? { item: 'Progress database', verdict: 'warn', detail: store.recovered }
        : { item: 'Progress database', verdict: 'ok', detail: `${workspace.progressFile}: healthy, ${passed} lesson${passed === 1 ? '' : 's'} passed` },
    );
  } catch (error) {
    findings.push({ item: 'Progress database', verdict: 'problem', detail: (error as Error).message });
  }
  return findings;
}

function checkDependencies(): Finding {
  const require = createRequire(path.join(packageRoot, 'package.json'));
  const missing = EXERCISE_DEPENDENCIES.filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    return { item: 'Exercise libraries', verdict: 'problem', detail: `cannot resolve ${missing.join(', ')} from ${packageRoot}`, fix: 'Reinstall the course: npx global-state-course@latest' };
  }
  try {
    const Database = require('better-sqlite3') as new (file: string) => { prepare(sql: string): { get(): unknown }; close(): void };
    const db = new Database(':memory:');
    db.prepare('SELECT 1').get();
    db.close();
  } catch (error) {
    return { item: 'Exercise libraries', verdict: 'problem', detail: `better-sqlite3 does not load on this Node: ${(error as Error).message}`, fix: 'Use Node 22.22+ or 24 on a platform with prebuilt binaries (Linux, macOS, Windows on x64 or arm64).' };
  }
  return { item: 'Exercise libraries', verdict: 'ok', detail: `${EXERCISE_DEPENDENCIES.join(', ')} resolve from the course, and SQLite works` };
}

async function checkLoopback(): Promise<Finding> {
  const server = net.createServer((socket) => socket.end('ok'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const port = (server.address() as net.AddressInfo).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(2000, () => reject(new Error('no answer in 2 s')));
    });
    return answer === 'ok'
      ? { item: 'Loopback network', verdict: 'ok', detail: '127.0.0.1 accepts connections on a free port' }
      : { item: 'Loopback network', verdict: 'problem', detail: `unexpected answer on 127.0.0.1: ${answer}` };
  } catch (error) {
    return { item: 'Loopback network', verdict: 'problem', detail: `127.0.0.1 is not usable: ${(error as Error).message}`, fix: 'The course runs its workers on 127.0.0.1; check firewall or sandbox settings.' };
  } finally {
    server.close();
  }
}

/** The Python for the Flask track: needed in a Flask workspace, reported (not required) otherwise. */
async function checkPython(explicit?: string): Promise<{ finding: Finding; python?: PythonInfo }> {
  let track = 'node';
  try {
    track = resolveWorkspace(explicit)?.track ?? 'node';
  } catch {
    /* the workspace finding says what is wrong */
  }
  try {
    const python = await findPython();
    const via = python.command === python.executable ? python.executable : `${python.command} → ${python.executable}`;
    const postgres = python.postgres ? `, PostgreSQL client ${python.postgres}` : '; no PostgreSQL client (psycopg or psycopg2): lesson 8 needs one';
    const finding: Finding = { item: 'Python (Flask track)', verdict: 'ok', detail: `${via}: Python ${python.version}, Flask ${python.flask}${postgres}` };
    return { python, finding: python.postgres || track !== 'flask' ? finding : { ...finding, fix: POSTGRES_INSTALL_HINT } };
  } catch (error) {
    if (track === 'flask') return { finding: { item: 'Python (Flask track)', verdict: 'problem', detail: (error as Error).message.replace(` ${INSTALL_HINT}`, ''), fix: INSTALL_HINT } };
    return { finding: { item: 'Python (Flask track)', verdict: 'ok', detail: `not found; only a Flask workspace needs it (${INSTALL_HINT})` } };
  }
}

export interface CourseWorker {
  readonly pid: number;
  /** The process that started it. */
  readonly parent: number;
  /**
   * True while the course that started it runs (another window, a check in progress): its
   * workers stop with it. False for an orphan, whose course is gone (it was re-parented).
   */
  readonly live: boolean;
  /** The live course's command line, to say which run it is. */
  readonly course?: string;
}

function cmdlineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function parentOf(pid: number): number {
  return Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/**
 * A worker names itself after the learner's app (`node app.js`, as on a real host), so its command
 * line no longer says it is the course's. What still does is how the course launched it
 * (runtime/processes.ts): Node, stdin from /dev/null, a control channel on fd 3 and the IPC channel
 * on fd 4 (NODE_CHANNEL_FD=4 in the environment it started with).
 */
function launchedAsWorker(pid: number): boolean {
  try {
    if (!/^node/.test(path.basename(readlinkSync(`/proc/${pid}/exe`)))) return false;
    if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('NODE_CHANNEL_FD=4')) return false;
    return readlinkSync(`/proc/${pid}/fd/0`) === '/dev/null' && /^(pipe|socket):/.test(readlinkSync(`/proc/${pid}/fd/3`));
  } catch {
    return false;
  }
}

/** A course process is a Node process (the course, or a test running one). */
function isCourseProcess(pid: number): { live: boolean; course?: string } {
  if (pid <= 1) return { live: false };
  try {
    const cmdline = cmdlineOf(pid);
    const program = path.basename(cmdline[0] ?? '');
    if (!/^node(\d+|js)?(\.exe)?$/.test(program)) return { live: false };
    const shown = cmdline.map((a) => (a.includes(path.sep) && !a.startsWith('-') ? path.basename(a) : a)).join(' ').replace(/\s+/g, ' ');
    return { live: true, course: shown.length > 60 ? `${shown.slice(0, 59)}…` : shown };
  } catch {
    return { live: false };
  }
}

/** Worker processes of any course other than this one, each told apart: a live course's, or an orphan. */
export function courseWorkers(): CourseWorker[] {
  if (!existsSync('/proc')) return [];
  // The course's own processes: its workers, its database server's keeper, a node:cluster primary.
  const markers = [workerMainFile, databaseKeeperFile, clusterPrimaryFile].map((file) => `${path.sep}runtime${path.sep}${path.basename(file, path.extname(file))}.`);
  const clusterPrimary = markers[2]!;
  const pythonHost = `${path.sep}runtime${path.sep}python${path.sep}${path.basename(pythonHostFile)}`;
  const found: CourseWorker[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (!cmdlineOf(pid).some((arg) => markers.some((marker) => arg.includes(marker)) || arg.endsWith(pythonHost)) && !launchedAsWorker(pid)) continue;
      const parent = parentOf(pid);
      if (parent === process.pid) continue;
      // A Python worker is forked from its host, a cluster worker from its primary: the parent
      // stands for the workers it forked.
      if (cmdlineOf(parent).some((arg) => arg.endsWith(pythonHost) || arg.includes(clusterPrimary))) continue;
      found.push({ pid, parent, ...isCourseProcess(parent) });
    } catch {
      /* the process ended while we looked */
    }
  }
  return found;
}

/** Every worker process not started by this one (a live course's and orphans alike). */
export function leftoverWorkers(): number[] {
  return courseWorkers().map((w) => w.pid);
}

export function checkLeftovers(workers: readonly CourseWorker[] = courseWorkers()): Finding {
  const orphans = workers.filter((w) => !w.live).map((w) => w.pid);
  const live = workers.filter((w) => w.live);
  const courses = [...new Map(live.map((w) => [w.parent, w])).values()];
  const running = courses.length
    ? `${live.length} worker${live.length === 1 ? '' : 's'} of ${courses.length === 1 ? 'a course' : `${courses.length} courses`} running now (${courses
        .map((w) => `course PID ${w.parent}${w.course ? `: ${w.course}` : ''}`)
        .join('; ')}): not leftovers, they stop when that course does`
    : '';
  if (orphans.length === 0) {
    return { item: 'Leftover workers', verdict: 'ok', detail: running ? `none; ${running}` : 'none running' };
  }
  return {
    item: 'Leftover workers',
    verdict: 'warn',
    detail: `${orphans.length} orphaned course worker${orphans.length === 1 ? '' : 's'} (PID ${orphans.join(', ')}): the course that started ${orphans.length === 1 ? 'it' : 'them'} is gone${running ? `. Also ${running}` : ''}`,
    fix: `End the orphan${orphans.length === 1 ? '' : 's'}: kill ${orphans.join(' ')}`,
  };
}

export function checkTerminal(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Finding {
  if (!stream.isTTY) {
    return { item: 'Terminal', verdict: 'ok', detail: 'not a terminal: the plain commands are used (no full-screen course)' };
  }
  const columns = stream.columns ?? 0;
  const rows = stream.rows ?? 0;
  const colour = env.NO_COLOR ? 'colour off (NO_COLOR)' : stream.hasColors?.() ? `${stream.getColorDepth?.() ?? 8}-bit colour` : 'no colour';
  if (columns < 80 || rows < 24) {
    return { item: 'Terminal', verdict: 'warn', detail: `${columns}x${rows}, ${colour}`, fix: 'The course is laid out for at least 80x24: enlarge the window.' };
  }
  return { item: 'Terminal', verdict: 'ok', detail: `${columns}x${rows}, ${colour}` };
}

/** Lesson 8 runs two machines: each needs a disk of its own, or a lock file on disk would pass for a claim. */
async function checkMachineViews(): Promise<Finding> {
  const missing = await probeMachineViews();
  return missing === undefined
    ? { item: 'Separate machines', verdict: 'ok', detail: "each simulated machine (lesson 8) gets a disk of its own: its own /tmp, home and app folder (a Linux mount namespace)" }
    : {
        item: 'Separate machines',
        verdict: 'warn',
        detail: `lesson 8's two machines share this computer's files: ${missing}. A lock file on disk would pass its check here, and fail on two real machines.`,
        fix: 'On Linux: install util-linux (unshare, nsenter), and allow user namespaces (sysctl kernel.unprivileged_userns_clone=1, or the AppArmor setting kernel.apparmor_restrict_unprivileged_userns=0), or run as root.',
      };
}

async function checkDatabaseServer(): Promise<Finding> {
  const { probeDatabaseServer } = await import('./runtime/postgres.ts');
  return { item: 'Database server', ...(await probeDatabaseServer()) };
}

export async function runDoctor(options: { workspace?: string } = {}): Promise<DoctorReport> {
  const python = await checkPython(options.workspace);
  const findings: Finding[] = [checkNode(), ...checkWorkspace(options.workspace), checkDependencies(), python.finding, await checkLoopback(), await checkDatabaseServer(), await checkMachineViews(), checkLeftovers(), checkTerminal()];
  return { healthy: findings.every((f) => f.verdict !== 'problem'), findings, ...(python.python ? { python: python.python } : {}) };
}
