// Errors as people read them: every expected failure (usage, workspace, progress, ports, the
// file system) is one clear message and exit code 2 — as one JSON object on stdout with --json.
import { CommanderError } from 'commander';
import { EnvironmentError } from '../check/scratch.ts';
import { ProgressError } from '../progress/store.ts';
import { PortBusyError } from '../runtime/dispatcher.ts';
import { WorkspaceError } from '../workspace.ts';
import { PythonMissingError } from '../runtime/python/find.ts';
import { fileSystemMessage, isFileSystemError } from '../fs-message.ts';
import { UsageError, type Io } from './io.ts';

export { fileSystemMessage, isFileSystemError };

/** The message for an error a person can act on; undefined for a bug (shown with its stack). */
export function expectedMessage(error: unknown): string | undefined {
  if (
    error instanceof UsageError ||
    error instanceof WorkspaceError ||
    error instanceof ProgressError ||
    error instanceof PortBusyError ||
    error instanceof EnvironmentError ||
    error instanceof PythonMissingError
  ) {
    return error.message;
  }
  if (isFileSystemError(error)) return fileSystemMessage(error);
  return undefined;
}

/** Report an error that ended a command; returns the exit code. */
export function report(error: unknown, io: Io, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    // Commander has printed its message on stderr already.
    if (json) io.out(JSON.stringify({ error: error.message.replace(/^error: /, '') }, null, 2));
    return 2;
  }
  const message = expectedMessage(error);
  if (json) {
    io.out(JSON.stringify({ error: message ?? `Unexpected error: ${(error as Error).message ?? String(error)}` }, null, 2));
    if (message === undefined) io.err((error as Error).stack ?? String(error));
    return 2;
  }
  io.err(message ?? `Unexpected error: ${(error as Error).stack ?? String(error)}`);
  return 2;
}
