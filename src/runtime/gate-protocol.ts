// The gate: how the course watches a worker's data operations and holds the worker before a
// write or after any operation, so that a check can force a race the same way every run. Shared
// by the worker (its data operation wrappers and its end of the channel, gate-channel.ts) and the course
// (src/runtime/gate.ts): one JSON object a line each way on the worker's control channel.

/** One data operation as the course sees it (the same shape as the lesson contract's DataOperation). */
export type GateOperation =
  | { readonly kind: 'sql'; readonly sql: string; readonly write: boolean }
  | { readonly kind: 'file'; readonly file: string; readonly write: boolean };

/**
 * 0: off (no reports); 1: watch (report operations); 2: hold (report, and wait for a go before
 * each write and after each operation). Node workers let each held operation go by its own number, so that several may wait at
 * once (asynchronous ones); leaving hold mode lets them all go.
 */
export type GateMode = 0 | 1 | 2;

/** The worker's file descriptor of its control channel to the course. */
export const CONTROL_FD = 3;

/** Worker to course, one JSON object a line. */
export type GateReport =
  | {
      readonly t: 'entered';
      readonly seq: number;
      readonly op: GateOperation;
      /**
       * Hold mode, a write: the worker waits for a 'go' with this seq before it
       * makes the write. A later 'finished' for the same seq needs no second go.
       */
      readonly ask?: boolean;
      /** With `ask`: the connection is inside a transaction as the write begins. */
      readonly inTransaction?: boolean;
      /** An asynchronous operation (a promise, a callback): held, it leaves the worker's thread free. */
      readonly async?: boolean;
    }
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
      /**
       * An asynchronous operation (Node: fs/promises, a FileHandle, fs with a callback): held, its
       * promise (or callback) waits for the go while the worker's thread stays free to serve
       * other requests. Absent: the worker itself waits, blocked.
       */
      readonly async?: boolean;
    }
  | { readonly t: 'mode-set'; readonly id: number; readonly mode: GateMode }
  | {
      /**
       * The app looked whether a data file is there (exists, stat, access) without reading it: what
       * a worker waiting for another's lock file does, again and again. Reported, never held.
       */
      readonly t: 'probed';
      readonly file: string;
      /** The file was there. */
      readonly found: boolean;
    };

/** Course to worker, one JSON object a line. */
export type GateCommand =
  | { readonly t: 'mode'; readonly id: number; readonly mode: GateMode }
  | {
      readonly t: 'go';
      readonly seq: number;
      /** Let operation `seq` begin (an 'entered' report that asked), rather than go on after it. */
      readonly before?: boolean;
    };

/**
 * The channel's reader, both ends alike: feed it the text as it comes, in chunks of any size; it
 * calls `onMessage` with each whole line's JSON object and skips lines that are not JSON.
 */
export function jsonLines<T>(onMessage: (message: T) => void): (chunk: string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      let message: T;
      try {
        message = JSON.parse(line) as T;
      } catch {
        continue;
      }
      onMessage(message);
    }
  };
}
