// The keeper of the course's PostgreSQL server (postgres-main), a process of its own.
import type { KeeperConfig, KeeperToCourse } from '../postgres-protocol.ts';
import { courseProgram, OUTPUT_LINES, splitLines, startCourseProgram } from './shared.ts';

export const databaseKeeperFile = courseProgram('postgres-main');

export interface DatabaseKeeper {
  /** The keeper's pid (the server runs as its child). */
  readonly pid: number;
  /** Resolves once the server accepts connections; rejects with the keeper's reason. */
  readonly ready: Promise<{ readonly port: number; readonly password: string; readonly serverPid: number; readonly dataDir: string }>;
  /** Resolves when the keeper has exited (it stops the server first). */
  readonly exited: Promise<void>;
  /** The last lines the keeper printed. */
  output(): string[];
  /** Ask the keeper to stop the server and exit, kill its process group if it does not. */
  stop(): Promise<void>;
}

/**
 * Start the keeper of the course's database server (postgres-main): like a worker, it watches
 * its IPC channel and stops the server when the course goes, however it goes. It never keeps the
 * course alive by itself: the course exits when its own work is done, and the keeper follows.
 */
export function spawnDatabaseKeeper(config: KeeperConfig): DatabaseKeeper {
  const abort = new AbortController();
  // The keeper gets the course's environment (the server's binaries need its PATH) and its config.
  const child = startCourseProgram(databaseKeeperFile, {
    env: { COURSE_POSTGRES: JSON.stringify(config) },
    extendEnv: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: abort.signal,
  });
  const node = child.nodeChildProcess;
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) splitLines(stream, (line) => lines.push(line) > OUTPUT_LINES && lines.shift());
  }
  const exited = child.then(() => undefined);
  const ready = new Promise<{ port: number; password: string; serverPid: number; dataDir: string }>((resolve, reject) => {
    node.on('message', (message: KeeperToCourse) => {
      if (message.type === 'ready') resolve({ port: message.port, password: message.password, serverPid: message.pid, dataDir: message.dataDir });
      else reject(new Error(message.message));
    });
    void exited.then(() => reject(new Error(`The database server's keeper exited before the server was ready. ${lines.slice(-3).join(' ')}`.trim())));
  });
  // Held open while the server starts (someone waits for it), let go once it runs.
  const release = () => {
    for (const handle of [node, node.channel, child.stdout, child.stderr] as ({ unref?(): void } | null | undefined)[]) handle?.unref?.();
  };
  ready.then(release, () => {});
  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    output: () => lines.slice(),
    async stop() {
      if (node.exitCode !== null || node.signalCode !== null) return exited;
      node.ref();
      if (node.connected) node.disconnect();
      const grace = setTimeout(() => abort.abort(), 5000);
      await exited;
      clearTimeout(grace);
    },
  };
}
