// A host as the course simulates it: N worker processes, each running its own copy of the
// learner's app, behind one dispatcher; reloadable, with a typed event stream. Beside it: how
// its processes start (host-launch.ts), its worker slots (host-slots.ts), its jobs process
// (host-jobs.ts), the questions it asks its workers (host-messages.ts) and its types (host-types.ts).
import { Dispatcher } from './dispatcher.ts';
import { EventStream, type HostEvent } from './events.ts';
import type { WorkerProcess } from './processes.ts';
import { runtimeFor, type WorkerRuntime } from './worker-runtime.ts';
import type { AppProblem } from './protocol.ts';
import type { WorkerGate } from './gate.ts';
import type { ClockState, HostOptions, WorkerInfo } from './host-types.ts';
import { crashSlot, newSlot, retire, settleAll, startSlot, stopSlots, type WorkerSlot } from './host-slots.ts';
import { arriveTogether, ping } from './host-messages.ts';
import { HostClock } from './host-clock.ts';
import { JobsProcess } from './host-jobs.ts';
import { Launcher } from './host-launch.ts';

export type { ClockState, HostOptions, WorkerInfo };

export class Host {
  readonly events = new EventStream<HostEvent>();
  readonly options: HostOptions;
  readonly seed: number;
  #slots: WorkerSlot[] = [];
  #dispatcher: Dispatcher;
  #port = 0;
  #stopped = false;
  #problems: AppProblem[] = [];
  readonly #jobs: JobsProcess | undefined;
  /** Node or Python, from the app file. */
  readonly #runtime: WorkerRuntime;
  readonly #launcher: Launcher;
  readonly #clock: HostClock;

