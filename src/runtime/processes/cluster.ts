// `serve --host cluster`: the learner's app on Node's own node:cluster. One primary process
// (cluster-primary.ts) that forks its cluster workers itself; the course talks to the primary
// only. Like a worker, it exits when its IPC channel closes (it stops its workers first), and
// its workers exit when their channel to it closes.
import { baseEnvironment } from '../host-env.ts';
import type { ClusterAssignment, PrimaryToCourse } from '../cluster-protocol.ts';
import { courseProgram, splitLines, startCourseProgram } from './shared.ts';

export const clusterPrimaryFile = courseProgram('cluster-primary');

/** What the primary is assigned (cluster-protocol.ts), and where its news goes. */
export interface ClusterPrimaryOptions extends Omit<ClusterAssignment, 'type'> {
  readonly onMessage: (message: PrimaryToCourse) => void;
  /** The primary's own output (its workers' output arrives as messages). */
  readonly onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface ClusterPrimary {
  readonly pid: number;
  /** Resolves when the primary has exited, for any reason. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null }>;
  /** Ask the primary to stop (it stops its workers), kill it if it does not; resolves once it is gone. */
  stop(): Promise<void>;
}

export function spawnClusterPrimary(options: ClusterPrimaryOptions): ClusterPrimary {
  const abort = new AbortController();
  const child = startCourseProgram(clusterPrimaryFile, { env: baseEnvironment(), extendEnv: false, stdio: ['ignore', 'pipe', 'pipe'], signal: abort.signal });
  const node = child.nodeChildProcess;
  const exited = child.then((result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null }));
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source) splitLines(source, (line) => options.onOutput?.(stream, line));
  }
  node.on('message', (message: PrimaryToCourse) => options.onMessage(message));
  const assignment: ClusterAssignment = {
    type: 'assign',
    appFile: options.appFile,
    workers: options.workers,
    port: options.port,
    cwd: options.cwd,
    env: options.env,
    instances: options.instances,
  };
  if (node.connected) node.send(assignment);
  return {
    pid: node.pid ?? -1,
    exited,
    async stop() {
      if (node.exitCode === null && node.signalCode === null) {
        if (node.connected) node.disconnect();
        // The primary gives its workers a second before it kills them.
        const grace = setTimeout(() => abort.abort(), 2500);
        await exited;
        clearTimeout(grace);
      }
      await exited;
    },
  };
}
