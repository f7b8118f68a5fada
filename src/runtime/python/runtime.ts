// The Python worker runtime: one preforking host process (host.py) per generation. It loads the
// learner's WSGI module once (preload, as uWSGI and gunicorn --preload do) or lets each worker
// import it (lazy), and forks one worker per `spawn`. Each worker handle here looks to the host
// exactly like a Node worker process: a pid, ready with its port, exited, output, messages, a gate
// (its SQLite operations watched and held: _course_gate.py), stop.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WorkerGate } from '../gate.ts';
import { packageRoot } from '../package-root.ts';
import { AppStartError, spawnPythonHost, type ExitInfo, type PythonHostProcess, type SpawnWorkerOptions, type WorkerProcess } from '../processes.ts';
import type { AppProblem, HostToWorker, WorkerToHost } from '../protocol.ts';
import type { GenerationOptions, WorkerGeneration, WorkerRuntime } from '../worker-runtime.ts';
import { findPython, postgresDriverMissing, PythonMissingError } from './find.ts';
import { PM2_VARIABLES } from '../host-env.ts';

/** host.py beside this module (src/ or dist/), else in the package's src/ (a build that copies no assets). */
const besideThis = fileURLToPath(new URL('./host.py', import.meta.url));
export const pythonHostFile = existsSync(besideThis) ? besideThis : path.join(packageRoot, 'src', 'runtime', 'python', 'host.py');
const OUTPUT_LINES = 200;
/** Variables that belong to one worker (host-env.ts), not to the load every worker shares. */
const PER_WORKER = ['NODE_APP_INSTANCE', 'pm_id'];
/** The rest of PM2's process record (host-env.ts): gunicorn gives nothing of it. */
const PM2_ONLY = PM2_VARIABLES.filter((name) => !PER_WORKER.includes(name));

export const pythonRuntime: WorkerRuntime = {
  language: 'python',
  generation: (options) => new PythonGeneration(options),
  prewarm: async () => {},
  available: async (needs) => {
    const python = await findPython();
    if (needs?.database && !python.postgres) throw new PythonMissingError(postgresDriverMissing(python));
  },
};

type Event = Record<string, unknown> & { type?: string; worker?: number };

function withoutWorkerVariables(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !PER_WORKER.includes(key) && !PM2_ONLY.includes(key)));
}

/** A forked worker's own variables: its number, without PM2's process record. */
function workerVariables(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !PM2_ONLY.includes(key)));
}

/**
 * A generation: the workers a start (or a reload) asks for, forked from one run of host.py per
 * machine (each machine loads the app itself, on its own disk, under its own name). Should every
 * worker of a run be gone and another be asked for (a crashed worker restarted), a fresh run
 * loads the app again.
 */
class PythonGeneration implements WorkerGeneration {
  readonly #options: GenerationOptions;
  /** The run of host.py of each machine, by the machine's folder. */
  readonly #sessions = new Map<string, HostSession>();
  #nextId = 0;

  constructor(options: GenerationOptions) {
    this.#options = options;
  }

