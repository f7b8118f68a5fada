// A host as the course simulates it: N worker processes, each running its own copy of the
// learner's app, behind one dispatcher; reloadable, with a typed event stream.
import http from 'node:http';
import { Dispatcher, type Policy, type Slot, type WorkerMode } from './dispatcher.ts';
import { EventStream, type HostEvent, type WorkerState } from './events.ts';
import { AppStartError, type WorkerProcess } from './processes.ts';
import { runtimeFor, type WorkerGeneration, type WorkerRuntime } from './worker-runtime.ts';
import type { AppProblem, ClockKind, HostToWorker, WorkerToHost } from './protocol.ts';
import { appSettings, instanceVariables, machineHostname } from './host-env.ts';
import type { WorkerGate } from './gate.ts';

export interface HostOptions {
  /** Absolute path of the app module to serve. */
  readonly appFile: string;
  readonly workers: number;
  readonly mode?: WorkerMode;
  readonly policy?: Policy;
  /** Seed of the random policy; printed by callers so a run can be replayed. */
  readonly seed?: number;
  /**
   * Environment handed to every worker (where the data lives, as a real host's settings). Keys
   * starting with COURSE_ are the course's (COURSE_CLOCK_START: the manual clock's start) and
   * never reach the app.
   */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly port?: number;
  readonly clock?: ClockKind;
  readonly startTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Keep warm spare processes ready so that a reload is quick (playgrounds, checks that reload). */
  readonly spares?: boolean;
  /** Start a fresh worker in place of one that crashed, as a host's master process does. */
  readonly restartCrashed?: boolean;
  /**
   * A module to run in one process of its own beside the workers, as a host's scheduled task
   * (a clock process, a cron job): same environment and clock as the workers, no requests.
   * Started with the workers, restarted by a reload, left running when the workers are scaled.
   */
  readonly jobsFile?: string;
  /**
   * Machines the workers are spread over (default 1). As PM2 in cluster mode numbers its
   * workers, NODE_APP_INSTANCE (and pm_id) counts from 0 on each machine; each machine has its
   * own HOSTNAME, drawn from the seed.
   */
  readonly machines?: number;
  /** Python apps: load once and fork the workers (the default, as gunicorn --preload), or import in each. */
  readonly load?: 'preload' | 'lazy';
  /** Python apps: threads per worker (gunicorn's gthread); absent, one request at a time. */
  readonly threads?: number;
  /**
   * Machine k's own disk (k >= 2): the folder its processes start in and the environment that
   * points at its data, on top of `env`. Without it every machine shares machine 1's folder.
   */
  readonly machineDisk?: (machine: number) => { readonly cwd: string; readonly env: Readonly<Record<string, string>> };
}

/** A process's time and the timers waiting on its manual clock (null on a real clock). */
export interface ClockState {
  readonly now: number;
  readonly timers: number | null;
}

export interface WorkerInfo {
  readonly index: number;
  /**
   * The machine this worker runs on, from 1; its NODE_APP_INSTANCE counts from 0 on each machine.
   * Always set by the host (optional only so that views and tests written before it still type-check).
   */
  readonly machine?: number;
  readonly pid: number;
  readonly state: WorkerState;
  readonly served: number;
  readonly restarts: number;
  readonly inFlight: number;
  /** Requests waiting for this worker (one-request-at-a-time workers). */
  readonly queued: number;
}

interface WorkerSlot extends Slot {
  process?: WorkerProcess;
  ready?: Promise<number>;
  state: WorkerState;
  restarts: number;
  retired: boolean;
  /** Called once a retired worker has answered its last request (a rolling reload waits for it). */
  drained?: () => void;
}

interface JobsSlot {
  process: WorkerProcess;
  restarts: number;
  retired: boolean;
}

export class Host {
  readonly events = new EventStream<HostEvent>();
  readonly options: HostOptions;
  readonly seed: number;
  #slots: WorkerSlot[] = [];
  #dispatcher: Dispatcher;
  #port = 0;
  #clockId = 0;
  #stopped = false;
  #problems: AppProblem[] = [];
  #jobs: JobsSlot | undefined;
  #machines: number;
  /** The manual clock's start and how far it has been moved: a process started later starts at that time. */
  readonly #clockStart: number;
  /** Date.now() when the clock started: its date goes on with real time from there. */
  readonly #clockSince: number;
  #clockMoved = 0;
  /** Node or Python, from the app file; the workers started together (a start, a reload) form one generation. */
  readonly #runtime: WorkerRuntime;
  #generation: WorkerGeneration | undefined;

