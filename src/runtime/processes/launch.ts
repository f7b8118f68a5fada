// Starting a worker process: Node running worker-main with an IPC channel the worker watches
// (it exits when the course goes), listed with the course's reaper (reaper.ts: it ends the
// worker when the course is gone, however it went, even when the app's code never yields),
// output read line by line into a bounded buffer, and a control channel (its fd 3) for the gate
// (gate.ts, gate-channel.ts). A launched process boots and waits for its app (spares.ts,
// node-workers.ts).
//
// A worker's environment is what a real host gives (host-env.ts): none of the course's own
// variables; the worker finds its configuration without them.
import type { ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { ResultPromise } from 'execa';
import { baseEnvironment } from '../host-env.ts';
import { WorkerGate } from '../gate.ts';
import type { AppProblem, WorkerToHost } from '../protocol.ts';
import { appNodeOptions, courseProgram, OUTPUT_LINES, splitLines, startCourseProgram } from './shared.ts';
import { forget, reapIfOrphaned } from './reaper.ts';

export const workerMainFile = courseProgram('worker-main');

/** A started worker process, before or after it is given an app. */
export interface Launched {
  readonly child: ResultPromise;
  readonly node: ChildProcess;
  readonly abort: AbortController;
  readonly lines: string[];
  readonly listeners: Set<(message: WorkerToHost) => void>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Resolves once the process has booted and preloaded, ready for an app. */
  readonly waiting: Promise<void>;
  /** Set once `waiting` has resolved. */
  isWaiting: boolean;
  readonly gate: WorkerGate;
  reported?: AppProblem;
  stopping: boolean;
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** Start a worker process; `enter` runs it inside a machine's view (machine-view.ts). */
export function launch(enter?: readonly string[]): Launched {
  const abort = new AbortController();
  // The worker moves to its run's folder when it takes an app.
  // fd 3: the control channel (gate-protocol.ts CONTROL_FD); execa adds the IPC channel after it.
  const child = startCourseProgram(workerMainFile, { env: baseEnvironment(), extendEnv: false, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], signal: abort.signal, enter, nodeOptions: appNodeOptions() });
  const pid = child.nodeChildProcess.pid;
  reapIfOrphaned(pid);
  const exited = child.then((result) => {
    forget(pid);
    return { code: result.exitCode ?? null, signal: result.signal ?? null };
  });
  const launched: Launched = {
    child,
    node: child.nodeChildProcess,
    abort,
    lines: [],
    listeners: new Set(),
    stopping: false,
    isWaiting: false,
    exited,
    gate: new WorkerGate(child.nodeChildProcess.stdio[3] as Duplex, exited),
    waiting: new Promise<void>((resolve) => {
      const onWaiting = (message: WorkerToHost) => {
        if (message.type !== 'waiting') return;
        child.nodeChildProcess.off('message', onWaiting);
        launched.isWaiting = true;
        resolve();
      };
      child.nodeChildProcess.on('message', onWaiting);
      void child.then(() => resolve());
    }),
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    splitLines(source, (line) => {
      launched.lines.push(line);
      if (launched.lines.length > OUTPUT_LINES) launched.lines.splice(0, launched.lines.length - OUTPUT_LINES);
      launched.onOutput?.(stream, line);
    });
  }
  launched.node.on('message', (message: WorkerToHost) => {
    if (message.type === 'fatal') launched.reported = message.problem;
    for (const listener of launched.listeners) listener(message);
  });
  return launched;
}

/** Whether a process keeps the course alive: spares do not, workers do. */
export function holdOpen(launched: Launched, hold: boolean): void {
  const handles = [launched.node, launched.node.channel, launched.child.stdout, launched.child.stderr, launched.node.stdio[3]] as ({ ref?(): void; unref?(): void } | null | undefined)[];
  for (const handle of handles) {
    if (hold) handle?.ref?.();
    else handle?.unref?.();
  }
}
