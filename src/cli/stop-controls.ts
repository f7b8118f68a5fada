// How a long-running command (serve) is stopped: Ctrl-C or SIGTERM from the start, so a stop
// while the workers boot is clean too, and a second one quits at once (the workers still exit
// with the course); in a terminal, q and Enter, with the command's other keys passed on.
import { createInterface } from 'node:readline';

export interface StopControls {
  /** Resolves once a stop is asked for. */
  readonly stopped: Promise<void>;
  /** Whether keys are read (standard input is a terminal). */
  readonly interactive: boolean;
  /** Ask for the stop, as q does. */
  stop(): void;
  /** Stop listening to signals and keys. */
  close(): void;
}

export function stopControls(onCommand: (command: string) => void): StopControls {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let signalled = false;
  const onSignal = () => {
    if (signalled) process.exit(130);
    signalled = true;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const rl = process.stdin.isTTY ? createInterface({ input: process.stdin }) : undefined;
  rl?.on('line', (line) => {
    const command = line.trim();
    if (command.toLowerCase() === 'q') stop();
    else onCommand(command);
  });
  return {
    stopped,
    interactive: rl !== undefined,
    stop: () => stop(),
    close() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rl?.close();
    },
  };
}
