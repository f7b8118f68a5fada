// The manual clock of a host's processes, moved and held together: every worker's and the jobs
// process's, each machine's date as far behind as its clock runs (setMachines).
import type { Launcher } from './host-launch.ts';
import { advanceClock, clockState, holdClock } from './host-messages.ts';
import type { ClockState } from './host-types.ts';
import type { WorkerProcess } from './processes.ts';

export class HostClock {
  /** Processes whose clock move is still running. */
  #moving = 0;

  readonly launcher: Launcher;
  /** The processes running now, each with the machine it runs on. */
  readonly processes: () => readonly { readonly proc: WorkerProcess; readonly machine: number }[];

  constructor(launcher: Launcher, processes: HostClock['processes']) {
    this.launcher = launcher;
    this.processes = processes;
  }

  /**
   * Move every process's clock forward; resolves when all timers due have run. Processes
   * started later start at the moved time, so a reload or a restart never turns the clock back.
   */
  async advance(ms: number): Promise<void> {
    this.launcher.moveClock(ms);
    await Promise.all(
      this.processes().map(async ({ proc }) => {
        this.#moving++;
        try {
          await advanceClock(proc, ms);
        } finally {
          this.#moving--;
        }
      }),
    );
  }

  /**
   * How many processes are still running what a clock move woke: its timers due, and what they
   * started (a Node worker's database calls; a Python worker's woken threads, for up to 2 s).
   */
  get moving(): number {
    return this.#moving;
  }

  /**
   * Hold the date of every process still (hold) at the course's present time, or let it go on
   * with real time again. Timers are untouched. A machine whose date runs behind holds its own
   * date, as far behind.
   */
  async hold(hold: boolean): Promise<void> {
    const at = this.launcher.clockNow();
    await Promise.all(this.processes().map(({ proc, machine }) => holdClock(proc, hold, at - this.launcher.clockBehind(machine))));
  }

  /** A process's time and how many timers wait on its manual clock. */
  state(proc: WorkerProcess): Promise<ClockState | undefined> {
    return clockState(proc);
  }
}
