// The one module that starts child processes. Every worker goes through `spawnWorker`, so the
// rules live in one place: an IPC channel the worker watches (it exits when the course goes,
// however it goes, even on SIGKILL), its own process group (a terminal's Ctrl-C reaches the
// course, which then stops its workers in order), output read line by line into a bounded buffer, and a stop that
// asks first and kills after a delay. Each worker also gets a control channel (its fd 3) that
// its gate thread owns: the gate (gate.ts) and the watchdog that ends a worker whose course is
// gone even when the app's code never yields.
//
// A worker's environment is what a real host gives (host-env.ts): none of the course's own
// variables; the worker finds its configuration without them.
import type { ChildProcess } from 'node:child_process';
import { execa, execaNode, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { packageRoot } from './package-root.ts';
import { COURSE_MESSAGE, type AppProblem, type ClockKind, type CourseEnvelope, type HostToWorker, type WorkerToHost } from './protocol.ts';
import { baseEnvironment } from './host-env.ts';
import { WorkerGate } from './gate.ts';
import type { Duplex } from 'node:stream';
import type { KeeperConfig, KeeperToCourse } from './postgres-protocol.ts';
import type { ClusterAssignment, PrimaryToCourse } from './cluster-protocol.ts';

/** The course package's root folder (from src/, dist/ or any build). */
export { packageRoot };

const ownExtension = path.extname(fileURLToPath(import.meta.url));
export const workerMainFile = fileURLToPath(new URL(`./worker-main${ownExtension}`, import.meta.url));
const OUTPUT_LINES = 200;
const OUTPUT_LINE_CHARS = 2000;

export interface SpawnWorkerOptions {
  /** Absolute path of the learner's app module. */
  readonly appFile: string;
  /** Environment for the app (its settings, its instance variables), on top of the host's base environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly clock?: ClockKind;
  /** Epoch milliseconds the manual clock starts at. */
  readonly clockStart?: number;
  /** The course's Date.now() when it read `clockStart` (the date goes on from there with real time). */
  readonly clockSentAt?: number;
  /**
   * 'web' (the default): import the app and serve it. 'jobs': the host's one scheduled-task
   * process: import `appFile` (a jobs module), call its default export if it is a function, serve nothing.
   */
  readonly role?: 'web' | 'jobs';
  /** Milliseconds the app may take to import and listen. */
  readonly startTimeoutMs?: number;
  readonly onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the worker reported an error or exited without being asked to. */
  readonly problem?: AppProblem;
  readonly expected: boolean;
}

export interface WorkerProcess {
  readonly pid: number;
  /** Resolves with the port once the app listens; rejects with an AppProblem. */
  readonly ready: Promise<number>;
  /** Resolves when the process has exited, for any reason. */
  readonly exited: Promise<ExitInfo>;
  /** The last lines the worker printed. */
  output(): string[];
  send(message: HostToWorker): void;
  onMessage(listener: (message: WorkerToHost) => void): () => void;
  /**
   * The worker's gate: watch its data operations, hold it after one (forced races). Python
   * workers have one too, over their host's channel (src/runtime/python/_course_gate.py).
   */
  readonly gate?: WorkerGate;
  /** Ask the worker to stop, kill it if it does not; resolves once it is gone. */
  stop(): Promise<ExitInfo>;
}

export class AppStartError extends Error {
  readonly problem: AppProblem;
  constructor(problem: AppProblem) {
    super(problem.message);
    this.name = 'AppStartError';
    this.problem = problem;
  }
}

/** A started worker process, before or after it is given an app. */
interface Launched {
  readonly child: ResultPromise;
  readonly node: ChildProcess;
  readonly abort: AbortController;
  readonly lines: string[];
  readonly listeners: Set<(message: WorkerToHost) => void>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Resolves once the process has booted and preloaded, ready for an app. */
  readonly waiting: Promise<void>;
  readonly gate: WorkerGate;
  reported?: AppProblem;
  stopping: boolean;
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

function launch(): Launched {
  const abort = new AbortController();
  const nodeOptions = ['--enable-source-maps'];
  if (ownExtension === '.ts') nodeOptions.push('--disable-warning=ExperimentalWarning');
  const child: ResultPromise = execaNode(workerMainFile, [], {
    nodeOptions,
    env: baseEnvironment(),
    extendEnv: false,
    // Not the course's current folder: a spare outlives the command that started it, and that
    // folder may be removed meanwhile (a process whose folder is gone cannot start a thread).
    // The worker moves to its run's folder when it takes an app.
    cwd: packageRoot,
    serialization: 'json',
    buffer: false,
    // fd 3: the control channel (gate-protocol.ts CONTROL_FD); execa adds the IPC channel after it.
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    reject: false,
    // No execa `cleanup`: its signal-exit hook re-raises SIGINT and SIGTERM when it counts as
    // many listeners as children, killing the course before it can stop its workers. Workers
    // exit on their own when their IPC channel closes, which covers every way the course ends.
    cleanup: false,
    killDescendants: true,
    cancelSignal: abort.signal,
    forceKillAfterDelay: 1500,
  });
  const exited = child.then((result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null }));
  const launched: Launched = {
    child,
    node: child.nodeChildProcess,
    abort,
    lines: [],
    listeners: new Set(),
    stopping: false,
    exited,
    gate: new WorkerGate(child.nodeChildProcess.stdio[3] as Duplex, exited),
    waiting: new Promise<void>((resolve) => {
      const onWaiting = (message: WorkerToHost) => {
        if (message.type !== 'waiting') return;
        child.nodeChildProcess.off('message', onWaiting);
        resolve();
      };
      child.nodeChildProcess.on('message', onWaiting);
      void child.then(() => resolve());
    }),
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    splitLines(source, (line) => {
      launched.lines.push(line);
      if (launched.lines.length > OUTPUT_LINES) launched.lines.splice(0, launched.lines.length - OUTPUT_LINES);
      launched.onOutput?.(stream, line);
    });
  }
  launched.node.on('message', (message: WorkerToHost) => {
    if (message.type === 'fatal') launched.reported = message.problem;
    for (const listener of launched.listeners) listener(message);
  });
  return launched;
}

/**
 * Call `onLine` for each line of a stream, cutting lines at OUTPUT_LINE_CHARS: an app that
 * prints megabytes without a newline costs a bounded buffer, not the course's memory.
 */
export function splitLines(source: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  let cut = false;
  source.setEncoding?.('utf8');
  source.on('data', (chunk: string) => {
    const parts = chunk.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      if (!cut) {
        partial += parts[i];
        if (partial.length > OUTPUT_LINE_CHARS) {
          partial = `${partial.slice(0, OUTPUT_LINE_CHARS)}…`;
          cut = true;
        }
      }
      if (!last) {
        onLine(partial.replace(/\r$/, ''));
        partial = '';
        cut = false;
      }
    }
  });
  source.on('end', () => {
    if (partial) onLine(partial);
  });
}

