// The host's one scheduled-task process (a clock process, a cron job), beside the workers:
// started with them, replaced by a reload, started again after a crash when the host restarts
// crashed processes. The host says how to start it; this keeps it and tells about it.
import type { EventStream, HostEvent } from './events.ts';
import type { SpawnWorkerOptions, WorkerProcess } from './processes.ts';
import type { AppProblem } from './protocol.ts';

/** What the jobs process needs from its host. */
export interface JobsHost {
  readonly events: EventStream<HostEvent>;
  /** Start the jobs process (with the host's generation, environment and clock). */
  spawn(onOutput: NonNullable<SpawnWorkerOptions['onOutput']>): WorkerProcess;
  /** Record a problem the process reported (a crash, an error on start). */
  problem(problem: AppProblem): void;
  /** Whether a jobs process that crashed after it started is started again now. */
  restartsCrashed(): boolean;
}

export class JobsProcess {
  readonly #host: JobsHost;
  #current: { process: WorkerProcess; restarts: number; retired: boolean } | undefined;

  constructor(host: JobsHost) {
    this.#host = host;
  }

  /** The process now (the last one, once stopped); undefined before the first start. */
  get process(): WorkerProcess | undefined {
    return this.#current?.process;
  }

  info(): { readonly pid: number; readonly restarts: number } | undefined {
    return this.#current && { pid: this.#current.process.pid, restarts: this.#current.restarts };
  }

  /** Start a fresh one; resolves once it has imported the jobs module, rejects as a worker does. */
  async start(): Promise<void> {
    const current = { process: this.#launch(), restarts: 0, retired: false };
    this.#current = current;
    await current.process.ready;
  }

  async stop(): Promise<void> {
    const current = this.#current;
    if (!current) return;
    current.retired = true;
    await current.process.stop();
  }

  #launch(): WorkerProcess {
    const { events } = this.#host;
    const proc = this.#host.spawn((stream, line) => events.emit({ type: 'jobs-output', stream, line }));
    let started = false;
    events.emit({ type: 'jobs-starting', pid: proc.pid });
    proc.ready.then(
      () => {
        started = true;
        events.emit({ type: 'jobs-ready', pid: proc.pid });
      },
      () => {},
    );
    void proc.exited.then((info) => {
      if (!info.expected && info.problem) {
        this.#host.problem(info.problem);
        events.emit({ type: 'jobs-crashed', pid: proc.pid, problem: info.problem });
      }
      events.emit({ type: 'jobs-exited', pid: proc.pid, code: info.code, signal: info.signal, expected: info.expected });
      const current = this.#current;
      if (!current || current.process !== proc || current.retired) return;
      if (!info.expected && started && this.#host.restartsCrashed()) {
        current.restarts++;
        current.process = this.#launch();
        current.process.ready.catch(() => {});
      }
    });
    return proc;
  }
}
