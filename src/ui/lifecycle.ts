// Run the course's React tree until it exits, and make sure nothing it started outlives it:
// quitting, SIGINT, SIGTERM, SIGHUP, an uncaught error and a crash of the UI all stop every
// registered resource (check runs, playground hosts) before this resolves.
import type { ReactElement } from 'react';
import { render, type RenderOptions } from 'ink';
import type { Resources } from './resources.ts';

export interface Outcome {
  /** 0 after quitting; 128 + the signal's number after a signal; 1 after a crash. */
  readonly code: number;
  /** The error that ended the course, if one did. */
  readonly crash?: unknown;
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
const FORCE_EXIT_MS = 5000;
type Signal = keyof typeof SIGNALS;

export async function runUntilExit(tree: ReactElement, resources: Resources, options: RenderOptions = {}): Promise<Outcome> {
  const instance = render(tree, { exitOnCtrlC: false, ...options });
  let code = 0;
  let crash: unknown;
  const shutdown = (exitCode: number, error?: unknown) => {
    if (code === 0) code = exitCode;
    crash ??= error;
    void resources.stopAll().finally(() => instance.unmount());
  };
  // A signal must end the process: if the orderly stop hangs, or a second signal comes, exit anyway
  // (workers still go: each exits when its IPC channel to the course closes).
  let force: NodeJS.Timeout | undefined;
  const onSignal = (signal: Signal) => {
    if (force) process.exit(code || 128 + SIGNALS[signal]);
    force = setTimeout(() => process.exit(code), FORCE_EXIT_MS);
    shutdown(128 + SIGNALS[signal]);
  };
  const onCrash = (error: unknown) => shutdown(1, error);
  for (const signal of Object.keys(SIGNALS) as Signal[]) process.on(signal, onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    await instance.waitUntilExit();
  } catch (error) {
    if (code === 0) code = 1;
    crash ??= error;
  } finally {
    await resources.stopAll();
    clearTimeout(force);
    for (const signal of Object.keys(SIGNALS) as Signal[]) process.off(signal, onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
  return { code, crash };
}