/** Whether a process keeps the course alive: spares do not, workers do. */
function holdOpen(launched: Launched, hold: boolean): void {
  const handles = [launched.node, launched.node.channel, launched.child.stdout, launched.child.stderr, launched.node.stdio[3]] as ({ ref?(): void; unref?(): void } | null | undefined)[];
  for (const handle of handles) {
    if (hold) handle?.ref?.();
    else handle?.unref?.();
  }
}

// Warm spares: started processes waiting for an app, so that a reload pays only the import of
// the learner's module, not Node's boot. They keep nothing alive and exit with the course.
const spares: Launched[] = [];
let spareTarget = 0;
/** Spares cost memory (each a booted Node with express loaded): a reload of more workers starts the rest cold. */
const MAX_SPARES = 4;

function refill(): void {
  while (spares.length < spareTarget) {
    const spare = launch();
    holdOpen(spare, false);
    spares.push(spare);
    void spare.exited.then(() => {
      const at = spares.indexOf(spare);
      if (at >= 0) spares.splice(at, 1);
    });
  }
}

/**
 * Keep `count` warm spare processes ready (at least; the largest count asked for wins).
 * Resolves once the spares now in the pool have booted.
 */
export async function prewarm(count: number): Promise<void> {
  spareTarget = Math.min(MAX_SPARES, Math.max(spareTarget, count));
  refill();
  await Promise.all(
    spares.map(async (spare) => {
      holdOpen(spare, true); // an unreferenced channel could not keep this wait alive
      await spare.waiting;
      if (spares.includes(spare)) holdOpen(spare, false);
    }),
  );
}

