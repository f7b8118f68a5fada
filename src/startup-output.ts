// What the app printed as it started: module-level code runs at import, before the check's first
// step, and that is exactly where this course's bugs live (a value read once, a timer started
// once per worker). The engine keeps each step's own output; this keeps the start-up's, labelled
// by worker, folded from the same events, for the plain commands and the screens alike.
import type { CheckEvent } from './check/engine.ts';

/** The most start-up lines kept (the last ones win). */
export const STARTUP_LINES = 40;

/** `[worker 2] loaded 3 prices` for a worker's (or the jobs process's) output event; undefined for other events. */
export function outputLine(event: CheckEvent): string | undefined {
  if (event.type !== 'host') return undefined;
  const e = event.event;
  if (e.type === 'worker-output') return `[worker ${e.worker}] ${e.line}`;
  if (e.type === 'jobs-output') return `[jobs] ${e.line}`;
  return undefined;
}

/** Fold one engine event into the start-up lines; `started` is true once the first step began. */
export function foldStartup(lines: readonly string[], started: boolean, event: CheckEvent): { lines: readonly string[]; started: boolean } {
  if (event.type === 'check-start') return { lines: [], started: false };
  if (event.type === 'step-start') return { lines, started: true };
  const line = started ? undefined : outputLine(event);
  if (line === undefined) return { lines, started };
  return { lines: [...lines, line].slice(-STARTUP_LINES), started };
}

/** Collect the start-up output of one check run, for runCheck's onEvent. */
export function startupCollector(): { readonly onEvent: (event: CheckEvent) => void; readonly lines: () => readonly string[] } {
  let state: { lines: readonly string[]; started: boolean } = { lines: [], started: false };
  return {
    onEvent: (event) => {
      state = foldStartup(state.lines, state.started, event);
    },
    lines: () => state.lines,
  };
}
