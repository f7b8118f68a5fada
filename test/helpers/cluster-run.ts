// A lesson's app on Node's own node:cluster, as `serve --host cluster` runs it: a seeded run
// (scratch folder, and a fresh PostgreSQL database for the lessons that use one), one primary
// handing each new connection to the next of N cluster workers on one port, and the lesson's
// jobs.js, if any, in one process of its own. Nothing here can address one worker.
import { seedRun, type SeededRun } from '../../src/check/scratch.ts';
import { jobsFileFor } from '../../src/lessons/catalogue.ts';
import type { Lesson } from '../../src/lessons/types.ts';
import type { PrimaryToCourse } from '../../src/runtime/cluster-protocol.ts';
import { appSettings, instanceVariables, machineHostname } from '../../src/runtime/host-env.ts';
import { spawnClusterPrimary, spawnWorker, type WorkerProcess } from '../../src/runtime/processes.ts';

export interface ClusterRun {
  readonly port: number;
  /** The run's settings (its data files, DATABASE_URL): what the shop's staff may edit from outside. */
  readonly env: Readonly<Record<string, string>>;
  /** The primary's, the cluster workers' and the jobs process's pids. */
  readonly pids: readonly number[];
  /** Milliseconds from the processes' start (the data seeded) to every cluster worker listening. */
  readonly startMs: number;
  /** Everything the processes printed, for failure messages. */
  output(): string;
  /** Stop every process and remove the run's data. */
  stop(): Promise<void>;
}

export interface MachineSetup {
  /** Extra NODE_OPTIONS for the cluster workers (a machine clock set to another moment). */
  readonly nodeOptions?: string;
  /** Where the jobs process's clock starts (epoch ms; it then flows), as its machine's clock reads. */
  readonly jobsClockStart?: number;
}

export interface ClusterOptions {
  readonly workers?: number;
  /** Called once the run's data is seeded, just before the processes start. */
  readonly machine?: () => MachineSetup;
  readonly startTimeoutMs?: number;
}

export async function startOnCluster(lesson: Lesson, appFile: string, options: ClusterOptions = {}): Promise<ClusterRun> {
  const workers = options.workers ?? 3;
  const run: SeededRun = await seedRun(lesson);
  const began = performance.now();
  const machine = options.machine?.() ?? {};
  const settings = appSettings(run.env);
  const hostname = machineHostname(Math.floor(Math.random() * 2 ** 31), 1);
  const lines: string[] = [];
  const say = (line: string) => lines.push(line);
  let settle: (outcome: Extract<PrimaryToCourse, { type: 'listening' }> | Error) => void = () => {};
  const started = new Promise<Extract<PrimaryToCourse, { type: 'listening' }> | Error>((resolve) => (settle = resolve));

  let jobs: WorkerProcess | undefined;
  const jobsFile = jobsFileFor(lesson, appFile);
  if (jobsFile) {
    jobs = spawnWorker({
      appFile: jobsFile,
      role: 'jobs',
      env: { ...settings, ...instanceVariables(0, hostname, workers) },
      cwd: run.dir,
      clock: machine.jobsClockStart === undefined ? 'real' : 'flowing',
      clockStart: machine.jobsClockStart,
      onOutput: (_, line) => say(`[jobs] ${line}`),
    });
    jobs.ready.catch((error: Error) => settle(new Error(`jobs.js did not start: ${error.message}`)));
  }
  const primary = spawnClusterPrimary({
    appFile,
    workers,
    port: 0,
    cwd: run.dir,
    env: machine.nodeOptions ? { ...settings, NODE_OPTIONS: machine.nodeOptions } : settings,
    instances: Array.from({ length: workers }, (_, i) => instanceVariables(i, hostname)),
    onOutput: (_, line) => say(`[primary] ${line}`),
    onMessage(message) {
      if (message.type === 'listening') settle(message);
      else if (message.type === 'output') say(`[worker ${message.worker}] ${message.line}`);
      else if (message.type === 'fatal') settle(new Error(`cluster worker ${message.worker} failed: ${message.problem.message}`));
      else if (message.type === 'worker-exit') say(`[primary] worker ${message.worker} exited (${message.signal ?? message.code})`);
    },
  });
  void primary.exited.then((info) => settle(new Error(`the primary exited (${info.signal ?? info.code})`)));
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const timer = setTimeout(() => settle(new Error(`the cluster was not listening within ${timeoutMs} ms`)), timeoutMs);
  const stop = async () => {
    await Promise.all([primary.stop(), jobs?.stop()]);
    await run.remove();
  };
  const outcome = await started;
  clearTimeout(timer);
  if (outcome instanceof Error) {
    await stop();
    throw new Error(`${lesson.slug} (${appFile}) did not start on node:cluster: ${outcome.message}\n${lines.join('\n')}`);
  }
  if (jobs) await jobs.ready;
  return {
    port: outcome.port,
    env: run.env,
    startMs: performance.now() - began,
    pids: [primary.pid, ...outcome.workers.map((w) => w.pid), ...(jobs ? [jobs.pid] : [])],
    output: () => lines.join('\n'),
    stop,
  };
}
