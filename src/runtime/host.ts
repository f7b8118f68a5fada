// A host as the course simulates it: N worker processes, each running its own copy of the
// learner's app, behind one dispatcher; reloadable, with a typed event stream.
import http from 'node:http';
import { Dispatcher, type Policy, type Slot, type WorkerMode } from './dispatcher.ts';
import { EventStream, type HostEvent, type WorkerState } from './events.ts';
import { AppStartError, prewarm, spawnWorker, type WorkerProcess } from './processes.ts';
import type { AppProblem } from './protocol.ts';

export interface HostOptions {
  /** Absolute path of the app module to serve. */
  readonly appFile: string;
  readonly workers: number;
  readonly mode?: WorkerMode;
  readonly policy?: Policy;
  /** Seed of the random policy; printed by callers so a run can be replayed. */
  readonly seed?: number;
  /** Environment handed to every worker (where the data lives, as a real host's settings). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly port?: number;
  readonly clock?: 'real' | 'manual';
  readonly startTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Keep warm spare processes ready so that a reload is quick (playgrounds, checks that reload). */
  readonly spares?: boolean;
  /** Start a fresh worker in place of one that crashed, as a host's master process does. */
  readonly restartCrashed?: boolean;
}

export interface WorkerInfo {
  readonly index: number;
  readonly pid: number;
  readonly state: WorkerState;
  readonly served: number;
  readonly restarts: number;
  readonly inFlight: number;
}

interface WorkerSlot extends Slot {
  process?: WorkerProcess;
  ready?: Promise<number>;
  state: WorkerState;
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

  constructor(options: HostOptions) {
    this.options = options;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
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
    this.#port = await this.#dispatcher.listen(this.options.port ?? 0);
    try {
      await this.#startWorkers(this.options.workers);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stop every worker and start fresh ones: module-level code runs again, memory starts empty. */
  async reload(): Promise<void> {
    await this.setWorkerCount(this.#slots.length);
  }

  /**
   * Change the number of workers: every worker is replaced, as a host applies a new worker
   * count. The old ones stop while the new ones start; requests arriving meanwhile wait for
   * the new ones.
   */
  async setWorkerCount(count: number): Promise<void> {
    this.events.emit({ type: 'reload-start' });
    const old = this.#slots;
    const stopped = this.#stopWorkers(old);
    const started = this.#startWorkers(count);
    await Promise.allSettled([stopped, started]);
    await started;
    this.events.emit({ type: 'reload-end' });
  }

  workers(): WorkerInfo[] {
    return this.#slots.map((slot) => ({
      index: slot.index,
      pid: slot.process?.pid ?? 0,
      state: slot.state,
      served: slot.served,
      restarts: slot.restarts,
      inFlight: slot.inFlight,
    }));
  }

  /** The last lines worker k printed. */
  output(worker: number): string[] {
    return this.#slots[worker - 1]?.process?.output() ?? [];
  }

  /** Move the manual clock of every worker forward; resolves when all timers due have run. */
  async advanceClock(ms: number): Promise<void> {
    await Promise.all(
      this.#slots.map(async (slot) => {
        const proc = slot.process;
        if (!proc) return;
        await slot.ready;
        const id = ++this.#clockId;
        await new Promise<void>((resolve) => {
          const off = proc.onMessage((message) => {
            if (message.type === 'clock-advanced' && message.id === id) {
              off();
              resolve();
            }
          });
          void proc.exited.then(() => {
            off();
            resolve();
          });
          proc.send({ type: 'clock-advance', id, ms });
        });
      }),
    );
  }

  /**
   * Let every worker's news arrive: a round trip over each live worker's IPC channel (output
   * written before it is read by then), and the exit of any worker that is dying. Bounded.
   */
  async settle(limitMs = 500): Promise<void> {
    await Promise.all(
      this.#slots.map((slot) => {
        const proc = slot.process;
        if (!proc) return undefined;
        const id = ++this.#clockId;
        return new Promise<void>((resolve) => {
          const timer = setTimeout(done, limitMs);
          const off = proc.onMessage((message) => {
            if (message.type === 'pong' && message.id === id) done();
          });
          void proc.exited.then(done);
          function done() {
            clearTimeout(timer);
            off();
            resolve();
          }
          proc.send({ type: 'ping', id });
        });
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all([this.#stopWorkers(this.#slots), this.#dispatcher.close()]);
  }

  async #startWorkers(count: number): Promise<void> {
    this.#slots = Array.from({ length: count }, (_, i) => {
      const slot: WorkerSlot = {
        index: i + 1,
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
    });
    const started = this.#slots.map((slot) => this.#launch(slot));
    const results = await Promise.allSettled(started);
    if (this.options.spares) void prewarm(count);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #launch(slot: WorkerSlot): Promise<number> {
    const proc = spawnWorker({
      appFile: this.options.appFile,
      env: { ...this.options.env, COURSE_WORKER: String(slot.index) },
      cwd: this.options.cwd,
      clock: this.options.clock,
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

  async #stopWorkers(slots: readonly WorkerSlot[]): Promise<void> {
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
}
