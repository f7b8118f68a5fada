// How a host's processes start: which machine a worker runs on and its number there, the
// environment and clock each process gets, and the generation (a start, a reload) it belongs to.
import path from 'node:path';
import type { HostOptions } from './host-types.ts';
import { appSettings, instanceVariables, machineHostname, type ManagedApp } from './host-env.ts';
import { openMachineView, type MachineView, type SpareReserve, type SpawnWorkerOptions, type WorkerProcess } from './processes.ts';
import type { WorkerGeneration, WorkerRuntime } from './worker-runtime.ts';

type OnOutput = NonNullable<SpawnWorkerOptions['onOutput']>;

export class Launcher {
  readonly #options: HostOptions;
  readonly #seed: number;
  /** Node or Python, from the app file; the workers started together (a start, a reload) form one generation. */
  readonly #runtime: WorkerRuntime;
  #generation: WorkerGeneration | undefined;
  /** The manual clock's start and how far it has been moved: a process started later starts at that time. */
  readonly #clockStart: number;
  /** Date.now() when the clock started: its date goes on with real time from there. */
  readonly #clockSince: number;
  #clockMoved = 0;
  /** How far each machine's date runs behind the first's (ms), by machine from 1: real machines' clocks differ. */
  #behind: number[] = [];
  /** Machines the workers are spread over. */
  machines: number;
  /** Spares booked for this host (reserveSpares): its next processes start from them. */
  reserve: SpareReserve | undefined;
  /** Each machine's view of the disk (machine-view.ts), by machine from 1, when the host has them. */
  #views: (MachineView | undefined)[] = [];
  #viewsClosed = false;

  constructor(options: HostOptions, seed: number, runtime: WorkerRuntime) {
    this.#options = options;
    this.#seed = seed;
    this.#runtime = runtime;
    this.machines = Math.max(1, Math.floor(options.machines ?? 1));
    this.#clockStart = Number(options.env?.COURSE_CLOCK_START ?? Date.now());
    this.#clockSince = Date.now();
  }

  /** Processes started from now on start with the manual clock moved by `ms` more. */
  moveClock(ms: number): void {
    this.#clockMoved += ms;
  }

  /** Machine `machine`'s processes started from now on have a date `ms` behind the first machine's. */
  setClockBehind(machine: number, ms: number): void {
    if (machine > 1) this.#behind[machine - 1] = Math.max(0, ms);
  }

  /** How far machine `machine`'s date runs behind the first machine's. */
  clockBehind(machine: number): number {
    return this.#behind[machine - 1] ?? 0;
  }

  perMachine(count: number): number {
    return Math.max(1, Math.ceil(count / this.machines));
  }

  /** Where worker `index` of `count` runs: its machine, and its number on that machine. */
  placement(index: number, count: number): { machine: number; number: number } {
    const per = this.perMachine(count);
    return { machine: Math.floor((index - 1) / per) + 1, number: ((index - 1) % per) + 1 };
  }

  /** The web workers started from now on form a new generation (a start, a reload). */
  newGeneration(): void {
    this.#generation = this.#makeGeneration('web');
  }

  /**
   * For a host whose workers will spread over several machines (`isolatedMachines`): give each
   * machine its own view of the disk before any of its processes starts, the first machine's too,
   * so that nothing on disk tells one machine from another. Without namespaces here, none.
   */
  async openViews(): Promise<void> {
    const machines = Math.floor(this.#options.isolatedMachines ?? 1);
    if (machines < 2 || this.#views.length > 0) return;
    const folders = Array.from({ length: machines }, (_, i) => this.#disk(i + 1)?.cwd ?? this.#options.cwd);
    const appFolders = [this.#options.appFile, this.#options.jobsFile].filter((file) => file !== undefined).flatMap((file) => [path.dirname(file), path.dirname(path.dirname(file))]);
    const views = await Promise.all(
      folders.map((own) => openMachineView({ keep: [own], blank: folders.filter((other) => other !== own), private: appFolders })),
    );
    this.#views = views;
    // The host stopped meanwhile.
    if (this.#viewsClosed) this.closeViews();
  }

  /** Where spares for this host must boot: in the first machine's view when the machines have views (its reloads start there). */
  spareEntry(): readonly string[] | undefined {
    return this.#views[0]?.enter(this.#options.cwd);
  }

  /** End the machines' views (their holders); a view goes once its last process has. */
  closeViews(): void {
    this.#viewsClosed = true;
    for (const view of this.#views.splice(0)) view?.close();
  }

  #disk(machine: number) {
    return machine > 1 ? this.#options.machineDisk?.(machine) : undefined;
  }

  /** Start worker `index` of `count`: on its machine (its own disk there, if any), with its instance variables. */
  worker(index: number, count: number, onOutput: OnOutput): WorkerProcess {
    const { machine, number } = this.placement(index, count);
    const disk = this.#disk(machine);
    const cwd = disk?.cwd ?? this.#options.cwd;
    this.#generation ??= this.#makeGeneration('web');
    return this.#generation.spawn({
      ...this.#common(machine),
      appFile: this.#options.appFile,
      env: { ...this.#env(), ...appSettings(disk?.env), ...instanceVariables(number - 1, machineHostname(this.#seed, machine), number - 1, this.#managed(this.#options.appFile, cwd, this.perMachine(count), 'cluster')) },
      cwd,
      enter: this.#views[machine - 1]?.enter(cwd),
      onOutput,
    });
  }

  /** Start the jobs process: the deployment's one, on the first machine, as an app of its own. */
  jobs(workerCount: number, onOutput: OnOutput): WorkerProcess {
    return this.#makeGeneration('jobs').spawn({
      ...this.#common(),
      appFile: this.#options.jobsFile!,
      role: 'jobs',
      env: { ...this.#env(), ...instanceVariables(0, machineHostname(this.#seed, 1), this.perMachine(workerCount), this.#managed(this.#options.jobsFile!, this.#options.cwd, 1, 'fork')) },
      cwd: this.#options.cwd,
      enter: this.#views[0]?.enter(this.#options.cwd),
      onOutput,
    });
  }

  #common(machine = 1) {
    return { clock: this.#options.clock, ...this.#clockReading(machine), startTimeoutMs: this.#options.startTimeoutMs, reserve: this.reserve };
  }

  /** The app as the machine's process manager (PM2) runs it: started with the host, by its clock. */
  #managed(file: string, cwd: string, instances: number, mode: ManagedApp['mode']): ManagedApp {
    return { file, cwd, instances, mode, startedAt: this.#clockStart, seed: this.#seed };
  }

  /** Settings every process of this host gets: the options' env without the course's own keys. */
  #env(): Record<string, string> {
    return appSettings(this.#options.env);
  }

  /** Where the course's clock stands now (its start, the real time since, and the moves): a process started now starts there. */
  clockNow(realNow = Date.now()): number {
    return this.#clockStart + (realNow - this.#clockSince) + this.#clockMoved;
  }

  /** The clock's reading for a process that starts now on `machine`: where its date stands, and when it was read. */
  #clockReading(machine = 1): { clockStart: number; clockSentAt: number } {
    const clockSentAt = Date.now();
    return { clockStart: this.clockNow(clockSentAt) - this.clockBehind(machine), clockSentAt };
  }

  #makeGeneration(role: 'web' | 'jobs'): WorkerGeneration {
    const appFile = role === 'jobs' ? this.#options.jobsFile! : this.#options.appFile;
    const { clock, cwd, load, threads } = this.#options;
    return this.#runtime.generation({ appFile, env: this.#env(), cwd, clock, ...this.#clockReading(), role, load, threads });
  }
}