/** The pids of the warm spares waiting now. */
export function sparePids(): number[] {
  return spares.map((spare) => spare.node.pid ?? -1);
}

/** End every warm spare now. */
export async function stopSpares(): Promise<void> {
  spareTarget = 0;
  const all = spares.splice(0);
  await Promise.all(
    all.map((spare) => {
      spare.stopping = true;
      holdOpen(spare, true);
      if (spare.node.connected) spare.node.disconnect();
      return spare.exited;
    }),
  );
}

export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const spare = spares.shift();
  const launched = spare ?? launch();
  if (spare) holdOpen(spare, true);
  launched.onOutput = options.onOutput;
  const { child, node, abort, lines, listeners } = launched;
  const post = (message: HostToWorker) => {
    if (node.connected) node.send({ cmd: COURSE_MESSAGE, message } satisfies CourseEnvelope);
  };
  post({
    type: 'assign',
    appFile: options.appFile,
    role: options.role ?? 'web',
    env: { ...options.env, NODE_ENV: options.env.NODE_ENV ?? baseEnvironment().NODE_ENV ?? 'development' },
    cwd: options.cwd,
    clock: options.clock ?? 'real',
    clockStart: options.clockStart,
    clockSentAt: options.clockSentAt,
  });

  const exited: Promise<ExitInfo> = launched.exited.then(({ code, signal }) => {
    const expected = launched.stopping;
    let problem = launched.reported;
    if (!problem && !expected) {
      problem = {
        kind: 'crash',
        message: signal
          ? `The worker was ended by ${signal}.`
          : `The worker exited with code ${code}${code === 0 ? ' (did the app call process.exit?)' : ''}.`,
      };
    }
    return { code, signal, expected, problem: problem && { ...problem, output: lines.slice(-20) } };
  });

  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new AppStartError({
          kind: 'start-timeout',
          message: `The app did not start within ${startTimeoutMs / 1000} s: does module-level code wait for something that never comes?`,
          file: options.appFile,
          output: lines.slice(-20),
        }),
      );
    }, startTimeoutMs);
    const off = onMessage((message) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        off();
        resolve(message.port);
      }
    });
    void exited.then((info) => {
      clearTimeout(timer);
      off();
      reject(
        new AppStartError(
          info.problem ?? { kind: 'exit', message: 'The worker stopped before the app was ready.', output: lines.slice(-20) },
        ),
      );
    });
  });
  ready.catch(() => {});
  // Replace a spare only once the app it took is up, so the two do not compete for the CPU.
  if (spare) void ready.then(refill, refill);

  function onMessage(listener: (message: WorkerToHost) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    output: () => lines.slice(),
    send: post,
    onMessage,
    gate: launched.gate,
    async stop() {
      launched.stopping = true;
      if (node.exitCode === null && node.signalCode === null) {
        if (node.connected) node.disconnect();
        const grace = setTimeout(() => abort.abort(), 1000);
        const info = await exited;
        clearTimeout(grace);
        return info;
      }
      return exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Python: the Flask track's preforking host (src/runtime/python/host.py) and interpreter probes.
// The Python side of the runtime (src/runtime/python/) starts its processes only through these.

export interface PythonHostOptions {
  /** The interpreter to run. */
  readonly python: string;
  /** The host program and its arguments. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** The started Python host: commands in on its stdin, JSON events out on its fd 3, output on stdout/stderr. */
export interface PythonHostProcess {
  readonly pid: number;
  /** Write one command line; ignored once the process is gone. */
  command(message: unknown): void;
  onEvent(listener: (message: Record<string, unknown>) => void): void;
  onOutput(listener: (stream: 'stdout' | 'stderr', line: string) => void): void;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Close its stdin (it ends its workers and exits), kill it if it has not gone after a delay. */
  stop(): Promise<void>;
}

export function spawnPythonHost(options: PythonHostOptions): PythonHostProcess {
  const abort = new AbortController();
  const child = execa(options.python, [...options.args], {
    // What a host gives its app (the course's start environment, cleaned, and the lesson's
    // settings), as for Node workers; the forked workers add their own variables.
    env: { ...baseEnvironment(), ...options.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    extendEnv: false,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    encoding: 'utf8',
    // As for Node workers: no execa `cleanup` (see launch()); the host exits when its stdin
    // closes, and the kernel ends it with the course on Linux (PR_SET_PDEATHSIG).
    cleanup: false,
    killDescendants: true,
    cancelSignal: abort.signal,
    forceKillAfterDelay: 1000,
  });
  const events = new Set<(message: Record<string, unknown>) => void>();
  const outputs = new Set<(stream: 'stdout' | 'stderr', line: string) => void>();
  const channel = child.stdio[3] as NodeJS.ReadableStream | undefined;
  if (channel) {
    splitLines(channel, (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const listener of events) listener(message);
    });
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source) splitLines(source, (line) => outputs.forEach((listener) => listener(stream, line)));
  }
  child.stdin?.on('error', () => {});
  let gone = false;
  const exited = child.then((result) => {
    gone = true;
    return { code: result.exitCode ?? null, signal: result.signal ?? null };
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? -1,
    command(message) {
      if (child.stdin && !child.stdin.destroyed && !gone) child.stdin.write(`${JSON.stringify(message)}\n`);
    },
    onEvent: (listener) => void events.add(listener),
    onOutput: (listener) => void outputs.add(listener),
    exited,
    stop() {
      stopping ??= (async () => {
        child.stdin?.end();
        const grace = setTimeout(() => abort.abort(), 1000);
        await exited;
        clearTimeout(grace);
      })();
      return stopping;
    },
  };
}

/**
 * Run a short Python command (an interpreter probe); its output, `timedOut` when it did not end
 * in time (importing Flask on a busy machine can take seconds), or undefined when it cannot run.
 */
export async function probePython(python: string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string; timedOut?: boolean } | undefined> {
  try {
    const result = await execa(python, [...args], { reject: false, timeout: timeoutMs, stdin: 'ignore', encoding: 'utf8' });
    if (result.timedOut) return { code: 1, stdout: '', stderr: '', timedOut: true };
    if (result.failed && result.exitCode === undefined) return undefined;
    return { code: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) };
  } catch {
    return undefined;
  }
}
export const databaseKeeperFile = fileURLToPath(new URL(`./postgres-main${ownExtension}`, import.meta.url));

export interface DatabaseKeeper {
  /** The keeper's pid (the server runs as its child). */
  readonly pid: number;
  /** Resolves once the server accepts connections; rejects with the keeper's reason. */
  readonly ready: Promise<{ readonly port: number; readonly password: string; readonly serverPid: number; readonly dataDir: string }>;
  /** Resolves when the keeper has exited (it stops the server first). */
  readonly exited: Promise<void>;
  /** The last lines the keeper printed. */
  output(): string[];
  /** Ask the keeper to stop the server and exit, kill its process group if it does not. */
  stop(): Promise<void>;
}

/**
 * Start the keeper of the course's database server (postgres-main): like a worker, it watches
 * its IPC channel and stops the server when the course goes, however it goes. It never keeps the
 * course alive by itself: the course exits when its own work is done, and the keeper follows.
 */
export function spawnDatabaseKeeper(config: KeeperConfig): DatabaseKeeper {
  const abort = new AbortController();
  const nodeOptions = ['--enable-source-maps'];
  if (ownExtension === '.ts') nodeOptions.push('--disable-warning=ExperimentalWarning');
  const child: ResultPromise = execaNode(databaseKeeperFile, [], {
    nodeOptions,
    cwd: packageRoot, // as for spares: it outlives commands whose current folder may go away
    env: { COURSE_POSTGRES: JSON.stringify(config) },
    serialization: 'json',
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    cleanup: false,
    killDescendants: true,
    cancelSignal: abort.signal,
    forceKillAfterDelay: 1500,
  });
  const node = child.nodeChildProcess;
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) splitLines(stream, (line) => lines.push(line) > OUTPUT_LINES && lines.shift());
  }
  const exited = child.then(() => undefined);
  const ready = new Promise<{ port: number; password: string; serverPid: number; dataDir: string }>((resolve, reject) => {
    node.on('message', (message: KeeperToCourse) => {
      if (message.type === 'ready') resolve({ port: message.port, password: message.password, serverPid: message.pid, dataDir: message.dataDir });
      else reject(new Error(message.message));
    });
    void exited.then(() => reject(new Error(`The database server's keeper exited before the server was ready. ${lines.slice(-3).join(' ')}`.trim())));
  });
  // Held open while the server starts (someone waits for it), let go once it runs.
  const release = () => {
    for (const handle of [node, node.channel, child.stdout, child.stderr] as ({ unref?(): void } | null | undefined)[]) handle?.unref?.();
  };
  ready.then(release, () => {});
  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    output: () => lines.slice(),
    async stop() {
      if (node.exitCode !== null || node.signalCode !== null) return exited;
      node.ref();
      if (node.connected) node.disconnect();
      const grace = setTimeout(() => abort.abort(), 5000);
      await exited;
      clearTimeout(grace);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// `serve --host cluster`: the learner's app on Node's own node:cluster. One primary process
// (cluster-primary.ts) that forks its cluster workers itself; the course talks to the primary
// only. Like a worker, it exits when its IPC channel closes (it stops its workers first), and
// its workers exit when their channel to it closes.

export const clusterPrimaryFile = fileURLToPath(new URL(`./cluster-primary${ownExtension}`, import.meta.url));

export interface ClusterPrimaryOptions {
  readonly appFile: string;
  readonly workers: number;
  readonly port: number;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly instances: readonly Readonly<Record<string, string>>[];
  readonly onMessage: (message: PrimaryToCourse) => void;
  /** The primary's own output (its workers' output arrives as messages). */
  readonly onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface ClusterPrimary {
  readonly pid: number;
  /** Resolves when the primary has exited, for any reason. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null }>;
  /** Ask the primary to stop (it stops its workers), kill it if it does not; resolves once it is gone. */
  stop(): Promise<void>;
}

export function spawnClusterPrimary(options: ClusterPrimaryOptions): ClusterPrimary {
  const abort = new AbortController();
  const nodeOptions = ['--enable-source-maps'];
  if (ownExtension === '.ts') nodeOptions.push('--disable-warning=ExperimentalWarning');
  const child: ResultPromise = execaNode(clusterPrimaryFile, [], {
    nodeOptions,
    env: baseEnvironment(),
    extendEnv: false,
    serialization: 'json',
    buffer: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    reject: false,
    cleanup: false,
    killDescendants: true,
    cancelSignal: abort.signal,
    forceKillAfterDelay: 1500,
  });
  const node = child.nodeChildProcess;
  const exited = child.then((result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null }));
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source) splitLines(source, (line) => options.onOutput?.(stream, line));
  }
  node.on('message', (message: PrimaryToCourse) => options.onMessage(message));
  const assignment: ClusterAssignment = {
    type: 'assign',
    appFile: options.appFile,
    workers: options.workers,
    port: options.port,
    cwd: options.cwd,
    env: options.env,
    instances: options.instances,
  };
  if (node.connected) node.send(assignment);
  return {
    pid: node.pid ?? -1,
    exited,
    async stop() {
      if (node.exitCode === null && node.signalCode === null) {
        if (node.connected) node.disconnect();
        // The primary gives its workers a second before it kills them.
        const grace = setTimeout(() => abort.abort(), 2500);
        await exited;
        clearTimeout(grace);
      }
      await exited;
    },
  };
}
