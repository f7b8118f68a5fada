// Messages between the course and a worker process, over the worker's IPC channel.

/** What went wrong with the learner's app, located in their file where the stack allows. */
export interface AppProblem {
  readonly kind:
    | 'syntax' // the module does not parse
    | 'import' // module-level code threw while the app was imported
    | 'no-export' // no default export
    | 'bad-export' // the default export is not an app
    | 'crash' // the process died while serving (an uncaught error, process.exit, a signal)
    | 'exit' // the process exited before it was ready
    | 'start-timeout'; // the app took too long to import and listen
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly stack?: string;
  /** The last lines the worker printed, oldest first. */
  readonly output?: readonly string[];
}

export type WorkerToHost =
  | { readonly type: 'waiting' } // booted and preloaded, ready for an assignment
  | { readonly type: 'ready'; readonly port: number; readonly pid: number }
  | { readonly type: 'fatal'; readonly problem: AppProblem }
  | { readonly type: 'clock-advanced'; readonly id: number; readonly now: number }
  | { readonly type: 'pong'; readonly id: number }
  /** The answer to 'clock-query': the process's time, and how many timers wait on its manual clock (null on a real clock). */
  | { readonly type: 'clock-state'; readonly id: number; readonly now: number; readonly timers: number | null }
  /** The answer to 'clock-hold': the process's time as it now stands (or goes on). */
  | { readonly type: 'clock-held'; readonly id: number; readonly now: number }
  /** The answer to 'arrive-together': the requests may come. */
  | { readonly type: 'arriving'; readonly id: number };

/** A process's clock, as the host hands it over: its kind, where it starts, and when that was read. */
export interface ClockSetting {
  readonly clock?: ClockKind;
  /** Epoch milliseconds the manual clock starts at. */
  readonly clockStart?: number;
  /**
   * The course's real time (Date.now()) when it read `clockStart`: on a manual clock the date goes
   * on with real time from there (timers wait for the course), as any machine's clock does.
   */
  readonly clockSentAt?: number;
}

/** What a started worker process is to run: sent once, before it imports anything of the learner's. */
export interface Assignment extends ClockSetting {
  readonly type: 'assign';
  readonly appFile: string;
  /** 'web' serves the module's default export; 'jobs' runs the host's one scheduled-task process. */
  readonly role?: 'web' | 'jobs';
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly clock: ClockKind;
  /** The worker runs on one machine of several: its loopback is its own (own-loopback.ts). */
  readonly ownLoopback?: boolean;
}

export type HostToWorker =
  | Assignment
  | { readonly type: 'clock-advance'; readonly id: number; readonly ms: number }
  | { readonly type: 'ping'; readonly id: number }
  | { readonly type: 'clock-query'; readonly id: number }
  /** Hold the date still at `at` (hold), or let it go on with real time again: visitors in between arrive in one millisecond. */
  | { readonly type: 'clock-hold'; readonly id: number; readonly hold: boolean; readonly at: number }
  /** The next `count` requests come in together (a threaded Python worker takes them in turns, as the GIL does: _course_threads.py). */
  | { readonly type: 'arrive-together'; readonly id: number; readonly count: number }
  | { readonly type: 'stop' };

/**
 * How the course sends a HostToWorker message: as a Node internal IPC message (its `cmd` starts
 * with NODE_), which Node emits as 'internalMessage', so the app's process.on('message') never
 * hears the course.
 */
export const COURSE_MESSAGE = 'NODE_COURSE';
export interface CourseEnvelope {
  readonly cmd: typeof COURSE_MESSAGE;
  readonly message: HostToWorker;
}

/**
 * 'real': the app's own timers and date. 'manual': the course's clock: its timers fire only when
 * the course moves it (checks), and its date goes on with real time besides, so that time passes
 * for the app as on any machine (a check may hold the date still for a moment). 'flowing': the same clock, moving by itself with
 * real time too (people using the app: serve, the playground), so the app runs on the same timer
 * functions whether a check or a person is at the other end.
 */
export type ClockKind = 'real' | 'manual' | 'flowing';
