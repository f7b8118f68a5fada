// Spares: started processes waiting for an app, so that a reload pays only the import of the
// learner's module, not Node's boot. They keep nothing alive and exit with the course. A host
// that knows its coming starts books exactly those (reserveSpares: a check that reloads); the
// interactive course and serve keep a warm pool, refilled as its spares are taken.
import { holdOpen, launch, type Launched } from './launch.ts';

/**
 * Spares cost memory (each a booted Node with express loaded, about 50 MB of its own): enough
 * for three workers' start and their reload; more workers start the rest cold.
 */
const MAX_SPARES = 6;

/** Processes booted ahead of need, taken one by one by the next workers to start. */
export class Spares implements SpareReserve {
  readonly waiting: Launched[] = [];
  /** The command prefix the spares start under (a machine's view, machine-view.ts), if any. */
  readonly enter: readonly string[] | undefined;

  constructor(enter?: readonly string[]) {
    this.enter = enter;
  }

  /** Boot `count` more. */
  add(count: number): void {
    for (let i = 0; i < count; i++) {
      const spare = launch(this.enter);
      holdOpen(spare, false);
      this.waiting.push(spare);
      void spare.exited.then(() => {
        const at = this.waiting.indexOf(spare);
        if (at >= 0) this.waiting.splice(at, 1);
      });
    }
  }

  take(): Launched | undefined {
    const spare = this.waiting.shift();
    if (spare) holdOpen(spare, true);
    return spare;
  }

  pids(): number[] {
    return this.waiting.map((spare) => spare.node.pid ?? -1);
  }

  async stop(): Promise<void> {
    await Promise.all(this.waiting.splice(0).map(endSpare));
  }
}

/** End a spare: one that waits leaves when its channel closes; one still booting is killed (it holds nothing). */
function endSpare(spare: Launched): Promise<unknown> {
  spare.stopping = true;
  holdOpen(spare, true);
  if (!spare.isWaiting) spare.node.kill('SIGKILL');
  else if (spare.node.connected) spare.node.disconnect();
  return spare.exited;
}

/**
 * Spares booted for one host (a check whose steps reload): taken by that host's next starts,
 * never replaced, ended with the host.
 */
export interface SpareReserve {
  /** The command prefix its spares started under (a machine's view): only a worker started under the same takes one. */
  readonly enter?: readonly string[];
  /** The pids of the spares waiting now. */
  pids(): number[];
  /** End the spares not taken. */
  stop(): Promise<void>;
}

/** Boot `count` spares (at most MAX_SPARES) for one host's own reloads, under `enter` when given (a machine's view). */
export function reserveSpares(count: number, enter?: readonly string[]): SpareReserve {
  const reserve = new Spares(enter);
  reserve.add(Math.min(MAX_SPARES, Math.max(0, Math.floor(count))));
  return reserve;
}

// The warm pool (the interactive course, serve): kept at its target, each spare taken replaced
// once the worker that took it is up, so that every save and every reload starts warm.
export const pool = new Spares();
let poolTarget = 0;

/** Holds on refilling (a warm check that found the pool full): each is a check still running. */
let refillHolds = 0;

export function refill(): void {
  if (refillHolds > 0) return;
  pool.add(poolTarget - pool.waiting.length);
}

/**
 * Put off refilling the warm pool while a check runs that found in it every spare it needs (its
 * workers' start and a reload): spares booting meanwhile would take the CPU from its workers.
 * Returns the function that lifts the hold (the pool refills once no hold is left), or
 * undefined when the pool holds fewer than `needed` and must keep refilling.
 */
export function holdRefill(needed: number): (() => void) | undefined {
  if (pool.waiting.length < needed) return undefined;
  refillHolds++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    refillHolds--;
    refill();
  };
}

/**
 * Keep `count` warm spare processes ready (at least; the largest count asked for wins).
 * Resolves once the spares now in the pool have booted.
 */
export async function prewarm(count: number): Promise<void> {
  poolTarget = Math.min(MAX_SPARES, Math.max(poolTarget, count));
  refill();
  await Promise.all(
    pool.waiting.map(async (spare) => {
      holdOpen(spare, true); // an unreferenced channel could not keep this wait alive
      await spare.waiting;
      if (pool.waiting.includes(spare)) holdOpen(spare, false);
    }),
  );
}

/** The pids of the warm pool's spares waiting now. */
export function sparePids(): number[] {
  return pool.pids();
}

/** Empty the warm pool now, and keep it empty until the next prewarm. */
export async function stopSpares(): Promise<void> {
  poolTarget = 0;
  await pool.stop();
}
