// A worker process given the learner's app: from a spare when one waits (a host's reserve
// first, then the warm pool), else launched now; its readiness, its exit and why, its stop.
import type { WorkerGate } from '../gate.ts';
import { COURSE_MESSAGE, type AppProblem, type ClockSetting, type CourseEnvelope, type HostToWorker, type WorkerToHost } from '../protocol.ts';
import { launch } from './launch.ts';
import { pool, refill, type SpareReserve, type Spares } from './spares.ts';

export interface SpawnWorkerOptions extends ClockSetting {
  /** Absolute path of the learner's app module. */
  readonly appFile: string;
  /** Environment for the app (its settings, its instance variables), on top of the host's base environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /**
   * 'web' (the default): import the app and serve it. 'jobs': the host's one scheduled-task
   * process: import `appFile` (a jobs module), call its default export if it is a function, serve nothing.
   */
  readonly role?: 'web' | 'jobs';
  /** Milliseconds the app may take to import and listen. */
  readonly startTimeoutMs?: number;
  readonly onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Spares booted for this host (reserveSpares): taken before the warm pool's. */
  readonly reserve?: SpareReserve;
  /**
   * The command prefix that puts the process on its machine (a view of the disk of its own,
   * machine-view.ts): such a worker takes only a spare reserved in the same view.
   */
  readonly enter?: readonly string[];
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
  /** Kill it at once (SIGKILL: no handler of the app runs), as an out-of-memory kill does; `exited` tells when it is gone. */
  kill(): void;
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
  // A worker in a machine's view takes only a spare booted in that same view.
  const sameView = (spares: Spares | undefined) => JSON.stringify(spares?.enter ?? null) === JSON.stringify(options.enter ?? null);
  const reserve = options.reserve as Spares | undefined;
  const reserved = sameView(reserve) ? reserve?.take() : undefined;
  const pooled = reserved || options.enter !== undefined ? undefined : pool.take();
  const launched = reserved ?? pooled ?? launch(options.enter);
  launched.onOutput = options.onOutput;
  const { child, node, abort, lines, listeners } = launched;
  const post = (message: HostToWorker) => {
    if (node.connected) node.send({ cmd: COURSE_MESSAGE, message } satisfies CourseEnvelope);
  };
  post({
    type: 'assign',
    appFile: options.appFile,
    role: options.role ?? 'web',
    // Hosting platforms run Node apps with NODE_ENV=production, whatever the shell that started
    // the course says: an app that behaves one way in production and another in development is
    // judged, every time, as it runs in production.
    env: { ...options.env, NODE_ENV: options.env.NODE_ENV ?? 'production' },
    cwd: options.cwd,
    // One machine of several (it runs in a machine's view): its loopback is its own.
    ownLoopback: options.enter !== undefined,
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
  // Replace a pool spare only once the app it took is up, so the two do not compete for the CPU.
  if (pooled) void ready.then(refill, refill);

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
    kill() {
      node.kill('SIGKILL');
    },
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
