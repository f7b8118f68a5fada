// What every launcher of the course's processes shares: the course's own programs (beside the
// runtime's modules, in src/ or a build), the options Node starts them with, and output read
// line by line into a bounded buffer.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { execa, execaNode } from './execa.ts';
import { packageRoot } from '../package-root.ts';

const ownExtension = path.extname(fileURLToPath(import.meta.url));
export const OUTPUT_LINES = 200;
const OUTPUT_LINE_CHARS = 2000;

/** The file of one of the course's programs in src/runtime (or its build): `courseProgram('worker-main')`. */
export function courseProgram(name: string): string {
  return fileURLToPath(new URL(`../${name}${ownExtension}`, import.meta.url));
}

/** Node's options for the course's own programs: source maps, and quiet about TypeScript when run from src/. */
export function nodeOptions(): string[] {
  return ownExtension === '.ts' ? ['--enable-source-maps', '--disable-warning=ExperimentalWarning'] : ['--enable-source-maps'];
}

/**
 * Node options for the workers that run a learner's app. AsyncLocalStorage, as Node 22 (which
 * the course supports) has it: from Node 24 on, a store given by `enterWith` no longer carries
 * over to the next request on a kept-alive connection, but on Node 22 it does, and an app is
 * checked against every Node it may be deployed on.
 */
export function appNodeOptions(): string[] {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 24 && process.allowedNodeEnvironmentFlags.has('--no-async-context-frame') ? ['--no-async-context-frame'] : [];
}

/**
 * Start one of the course's programs the one way they all start: with an IPC channel it watches
 * (it ends when the course goes, however it goes), in the course package's folder (it may outlive
 * the command whose current folder is removed meanwhile; a process whose folder is gone cannot
 * start a thread), never rejecting, and killed, descendants too, if it does not stop when asked.
 * No execa `cleanup`: its signal-exit hook re-raises SIGINT and SIGTERM when it counts as many
 * listeners as children, killing the course before it can stop its processes.
 */
export function startCourseProgram(
  file: string,
  options: {
    readonly env: Readonly<Record<string, string>>;
    readonly extendEnv: boolean;
    readonly stdio: ['ignore', 'pipe', 'pipe'] | ['ignore', 'pipe', 'pipe', 'pipe'];
    readonly signal: AbortSignal;
    /** A command that runs Node where it must run (a machine's view, machine-view.ts): nsenter's, which execs Node in the same process. */
    readonly enter?: readonly string[];
    /** Node options of this program's own, after the common ones. */
    readonly nodeOptions?: readonly string[];
  },
): ResultPromise {
  const flags = [...nodeOptions(), ...(options.nodeOptions ?? [])];
  const common = {
    env: options.env,
    extendEnv: options.extendEnv,
    cwd: packageRoot,
    serialization: 'json',
    buffer: false,
    stdio: options.stdio,
    reject: false,
    cleanup: false,
    killDescendants: true,
    cancelSignal: options.signal,
    forceKillAfterDelay: 1500,
  } as const;
  if (options.enter) {
    const [command, ...args] = options.enter;
    return execa(command!, [...args, process.execPath, ...flags, file], { ...common, ipc: true });
  }
  return execaNode(file, [], { ...common, nodeOptions: flags });
}

/**
 * Call `onLine` for each line of a stream, cutting lines at OUTPUT_LINE_CHARS: an app that
 * prints megabytes without a newline costs a bounded buffer, not the course's memory.
 */
export function splitLines(source: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = '';
  let cut = false;
  source.setEncoding?.('utf8');
  source.on('data', (chunk: string) => {
    const parts = chunk.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      if (!cut) {
        partial += parts[i];
        if (partial.length > OUTPUT_LINE_CHARS) {
          partial = `${partial.slice(0, OUTPUT_LINE_CHARS)}…`;
          cut = true;
        }
      }
      if (!last) {
        onLine(partial.replace(/\r$/, ''));
        partial = '';
        cut = false;
      }
    }
  });
  source.on('end', () => {
    if (partial) onLine(partial);
  });
}