  constructor(options: HostOptions) {
    this.options = options;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.#machines = Math.max(1, Math.floor(options.machines ?? 1));
    this.#clockStart = Number(options.env?.COURSE_CLOCK_START ?? Date.now());
    this.#clockSince = Date.now();
    this.#runtime = runtimeFor(options.appFile);
    this.#dispatcher = new Dispatcher({
      slots: () => this.#slots,
      events: this.events,
      policy: options.policy ?? 'round-robin',
      mode: options.mode ?? 'sequential',
      seed: this.seed,
      requestTimeoutMs: options.requestTimeoutMs,
      onSlotChange: (slot) => {
        const s = slot as WorkerSlot;
        if (s.state === 'idle' || s.state === 'busy') s.state = s.inFlight > 0 ? 'busy' : 'idle';
        if (s.retired && s.inFlight <= 0) s.drained?.();
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  get workerCount(): number {
    return this.#slots.length;
  }

  /** Problems reported by workers since the host started (crashes, errors on start). */
  get problems(): readonly AppProblem[] {
    return this.#problems;
  }

  /** Start the dispatcher and the workers; rejects with AppStartError if the app cannot start. */
  async start(): Promise<void> {
    // Stopped before it started (the course quit meanwhile): starting now would leave workers
    // running that nothing stops.
    if (this.#stopped) throw new Error('The host was stopped before it started.');
    await this.#runtime.available();
    this.#port = await this.#dispatcher.listen(this.options.port ?? 0);
    try {
      await settleAll([this.#startWorkers(this.options.workers), this.#startJobs()]);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Stop every worker (and the jobs process) and start fresh ones: module-level code runs
   * again, memory starts empty.
   */
  async reload(options: { readonly rolling?: boolean } = {}): Promise<void> {
    if (options.rolling) await this.#rollingReload();
    else await this.setWorkerCount(this.#slots.length);
  }

  /**
   * Replace the workers one at a time, as PM2's `reload` does: worker k's successor starts
   * while the others (and the old worker k) keep serving; once it is ready it takes worker k's
   * place, and the old one stops when its requests are answered. For a moment old and new code
   * serve side by side. The jobs process, one per deployment, is replaced at the end. If a new
   * worker cannot start, the reload stops there (the workers not yet replaced keep running).
   */
  async #rollingReload(): Promise<void> {
    this.events.emit({ type: 'reload-start', rolling: true });
    for (let i = 0; i < this.#slots.length && !this.#stopped; i++) {
      const old = this.#slots[i]!;
      const fresh = this.#newSlot(old.index);
      try {
        await this.#launch(fresh);
      } catch (error) {
        await stopSlots([fresh]);
        throw error;
      }
      if (this.#stopped || this.#slots[i] !== old) {
        // The host stopped, or another reload replaced the workers meanwhile.
        await stopSlots([fresh]);
        return;
      }
      this.#slots = this.#slots.map((slot) => (slot === old ? fresh : slot));
      await this.#retire(old);
    }
    if (this.#stopped) return;
    await this.#stopJobs();
    await this.#startJobs();
    this.events.emit({ type: 'reload-end', rolling: true });
  }

  /** Stop a worker that no longer gets requests once those it has are answered (bounded). */
  async #retire(slot: WorkerSlot): Promise<void> {
    slot.retired = true;
    // Requests waiting for it go to its successor (the dispatcher moves them).
    for (const wake of slot.waiting.splice(0)) wake();
    if (slot.inFlight > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          slot.drained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.options.requestTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
    }
    await stopSlots([slot]);
  }

  /**
   * Scale out (or in) to `machines` machines, each running as many workers as one runs now, as
   * a host adds machines: the running workers keep running, a new machine's workers start,
   * numbered from 1 on that machine (a removed machine's workers stop). The jobs process is one
   * per deployment and keeps running.
   */
  async setMachines(machines: number): Promise<void> {
    const perMachine = this.#perMachine(this.#slots.length);
    const count = perMachine * Math.max(1, Math.floor(machines));
    const kept = this.#slots.slice(0, count);
    const removed = this.#slots.slice(count);
    const added = Array.from({ length: Math.max(0, count - kept.length) }, (_, i) => this.#newSlot(kept.length + i + 1));
    this.#machines = Math.max(1, Math.floor(machines));
    this.#slots = [...kept, ...added];
    await Promise.all([stopSlots(removed), settleAll(added.map((slot) => this.#launch(slot)))]);
  }

  get machines(): number {
    return this.#machines;
  }

  /**
   * Change the number of workers: every worker (and the jobs process) is replaced, as a host
   * applies a new worker count. The old ones stop while the new ones start; requests arriving
   * meanwhile wait for the new ones.
   */
  async setWorkerCount(count: number): Promise<void> {
    this.events.emit({ type: 'reload-start' });
    const old = this.#slots;
    const stopped = Promise.all([stopSlots(old), this.#stopJobs()]);
    const started = settleAll([this.#startWorkers(count), this.#startJobs()]);
    await Promise.allSettled([stopped, started]);
    await started;
    this.events.emit({ type: 'reload-end' });
  }

  workers(): WorkerInfo[] {
    return this.#slots.map((slot) => ({
      index: slot.index,
      machine: this.#placement(slot.index).machine,
      pid: slot.process?.pid ?? 0,
      state: slot.state,
      served: slot.served,
      restarts: slot.restarts,
      inFlight: slot.inFlight,
      queued: slot.waiting.length,
    }));
  }

  /** The last lines worker k printed. */
  output(worker: number): string[] {
    return this.#slots[worker - 1]?.process?.output() ?? [];
  }

  /** The jobs process, when the host runs one. */
  jobs(): { readonly pid: number; readonly restarts: number } | undefined {
    return this.#jobs && { pid: this.#jobs.process.pid, restarts: this.#jobs.restarts };
  }

  /**
   * Move the manual clock of every worker (and the jobs process) forward; resolves when all
   * timers due have run. Processes started later start at the moved time, so a reload or a
   * restart never turns the clock back.
   */
  async advanceClock(ms: number): Promise<void> {
    this.#clockMoved += ms;
    await this.#eachOnTheClock((proc) => {
      const id = ++this.#clockId;
      return this.#ask(proc, { type: 'clock-advance', id, ms }, (m) => m.type === 'clock-advanced' && m.id === id);
    });
  }

  /**
   * Hold the date of every process still (hold) at the course's present time, or let it go on
   * with real time again: visitors who arrive meanwhile arrive in the same millisecond, as people
   * do on a busy site. Timers are untouched (they wait for advanceClock either way).
   */
  async holdClock(hold: boolean): Promise<void> {
    const at = this.#clockNow();
    await this.#eachOnTheClock((proc) => {
      const id = ++this.#clockId;
      return this.#ask(proc, { type: 'clock-hold', id, hold, at }, (m) => m.type === 'clock-held' && m.id === id);
    });
  }

  /** Worker k's gate (forced races: src/check/race.ts); undefined when it is not running. */
  gate(worker: number): WorkerGate | undefined {
    return this.#slots[worker - 1]?.process?.gate;
  }

  /**
   * Worker k's time and how many timers wait on its manual clock: a check can tell that a
   * request is waiting on a timer (a simulated network call) before it sends the next one.
   * Undefined when the worker is not running.
   */
  async clockState(worker: number): Promise<ClockState | undefined> {
    const slot = this.#slots[worker - 1];
    const proc = slot?.process;
    if (!proc) return undefined;
    await slot.ready?.catch(() => {});
    const id = ++this.#clockId;
    const answer = await this.#ask(proc, { type: 'clock-query', id }, (m) => m.type === 'clock-state' && m.id === id);
    return answer?.type === 'clock-state' ? { now: answer.now, timers: answer.timers } : undefined;
  }

  /**
   * Let every worker's news arrive: a round trip over each live worker's IPC channel (output
   * written before it is read by then), and the exit of any worker that is dying. Bounded.
   */
  async settle(limitMs = 500): Promise<void> {
    const processes = this.#slots.map((slot) => slot.process);
    if (this.#jobs) processes.push(this.#jobs.process);
    await Promise.all(
      processes.map(async (proc) => {
        if (!proc) return;
        const id = ++this.#clockId;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const limit = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, limitMs);
        });
        await Promise.race([this.#ask(proc, { type: 'ping', id }, (m) => m.type === 'pong' && m.id === id), limit]);
        clearTimeout(timer);
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Workers first: requests queued for them are answered 503 as their slots retire; only
    // then does the dispatcher close its connections.
    await Promise.all([this.#stopWorkers(), this.#stopJobs()]);
    await this.#dispatcher.close();
  }

  /** Send a message and wait for the answer `match` picks; undefined if the process exits first. */
  #ask(proc: WorkerProcess, message: HostToWorker, match: (m: WorkerToHost) => boolean): Promise<WorkerToHost | undefined> {
    return new Promise((resolve) => {
      const off = proc.onMessage((answer) => {
        if (match(answer)) {
          off();
          resolve(answer);
        }
      });
      void proc.exited.then(() => {
        off();
        resolve(undefined);
      });
      proc.send(message);
    });
  }

  #perMachine(count: number): number {
    return Math.max(1, Math.ceil(count / this.#machines));
  }

  /** Where worker `index` runs: its machine, and its number on that machine. */
  #placement(index: number): { machine: number; number: number } {
    const per = this.#perMachine(this.#slots.length);
    return { machine: Math.floor((index - 1) / per) + 1, number: ((index - 1) % per) + 1 };
  }

  /** Settings every process of this host gets: the options' env without the course's own keys. */
  #processEnv(): Record<string, string> {
    const env: Record<string, string> = appSettings(this.options.env);
    return env;
  }

  /** Where the course's clock stands now (its start, the real time since, and the moves): a process started now starts there. */
  #clockNow(realNow = Date.now()): number {
    return this.#clockStart + (realNow - this.#clockSince) + this.#clockMoved;
  }

  /** The clock's reading for a process that starts now: where it stands, and when it was read. */
  #clockReading(): { clockStart: number; clockSentAt: number } {
    const clockSentAt = Date.now();
    return { clockStart: this.#clockNow(clockSentAt), clockSentAt };
  }

  /** Every process on the clock (the workers and the jobs process), each once it is ready. */
  async #eachOnTheClock(ask: (proc: WorkerProcess) => Promise<unknown>): Promise<void> {
    const processes: Array<{ proc?: WorkerProcess; ready?: Promise<unknown> }> = this.#slots.map((slot) => ({ proc: slot.process, ready: slot.ready }));
    if (this.#jobs) processes.push({ proc: this.#jobs.process, ready: this.#jobs.process.ready });
    await Promise.all(
      processes.map(async ({ proc, ready }) => {
        if (!proc) return;
        await ready?.catch(() => {});
        await ask(proc);
      }),
    );
  }

  async #startWorkers(count: number): Promise<void> {
    this.#generation = this.#newGeneration('web');
    this.#slots = Array.from({ length: count }, (_, i) => this.#newSlot(i + 1));
    const started = settleAll(this.#slots.map((slot) => this.#launch(slot)));
    if (this.options.spares) void started.then(() => this.#runtime.prewarm(count), () => {});
    await started;
  }

  #newSlot(index: number): WorkerSlot {
    const slot: WorkerSlot = {
      index,
      inFlight: 0,
      served: 0,
      waiting: [],
      agent: new http.Agent({ keepAlive: true }),
      state: 'starting',
      restarts: 0,
      retired: false,
      port: () => slot.ready ?? Promise.reject(new Error('not started')),
    };
    return slot;
  }

  #launch(slot: WorkerSlot): Promise<number> {
    const { machine, number } = this.#placement(slot.index);
    const disk = machine > 1 ? this.options.machineDisk?.(machine) : undefined;
    this.#generation ??= this.#newGeneration('web');
    const proc = this.#generation.spawn({
      appFile: this.options.appFile,
      env: { ...this.#processEnv(), ...appSettings(disk?.env), ...instanceVariables(number - 1, machineHostname(this.seed, machine)) },
      cwd: disk?.cwd ?? this.options.cwd,
      clock: this.options.clock,
      ...this.#clockReading(),
      startTimeoutMs: this.options.startTimeoutMs,
      onOutput: (stream, line) => this.events.emit({ type: 'worker-output', worker: slot.index, stream, line }),
    });
    slot.process = proc;
    slot.state = 'starting';
    slot.ready = proc.ready;
    let served = false;
    this.events.emit({ type: 'worker-starting', worker: slot.index, pid: proc.pid });
    proc.ready.then(
      (port) => {
        served = true;
        if (slot.process !== proc) return;
        slot.state = slot.inFlight > 0 ? 'busy' : 'idle';
        this.events.emit({ type: 'worker-ready', worker: slot.index, pid: proc.pid, port });
      },
      () => {},
    );
    void proc.exited.then((info) => {
      if (!info.expected && info.problem) {
        this.#problems.push(info.problem);
        this.events.emit({ type: 'worker-crashed', worker: slot.index, pid: proc.pid, problem: info.problem });
      }
      this.events.emit({
        type: 'worker-exited',
        worker: slot.index,
        pid: proc.pid,
        code: info.code,
        signal: info.signal,
        expected: info.expected,
      });
      if (slot.process !== proc || slot.retired) return;
      slot.state = info.expected ? 'stopped' : 'crashed';
      if (!info.expected && served && this.options.restartCrashed && !this.#stopped) {
        slot.restarts++;
        void this.#launch(slot).catch(() => {});
      }
    });
    return proc.ready.catch((error: unknown) => {
      throw error instanceof AppStartError ? error : new AppStartError({ kind: 'exit', message: String(error) });
    });
  }

  #newGeneration(role: 'web' | 'jobs'): WorkerGeneration {
    const appFile = role === 'jobs' ? this.options.jobsFile! : this.options.appFile;
    const { clock, cwd, load, threads } = this.options;
    return this.#runtime.generation({ appFile, env: this.#processEnv(), cwd, clock, ...this.#clockReading(), role, load, threads });
  }

  async #startJobs(): Promise<void> {
    if (!this.options.jobsFile) return;
    const jobs: JobsSlot = { process: this.#launchJobs(), restarts: 0, retired: false };
    this.#jobs = jobs;
    await jobs.process.ready;
  }

  #launchJobs(): WorkerProcess {
    const proc = this.#newGeneration('jobs').spawn({
      appFile: this.options.jobsFile!,
      role: 'jobs',
      // The deployment's one scheduled process, on the first machine, as an app of its own.
      env: { ...this.#processEnv(), ...instanceVariables(0, machineHostname(this.seed, 1), this.#perMachine(this.#slots.length)) },
      cwd: this.options.cwd,
      clock: this.options.clock,
      ...this.#clockReading(),
      startTimeoutMs: this.options.startTimeoutMs,
      onOutput: (stream, line) => this.events.emit({ type: 'jobs-output', stream, line }),
    });
    let started = false;
    this.events.emit({ type: 'jobs-starting', pid: proc.pid });
    proc.ready.then(
      () => {
        started = true;
        this.events.emit({ type: 'jobs-ready', pid: proc.pid });
      },
      () => {},
    );
    void proc.exited.then((info) => {
      if (!info.expected && info.problem) {
        this.#problems.push(info.problem);
        this.events.emit({ type: 'jobs-crashed', pid: proc.pid, problem: info.problem });
      }
      this.events.emit({ type: 'jobs-exited', pid: proc.pid, code: info.code, signal: info.signal, expected: info.expected });
      const jobs = this.#jobs;
      if (!jobs || jobs.process !== proc || jobs.retired) return;
      if (!info.expected && started && this.options.restartCrashed && !this.#stopped) {
        jobs.restarts++;
        jobs.process = this.#launchJobs();
        jobs.process.ready.catch(() => {});
      }
    });
    return proc;
  }

  async #stopJobs(): Promise<void> {
    const jobs = this.#jobs;
    if (!jobs) return;
    jobs.retired = true;
    await jobs.process.stop();
  }

  async #stopWorkers(): Promise<void> {
    await stopSlots(this.#slots);
  }
}

/** Wait for every promise; reject with the first failure once all have settled. */
async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function stopSlots(slots: readonly WorkerSlot[]): Promise<void> {
  await Promise.all(
    slots.map(async (slot) => {
      slot.retired = true;
      slot.agent.destroy();
      for (const wake of slot.waiting.splice(0)) wake();
      if (slot.process) await slot.process.stop();
      slot.state = 'stopped';
    }),
  );
}