  spawn(options: SpawnWorkerOptions): WorkerProcess {
    let session = this.#sessions.get(options.cwd);
    if (!session || session.closing) {
      // The machine's environment (its data, its name), without this worker's own variables.
      const env = { ...this.#options.env, ...withoutWorkerVariables(options.env) };
      session = new HostSession({ ...this.#options, env, cwd: options.cwd, enter: options.enter });
      this.#sessions.set(options.cwd, session);
    }
    const id = ++this.#nextId;
    const worker = new PythonWorker(id, options, session);
    session.workers.set(id, worker);
    void session.host.then(
      (host) => {
        if (!worker.settled) host.command({ type: 'fork', worker: id, env: workerVariables(options.env), clockStart: options.clockStart, clockSentAt: options.clockSentAt });
      },
      (error: unknown) => worker.fail({ kind: 'exit', message: (error as Error).message }),
    );
    return worker.handle;
  }
}

/** A machine's run of host.py: the generation's settings, on that machine (its view of the disk, machine-view.ts). */
type SessionOptions = GenerationOptions & { readonly enter?: readonly string[] };

/** One run of host.py: the app's load (when preloaded) and the workers forked from it. */
class HostSession {
  readonly workers = new Map<number, PythonWorker>();
  /** What the host process printed itself (module-level code when preloaded). */
  readonly lines: string[] = [];
  readonly host: Promise<PythonHostProcess>;
  pid = 0;
  /** The process has exited. */
  gone = false;
  /** Every worker has gone: the process is ending, a new worker needs a new run. */
  closing = false;
  #problem: AppProblem | undefined;

  constructor(options: SessionOptions) {
    this.host = this.#launch(options);
    this.host.catch(() => {});
  }

  command(message: unknown): void {
    void this.host.then((host) => host.command(message), () => {});
  }

  /** A worker has gone: when every worker of this run has, the host process goes too. */
  release(id: number): void {
    this.workers.delete(id);
    if (this.workers.size === 0 && !this.closing) {
      this.closing = true;
      void this.host.then((host) => host.stop(), () => {});
    }
  }

  async #launch(options: SessionOptions): Promise<PythonHostProcess> {
    const python = await findPython();
    const env = withoutWorkerVariables(options.env);
    const role = options.role ?? 'web';
    const config = {
      app: options.appFile,
      cwd: options.cwd,
      role,
      mode: role === 'jobs' ? 'lazy' : (options.load ?? 'preload'),
      clock: options.clock ?? 'real',
      clockStart: options.clockStart,
      clockSentAt: options.clockSentAt,
      threads: options.threads ?? 1,
      // One machine of several (it runs in a machine's view): its loopback is its own.
      ownLoopback: options.enter !== undefined,
    };
    const host = spawnPythonHost({ python: python.executable, args: [pythonHostFile, JSON.stringify(config)], env, cwd: options.cwd, enter: options.enter });
    this.pid = host.pid;
    host.onOutput((stream, line) => {
      this.lines.push(line);
      if (this.lines.length > OUTPUT_LINES) this.lines.splice(0, this.lines.length - OUTPUT_LINES);
      // Printed once, by the load every worker shares: kept in each worker's output (for its
      // problems), shown once, as the first worker's.
      let shown = false;
      for (const worker of this.workers.values()) {
        worker.hostOutput(stream, line, !shown);
        shown = true;
      }
    });
    host.onEvent((event: Event) => {
      if (event.worker === undefined) {
        if (event.type === 'fatal') this.#problem = event.problem as AppProblem;
        return;
      }
      this.workers.get(event.worker)?.event(event);
    });
    void host.exited.then(({ code, signal }) => {
      this.gone = true;
      this.closing = true;
      const problem =
        this.#problem ??
        ({ kind: 'exit', message: `The Python host stopped (${signal ?? `exit code ${code}`}) before the app was ready.` } satisfies AppProblem);
      for (const worker of [...this.workers.values()]) worker.hostExited(problem);
    });
    return host;
  }
}

/** One forked worker, as the host sees any worker process. */
class PythonWorker {
  readonly handle: WorkerProcess;
  settled = false;
  readonly #id: number;
  readonly #session: HostSession;
  readonly #options: SpawnWorkerOptions;
  readonly #lines: string[];
  readonly #listeners = new Set<(message: WorkerToHost) => void>();
  #pid = 0;
  #forked = false;
  #stopping = false;
  #reported: AppProblem | undefined;
  #resolveReady!: (port: number) => void;
  #rejectReady!: (error: Error) => void;
  #resolveExit!: (info: { code: number | null; signal: string | null }) => void;
  readonly #timer: NodeJS.Timeout;
  /** The gate's channel: commands go to the worker through the host, its reports come back as events. */
  readonly #gateChannel: Duplex;

  constructor(id: number, options: SpawnWorkerOptions, session: HostSession) {
    this.#id = id;
    this.#options = options;
    this.#session = session;
    this.#lines = [...session.lines];
    const ready = new Promise<number>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    ready.catch(() => {});
    const rawExit = new Promise<{ code: number | null; signal: string | null }>((resolve) => (this.#resolveExit = resolve));
    const exited: Promise<ExitInfo> = rawExit.then(({ code, signal }) => {
      const expected = this.#stopping;
      let problem = this.#reported;
      if (!problem && !expected) {
        problem = {
          kind: 'crash',
          message: signal ? `The worker was ended by ${signal}.` : `The worker exited with code ${code}${code === 0 ? ' (did the app call os._exit or sys.exit?)' : ''}.`,
        };
      }
      return { code, signal, expected, problem: problem && { ...problem, output: this.#lines.slice(-20) } };
    });
    void exited.then((info) => {
      clearTimeout(this.#timer);
      this.#rejectReady(new AppStartError(info.problem ?? { kind: 'exit', message: 'The worker stopped before the app was ready.', output: this.#lines.slice(-20) }));
      this.#session.release(this.#id);
    });
    const startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#timer = setTimeout(() => {
      this.#rejectReady(
        new AppStartError({
          kind: 'start-timeout',
          message: `The app did not start within ${startTimeoutMs / 1000} s: does module-level code wait for something that never comes?`,
          file: options.appFile,
          output: this.#lines.slice(-20),
        }),
      );
    }, startTimeoutMs);
    this.#gateChannel = new Duplex({
      read() {},
      write: (chunk: Buffer | string, _encoding, done) => {
        for (const line of String(chunk).split('\n')) {
          if (line && !this.settled) this.#session.command({ type: 'to-worker', worker: this.#id, message: { type: 'gate', command: JSON.parse(line) as unknown } });
        }
        done();
      },
    });
    const gate = new WorkerGate(this.#gateChannel, exited);
    const self = this;
    this.handle = {
      get pid() {
        return self.#pid || self.#session.pid || -1;
      },
      ready,
      exited,
      output: () => this.#lines.slice(),
      send: (message: HostToWorker) => {
        if (this.#forked && !this.settled) this.#session.command({ type: 'to-worker', worker: this.#id, message });
      },
      onMessage: (listener) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
      gate,
      stop: () => this.#stop(exited),
      kill: () => this.#kill(),
    };
  }

  event(event: Event): void {
    switch (event.type) {
      case 'forked':
        this.#forked = true;
        this.#pid = Number(event.pid);
        return;
      case 'output':
        this.#output(event.stream === 'stderr' ? 'stderr' : 'stdout', String(event.line));
        return;
      case 'exit':
        this.#exit({ code: (event.code as number | null) ?? null, signal: (event.signal as string | null) ?? null });
        return;
      case 'gate':
        this.#gateChannel.push(`${JSON.stringify(event.report)}\n`);
        return;
      case 'ready':
        clearTimeout(this.#timer);
        this.#resolveReady(Number(event.port));
        break;
      case 'fatal':
        this.#reported = event.problem as AppProblem;
        break;
    }
    const { worker: _worker, ...message } = event;
    for (const listener of this.#listeners) listener(message as unknown as WorkerToHost);
  }

  hostOutput(stream: 'stdout' | 'stderr', line: string, show: boolean): void {
    this.#output(stream, line, show);
  }

  hostExited(problem: AppProblem): void {
    if (!this.#forked) this.#reported ??= problem;
    this.#exit({ code: null, signal: this.#forked ? 'SIGKILL' : null });
  }

  fail(problem: AppProblem): void {
    this.#reported = problem;
    this.#exit({ code: null, signal: null });
  }

  #output(stream: 'stdout' | 'stderr', line: string, show = true): void {
    this.#lines.push(line);
    if (this.#lines.length > OUTPUT_LINES) this.#lines.splice(0, this.#lines.length - OUTPUT_LINES);
    if (show) this.#options.onOutput?.(stream, line);
  }

  #exit(info: { code: number | null; signal: string | null }): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolveExit(info);
  }

  /** The forked worker dies at once, as an out-of-memory kill does; its Python host reports the exit. */
  #kill(): void {
    if (this.settled) return;
    if (!this.#forked) return void this.#exit({ code: null, signal: 'SIGKILL' });
    try {
      process.kill(this.#pid, 'SIGKILL');
    } catch {
      // Gone already: its host reports the exit.
    }
  }

  async #stop(exited: Promise<ExitInfo>): Promise<ExitInfo> {
    this.#stopping = true;
    if (!this.settled) {
      if (this.#forked && !this.#session.gone) this.#session.command({ type: 'stop-worker', worker: this.#id });
      else this.#exit({ code: null, signal: null });
    }
    return exited;
  }
}
