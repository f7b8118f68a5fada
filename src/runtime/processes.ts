// The one module that starts child processes. Every worker goes through `spawnWorker`, so the
// rules live in one place: an IPC channel the worker watches (it exits when the course goes,
// even on SIGKILL), its own process group (a terminal's Ctrl-C reaches the course, which then
// stops its workers in order), output read line by line into a bounded buffer, and a stop that
// asks first and kills after a delay.
import { execaNode, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from './package-root.ts';
import type { AppProblem, HostToWorker, WorkerToHost } from './protocol.ts';

/** The course package's root folder, whether running from src/ or dist/. */
export { packageRoot };

const ownExtension = path.extname(fileURLToPath(import.meta.url));
const workerMain = fileURLToPath(new URL(`./worker-main${ownExtension}`, import.meta.url));
const OUTPUT_LINES = 200;
const OUTPUT_LINE_CHARS = 2000;

export interface SpawnWorkerOptions {
  /** Absolute path of the learner's app module. */
  readonly appFile: string;
  /** Environment for the app, on top of the course's own. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly clock?: 'real' | 'manual';
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

export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const abort = new AbortController();
  const nodeOptions = ['--enable-source-maps'];
  if (ownExtension === '.ts') nodeOptions.push('--disable-warning=ExperimentalWarning');
  const child: ResultPromise = execaNode(workerMain, [], {
    nodeOptions,
    cwd: options.cwd,
    env: {
      ...options.env,
      COURSE_APP_FILE: options.appFile,
      COURSE_PACKAGE_ROOT: packageRoot,
      COURSE_CLOCK: options.clock ?? 'real',
      NODE_ENV: options.env.NODE_ENV ?? 'development',
      FORCE_COLOR: '0',
    },
    serialization: 'json',
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    cleanup: true,
    killDescendants: true,
    cancelSignal: abort.signal,
    forceKillAfterDelay: 1500,
  });

  const node = child.nodeChildProcess;
  const lines: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    createInterface({ input: source, crlfDelay: Infinity }).on('line', (raw: string) => {
      const line = raw.length > OUTPUT_LINE_CHARS ? `${raw.slice(0, OUTPUT_LINE_CHARS)}…` : raw;
      lines.push(line);
      if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
      options.onOutput?.(stream, line);
    });
  }

  const listeners = new Set<(message: WorkerToHost) => void>();
  let reported: AppProblem | undefined;
  let stopping = false;
  node.on('message', (message: WorkerToHost) => {
    if (message.type === 'fatal') reported = message.problem;
    for (const listener of listeners) listener(message);
  });

  const exited: Promise<ExitInfo> = child.then((result) => {
    const signal = result.signal ?? null;
    const code = result.exitCode ?? null;
    const expected = stopping;
    let problem = reported;
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

  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new AppStartError({
          kind: 'start-timeout',
          message: `The app did not start within ${options.startTimeoutMs} ms: does module-level code wait for something that never comes?`,
          file: options.appFile,
          output: lines.slice(-20),
        }),
      );
    }, options.startTimeoutMs ?? 10_000);
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

  function onMessage(listener: (message: WorkerToHost) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    output: () => lines.slice(),
    send(message) {
      if (node.connected) node.send(message);
    },
    onMessage,
    async stop() {
      stopping = true;
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
