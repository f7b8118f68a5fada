// What a host is told (HostOptions) and what it tells about its workers (WorkerInfo, ClockState).
import type { Policy, WorkerMode } from './dispatcher.ts';
import type { ClockKind } from './protocol.ts';
import type { WorkerState } from './events.ts';

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
  /**
   * Keep the warm pool of spare processes ready, refilled as spares are taken, so that every
   * start and reload is quick (the interactive course, serve): true keeps as many as the host
   * has workers, a number that many (a check whose steps reload: its workers' start and one
   * reload). The pool outlives the host. A one-shot run books exactly the spares it will use
   * instead: reserveSpares().
   */
  readonly spares?: boolean | number;
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
  /**
   * The most machines this host will run (setMachines), when more than one: from the start,
   * each machine's processes see a disk of their own (processes/machine-view.ts), as two
   * computers do: /tmp, the home folder and the app's folder are the machine's, and so is its
   * data folder (`machineDisk`).
   */
  readonly isolatedMachines?: number;
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
