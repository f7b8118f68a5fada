// The learner's app on Node's own node:cluster (cluster-primary.ts), behind the host's event
// stream: the playground draws it with the same worker panels and request log as the course's
// host. The primary reports each finished request with the cluster worker that served it;
// nothing here can pin a request or move a clock: the machine's own clock, connections handed
// out in turn by the primary. A lesson's jobs.js runs once, as its own process, as PM2 would.
import type { PrimaryToCourse } from './cluster-protocol.ts';
import { EventStream, type HostEvent } from './events.ts';
import { appSettings, instanceVariables, machineHostname } from './host-env.ts';
import { AppStartError, spawnClusterPrimary, spawnWorker, type ClusterPrimary, type WorkerProcess } from './processes.ts';

export interface ClusterHostOptions {
  readonly appFile: string;
  readonly jobsFile?: string;
  readonly workers: number;
  /** The one port every worker shares (0: a free one). */
  readonly port: number;
  readonly cwd: string;
  /** The run's settings; course-internal variables are left out, as on any real host. */
  readonly env: Readonly<Record<string, string>>;
}

export class ClusterHost {
  readonly events = new EventStream<HostEvent>();
  readonly #options: ClusterHostOptions;
  #primary: ClusterPrimary | undefined;
  #jobs: WorkerProcess | undefined;
  #port = 0;
  #nextRequest = 1;
  #stopping = false;
  #toldListen = false;
  readonly #pids = new Map<number, number>();
  readonly #crashed = new Set<number>();

  constructor(options: ClusterHostOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Resolves once every cluster worker listens; rejects with an AppStartError when the app cannot start. */
  async start(): Promise<void> {
    const { appFile, jobsFile, workers, port, cwd } = this.#options;
    const settings = appSettings(this.#options.env);
    const hostname = machineHostname(Math.floor(Math.random() * 2 ** 31), 1);
    let settle: (outcome: Extract<PrimaryToCourse, { type: 'listening' }> | Error) => void = () => {};
    const started = new Promise<Extract<PrimaryToCourse, { type: 'listening' }> | Error>((resolve) => (settle = resolve));
    if (jobsFile) {
      const jobs = spawnWorker({
        appFile: jobsFile,
        role: 'jobs',
        env: { ...settings, ...instanceVariables(0, hostname, workers) },
        cwd,
        onOutput: (stream, line) => this.events.emit({ type: 'jobs-output', stream, line }),
      });
      this.#jobs = jobs;
      this.events.emit({ type: 'jobs-starting', pid: jobs.pid });
      jobs.ready.then(
        () => this.events.emit({ type: 'jobs-ready', pid: jobs.pid }),
        (error: Error) => settle(error),
      );
      void jobs.exited.then((info) => {
        if (info.problem && !info.expected) this.events.emit({ type: 'jobs-crashed', pid: jobs.pid, problem: info.problem });
        this.events.emit({ type: 'jobs-exited', pid: jobs.pid, code: info.code, signal: info.signal, expected: info.expected });
      });
    }
    const primary = spawnClusterPrimary({
      appFile,
      workers,
      port,
      cwd,
      env: settings,
      instances: Array.from({ length: workers }, (_, i) => instanceVariables(i, hostname)),
      onMessage: (message) => this.#onMessage(message, settle),
      onOutput: (stream, line) => this.events.emit({ type: 'worker-output', worker: 0, stream, line }),
    });
    this.#primary = primary;
    void primary.exited.then((info) => settle(new AppStartError({ kind: 'crash', message: `The node:cluster primary exited (${info.signal ?? `code ${info.code}`}).`, file: appFile })));
    const outcome = await started;
    if (outcome instanceof Error) {
      await this.stop();
      throw outcome;
    }
    this.#port = outcome.port;
    if (this.#jobs) await this.#jobs.ready;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const primary = this.#primary;
    const jobs = this.#jobs;
    this.#primary = undefined;
    this.#jobs = undefined;
    await Promise.all([primary?.stop(), jobs?.stop()]);
    for (const [worker, pid] of this.#pids) this.events.emit({ type: 'worker-exited', worker, pid, code: 0, signal: null, expected: true });
    this.#pids.clear();
  }

  #onMessage(message: PrimaryToCourse, settle: (outcome: Extract<PrimaryToCourse, { type: 'listening' }> | Error) => void): void {
    switch (message.type) {
      case 'listening':
        for (const { id, pid } of message.workers) {
          this.#pids.set(id, pid);
          this.events.emit({ type: 'worker-starting', worker: id, pid });
          this.events.emit({ type: 'worker-ready', worker: id, pid, port: message.port });
        }
        settle(message);
        break;
      case 'request': {
        const id = this.#nextRequest++;
        const { method, path, status, body } = message;
        this.events.emit({ type: 'request-start', id, visitor: 'browser', method, path, worker: message.worker });
        this.events.emit({ type: 'request-end', id, visitor: 'browser', method, path, worker: message.worker, status, latencyMs: message.ms, body });
        break;
      }
      case 'output':
        this.events.emit({ type: 'worker-output', worker: message.worker, stream: message.stream, line: message.line });
        break;
      case 'own-listen':
        if (this.#toldListen) break;
        this.#toldListen = true;
        this.events.emit({
          type: 'worker-output',
          worker: message.worker,
          stream: 'stderr',
          line: `[course] Your app calls ${message.call} itself. On node:cluster every worker's own listen() would compete for the port; the course serves the default export on the shared port and ignored the call. You can remove it.`,
        });
        break;
      case 'fatal': {
        const pid = this.#pids.get(message.worker);
        if (pid !== undefined) {
          this.#crashed.add(message.worker);
          this.events.emit({ type: 'worker-crashed', worker: message.worker, pid, problem: message.problem });
        }
        settle(new AppStartError(message.problem));
        break;
      }
      case 'worker-exit': {
        if (this.#stopping) break;
        const pid = this.#pids.get(message.worker) ?? message.pid;
        const how = message.signal ?? `code ${message.code}`;
        if (!this.#crashed.has(message.worker)) {
          const problem = { kind: 'crash' as const, message: `Cluster worker ${message.worker} exited (${how}).`, file: this.#options.appFile };
          this.events.emit({ type: 'worker-crashed', worker: message.worker, pid, problem });
        }
        this.#pids.delete(message.worker);
        this.events.emit({ type: 'worker-exited', worker: message.worker, pid, code: message.code, signal: message.signal, expected: false });
        this.events.emit({
          type: 'worker-output',
          worker: message.worker,
          stream: 'stderr',
          line: `[course] node:cluster does not start another worker by itself (PM2 would): ${this.#pids.size} left.`,
        });
        settle(new AppStartError({ kind: 'crash', message: `Cluster worker ${message.worker} exited (${how}) before the app was listening.`, file: this.#options.appFile }));
        break;
      }
    }
  }
}
