// Worker runtimes behind one interface: the host, the dispatcher and the checks do not fork by
// language. Node: each worker is a process that imports the app itself (processes.ts). Python:
// a preforking host that loads the WSGI app once per generation and forks the workers from it
// (python/runtime.ts). The app file's language picks the runtime.
import { holdRefill, prewarm, reserveSpares, spawnWorker, type SpareReserve, type SpawnWorkerOptions, type WorkerProcess } from './processes.ts';
import type { ClockSetting } from './protocol.ts';

/** What every worker of one generation (a start, or a reload) shares. */
export interface GenerationOptions extends ClockSetting {
  readonly appFile: string;
  /** The host's environment for the app, without any one worker's own variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly role?: 'web' | 'jobs';
  /** Python: load the app once and fork (the default), or let each worker import it. */
  readonly load?: 'preload' | 'lazy';
  /** Python: threads per worker, each serving a request (gunicorn's gthread); absent, one request at a time. */
  readonly threads?: number;
}

/**
 * The workers started together. A preforking runtime loads the app once for the generation and
 * forks each worker from it: a restarted worker is forked again from the same load; a reload
 * asks for a new generation.
 */
export interface WorkerGeneration {
  spawn(options: SpawnWorkerOptions): WorkerProcess;
}

export interface WorkerRuntime {
  readonly language: 'node' | 'python';
  generation(options: GenerationOptions): WorkerGeneration;
  /** Keep processes ready so that a reload is quick (where the runtime has such a thing). */
  prewarm(count: number): Promise<void>;
  /**
   * Put off refilling the ready processes while a warm check runs, when they hold `needed`
   * already (where the runtime has such a thing): returns what lifts the hold, if it holds.
   */
  holdRefill?(needed: number): (() => void) | undefined;
  /**
   * Boot `count` processes for one host's own coming starts (a check that reloads), where the
   * runtime has such a thing: not replaced once taken, ended by the reserve's stop(). `enter`
   * boots them in a machine's view (machine-view.ts), for workers that will start there.
   */
  reserve?(count: number, enter?: readonly string[]): SpareReserve;
  /**
   * Throws an error the user can act on (exit code 2) when the runtime cannot run here (no
   * interpreter, no framework, no PostgreSQL client for an app given a DATABASE_URL); resolves
   * when it can.
   */
  available(needs?: RuntimeNeeds): Promise<void>;
}

/** What an app needs of its runtime beyond the framework. */
export interface RuntimeNeeds {
  /** The app is given a PostgreSQL database (DATABASE_URL): it needs a client library for it. */
  readonly database?: boolean;
}

export const nodeRuntime: WorkerRuntime = {
  language: 'node',
  generation: () => ({ spawn: spawnWorker }),
  prewarm,
  holdRefill,
  reserve: reserveSpares,
  available: async () => {},
};

/** The Python runtime (python/runtime.ts), loaded by its first available(): a Node app never loads it. */
let python: WorkerRuntime | undefined;
async function loadPython(): Promise<WorkerRuntime> {
  python ??= (await import('./python/runtime.ts')).pythonRuntime;
  return python;
}

const lazyPythonRuntime: WorkerRuntime = {
  language: 'python',
  generation(options) {
    // A host asks available() before its first start.
    if (!python) throw new Error('The Python runtime was used before available() loaded it.');
    return python.generation(options);
  },
  prewarm: async (count) => (await loadPython()).prewarm(count),
  available: async (needs) => (await loadPython()).available(needs),
};

/** The runtime that serves this app file: Python for a .py module, Node otherwise. */
export function runtimeFor(appFile: string): WorkerRuntime {
  return appFile.endsWith('.py') ? lazyPythonRuntime : nodeRuntime;
}