  constructor(options: HostOptions) {
    this.options = options;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.#runtime = runtimeFor(options.appFile);
    this.#launcher = new Launcher(options, this.seed, this.#runtime);
    this.#clock = new HostClock(this.#launcher, () =>
      this.#processes().map((proc) => {
        const slot = this.#slots.find((s) => s.process === proc);
        return { proc, machine: slot ? this.#launcher.placement(slot.index, this.#slots.length).machine : 1 };
      }),
    );
    this.#jobs = options.jobsFile
      ? new JobsProcess({
          events: this.events,
          spawn: (onOutput) => this.#launcher.jobs(this.#slots.length, onOutput),
          problem: (problem) => this.#problems.push(problem),
          restartsCrashed: () => Boolean(this.options.restartCrashed) && !this.#stopped,
        })
      : undefined;
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
    await this.#runtime.available({ database: Boolean(this.options.env?.DATABASE_URL) });
    this.#port = await this.#dispatcher.listen(this.options.port ?? 0);
    try {
      await this.#launcher.openViews();
      await settleAll([this.#startWorkers(this.options.workers), this.#startJobs()]);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Boot `count` spare processes now for this host's coming reloads (or added machines): the
   * next workers to start take them, nothing replaces them, and stop() ends those not taken.
   * No-op for runtimes without spares (Python) and once the host has stopped.
   */
  reserveSpares(count: number): void {
    if (this.#stopped || count <= 0 || this.#launcher.reserve) return;
    // Machines in views of their own: the spares boot in the first machine's, where reloads start.
    this.#launcher.reserve = this.#runtime.reserve?.(count, this.#launcher.spareEntry());
  }

  /** The pids of the spares reserveSpares() booted that no worker has taken yet. */
  reservedPids(): number[] {
    return this.#launcher.reserve?.pids() ?? [];
  }

  /**
   * Stop every worker (and the jobs process) and start fresh ones: module-level code runs
   * again, memory starts empty. All at once by default; `rolling` and `startFirst` replace the
   * workers while they serve (#replace).
   */
  async reload(options: { readonly rolling?: boolean; readonly startFirst?: boolean } = {}): Promise<void> {
    if (options.rolling) await this.#replace(true);
    else if (options.startFirst) await this.#replace(false);
    else await this.setWorkerCount(this.#slots.length);
  }

  /**
   * Replace the workers while they serve. `oneAtATime`, as PM2's `reload` does: worker k's
   * successor starts while the others (and the old worker k) keep serving; once it is ready it
   * takes worker k's place, and the old one stops when its requests are answered. Otherwise, as
   * gunicorn's HUP or a deploy that starts the new version beside the old: every successor starts
   * while all the old workers serve, then takes its place, and the old ones stop when their
   * requests are answered. Either way, for a moment old and new code run side by side. The jobs
   * process, one per deployment, is replaced at the end. If a new worker cannot start, the reload
   * stops there (the workers not yet replaced keep running).
   */
  async #replace(oneAtATime: boolean): Promise<void> {
    this.events.emit(oneAtATime ? { type: 'reload-start', rolling: true } : { type: 'reload-start' });
    const batches = oneAtATime ? this.#slots.map((slot) => [slot]) : [this.#slots];
    for (const old of batches) {
      if (this.#stopped) return;
      const fresh = old.map((slot) => newSlot(slot.index));
      try {
        await settleAll(fresh.map((slot) => this.#launch(slot)));
      } catch (error) {
        await stopSlots(fresh);
        throw error;
      }
      if (this.#stopped || old.some((slot) => !this.#slots.includes(slot))) {
        // The host stopped, or another reload replaced the workers meanwhile.
        await stopSlots(fresh);
        return;
      }
      this.#slots = this.#slots.map((slot) => fresh[old.indexOf(slot)] ?? slot);
      await Promise.all(old.map((slot) => retire(slot, this.options.requestTimeoutMs ?? 10_000)));
    }
    if (this.#stopped) return;
    await this.#stopJobs();
    await this.#startJobs();
    this.events.emit(oneAtATime ? { type: 'reload-end', rolling: true } : { type: 'reload-end' });
  }

  /**
   * Scale out (or in) to `machines` machines, each running as many workers as one runs now, as
   * a host adds machines: the running workers keep running, a new machine's workers start,
   * numbered from 1 on that machine (a removed machine's workers stop). The jobs process is one
   * per deployment and keeps running.
   */
  async setMachines(machines: number, options: { clockBehindMs?: number } = {}): Promise<void> {
    for (let machine = 2; machine <= machines; machine++) this.#launcher.setClockBehind(machine, options.clockBehindMs ?? 0);
    const perMachine = this.#launcher.perMachine(this.#slots.length);
    const count = perMachine * Math.max(1, Math.floor(machines));
    const kept = this.#slots.slice(0, count);
    const removed = this.#slots.slice(count);
    const added = Array.from({ length: Math.max(0, count - kept.length) }, (_, i) => newSlot(kept.length + i + 1));
    this.#launcher.machines = Math.max(1, Math.floor(machines));
    this.#slots = [...kept, ...added];
    await Promise.all([stopSlots(removed), settleAll(added.map((slot) => this.#launch(slot)))]);
  }

  get machines(): number {
    return this.#launcher.machines;
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
      machine: this.#launcher.placement(slot.index, this.#slots.length).machine,
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
    return this.#jobs?.info();
  }

  /**
   * Move the manual clock of every worker (and the jobs process) forward; resolves when all
   * timers due have run. Processes started later start at the moved time, so a reload or a
   * restart never turns the clock back.
   */
  advanceClock(ms: number): Promise<void> {
    return this.#clock.advance(ms);
  }

  /** How far the course's date runs ahead of this computer's (its moves, and where it started). */
  get clockAheadMs(): number {
    return this.#launcher.clockNow() - Date.now();
  }

  /** How many processes are still running what a clock move woke (HostClock.moving). */
  get clockMoving(): number {
    return this.#clock.moving;
  }

  /**
   * Hold the date of every process still (hold) at the course's present time, or let it go on
   * with real time again: visitors who arrive meanwhile arrive in the same millisecond, as people
   * do on a busy site. Timers are untouched (they wait for advanceClock either way).
   */
  holdClock(hold: boolean): Promise<void> {
    return this.#clock.hold(hold);
  }

  /** Worker k's gate (forced races: src/check/race.ts); undefined when it is not running. */
  gate(worker: number): WorkerGate | undefined {
    return this.#slots[worker - 1]?.process?.gate;
  }

  /**
   * Kill worker k at once, as the kernel's out-of-memory killer or a lost machine does (SIGKILL:
   * no handler of the app runs, its requests in flight are cut off), then start a fresh worker
   * in its place, as a host's master process does. Resolves once the new worker serves. The
   * kill is the course's doing, so it is not recorded as a problem of the app.
   */
  async crash(worker: number): Promise<void> {
    const slot = this.#slots[worker - 1];
    if (!slot?.process || this.#stopped) throw new Error(`There is no worker ${worker} to crash.`);
    await crashSlot(slot, this.#problems, () => this.#launch(slot));
  }

  /**
   * Worker k's time and how many timers wait on its manual clock: a check can tell that a
   * request is waiting on a timer (a simulated network call) before it sends the next one.
   * Undefined when the worker is not running.
   */
  async clockState(worker: number): Promise<ClockState | undefined> {
    const proc = this.#slots[worker - 1]?.process;
    return proc && this.#clock.state(proc);
  }

  /** The next `count` requests to reach worker k arrive at the same moment (CheckContext.arriveTogether). */
  async arriveTogether(worker: number, count: number): Promise<void> {
    const proc = this.#slots[worker - 1]?.process;
    if (proc) await arriveTogether(proc, count);
  }

  /**
   * Let every worker's news arrive: a round trip over each live worker's IPC channel (output
   * written before it is read by then), and the exit of any worker that is dying. Bounded.
   */
  async settle(limitMs = 500): Promise<void> {
    await Promise.all(this.#processes().map((proc) => ping(proc, limitMs)));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Workers first: requests queued for them are answered 503 as their slots retire; only
    // then does the dispatcher close its connections.
    await Promise.all([this.#stopWorkers(), this.#stopJobs(), this.#launcher.reserve?.stop()]);
    this.#launcher.closeViews();
    await this.#dispatcher.close();
  }

  /** The processes running now: every worker's, and the jobs process. */
  #processes(): WorkerProcess[] {
    const processes = this.#slots.map((slot) => slot.process);
    processes.push(this.#jobs?.process);
    return processes.filter((proc) => proc !== undefined);
  }

  async #startWorkers(count: number): Promise<void> {
    this.#launcher.newGeneration();
    this.#slots = Array.from({ length: count }, (_, i) => newSlot(i + 1));
    const started = settleAll(this.#slots.map((slot) => this.#launch(slot)));
    const pool = typeof this.options.spares === 'number' ? this.options.spares : this.options.spares ? count : 0;
    if (pool > 0) void started.then(() => this.#runtime.prewarm(pool), () => {});
    await started;
  }

  /** Start worker `slot`'s process: from the current generation, on its machine, with its instance variables. */
  #launch(slot: WorkerSlot): Promise<number> {
    return startSlot(slot, {
      events: this.events,
      problem: (problem) => this.#problems.push(problem),
      restartsCrashed: () => Boolean(this.options.restartCrashed) && !this.#stopped,
      spawn: () => this.#launcher.worker(slot.index, this.#slots.length, (stream, line) => this.events.emit({ type: 'worker-output', worker: slot.index, stream, line })),
    });
  }

  async #startJobs(): Promise<void> {
    await this.#jobs?.start();
  }

  async #stopJobs(): Promise<void> {
    await this.#jobs?.stop();
  }

  async #stopWorkers(): Promise<void> {
    await stopSlots(this.#slots);
  }
}
