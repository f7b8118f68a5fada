// The gate: how the course watches a worker's data operations and holds the worker after one,
// so that a check can force a race the same way every run. Shared by the worker (its data
// operation wrappers and its gate thread) and the course (src/runtime/gate.ts).
//
// The worker's main thread and its gate thread share a few 32-bit slots. The main thread
// reads MODE before each database or file operation (one load when the gate is off). The
// gate thread owns the worker's control channel to the course (a socket on CONTROL_FD, read
// in the thread's own event loop, so it works while the app's code blocks the main thread).

/** One data operation as the course sees it (the same shape as the lesson contract's DataOperation). */
export type GateOperation =
  | { readonly kind: 'sql'; readonly sql: string; readonly write: boolean }
  | { readonly kind: 'file'; readonly file: string; readonly write: boolean };

/** 0: off (no reports); 1: watch (report operations); 2: hold (report, and wait for a go after each). */
export type GateMode = 0 | 1 | 2;

/** Slots of the shared Int32Array. */
export const SLOT = {
  /** The gate's mode (GateMode). */
  MODE: 0,
  /** The highest operation number the course has let go on. */
  GO: 1,
  /** Bumped (and notified) on every go and mode change: what a held main thread waits on. */
  BELL: 2,
} as const;
export const SLOTS = 3;

/** The worker's file descriptor of its control channel to the course. */
export const CONTROL_FD = 3;

/** Worker to course, one JSON object a line. */
export type GateReport =
  | { readonly t: 'entered'; readonly seq: number; readonly op: GateOperation }
  | {
      readonly t: 'finished';
      readonly seq: number;
      readonly op: GateOperation;
      /** The worker now waits for a 'go' with this seq (hold mode). */
      readonly ask: boolean;
      /** The operation threw (SQLITE_BUSY, a missing file...). */
      readonly failed: boolean;
      /** The connection is inside a transaction after the operation (it may hold a lock). */
      readonly inTransaction: boolean;
    }
  | { readonly t: 'mode-set'; readonly id: number; readonly mode: GateMode };

/** Course to worker, one JSON object a line. */
export type GateCommand =
  | { readonly t: 'mode'; readonly id: number; readonly mode: GateMode }
  | { readonly t: 'go'; readonly seq: number };
