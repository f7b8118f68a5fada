// Python: the Flask track's preforking host (src/runtime/python/host.py) and interpreter probes.
// The Python side of the runtime (src/runtime/python/) starts its processes only through these.
import { execa } from './execa.ts';
import { baseEnvironment } from '../host-env.ts';
import { splitLines } from './shared.ts';

export interface PythonHostOptions {
  /** The interpreter to run. */
  readonly python: string;
  /** The host program and its arguments. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The command prefix that puts the host on its machine (machine-view.ts). */
  readonly enter?: readonly string[];
}

/** The started Python host: commands in on its stdin, JSON events out on its fd 3, output on stdout/stderr. */
export interface PythonHostProcess {
  readonly pid: number;
  /** Write one command line; ignored once the process is gone. */
  command(message: unknown): void;
  onEvent(listener: (message: Record<string, unknown>) => void): void;
  onOutput(listener: (stream: 'stdout' | 'stderr', line: string) => void): void;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Close its stdin (it ends its workers and exits), kill it if it has not gone after a delay. */
  stop(): Promise<void>;
}

export function spawnPythonHost(options: PythonHostOptions): PythonHostProcess {
  const abort = new AbortController();
  const [command, ...prefix] = [...(options.enter ?? []), options.python];
  const child = execa(command!, [...prefix, ...options.args], {
    // What a host gives its app (the course's start environment, cleaned, and the lesson's
    // settings), as for Node workers; the forked workers add their own variables.
    env: { ...baseEnvironment(), ...options.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    extendEnv: false,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    encoding: 'utf8',
    // As for Node workers: no execa `cleanup` (see launch()); the host exits when its stdin
    // closes, and the kernel ends it with the course on Linux (PR_SET_PDEATHSIG).
    cleanup: false,
    killDescendants: true,
    cancelSignal: abort.signal,
    forceKillAfterDelay: 1000,
  });
  const events = new Set<(message: Record<string, unknown>) => void>();
  const outputs = new Set<(stream: 'stdout' | 'stderr', line: string) => void>();
  const channel = child.stdio[3] as NodeJS.ReadableStream | undefined;
  if (channel) {
    splitLines(channel, (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const listener of events) listener(message);
    });
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source) splitLines(source, (line) => outputs.forEach((listener) => listener(stream, line)));
  }
  child.stdin?.on('error', () => {});
  let gone = false;
  const exited = child.then((result) => {
    gone = true;
    return { code: result.exitCode ?? null, signal: result.signal ?? null };
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? -1,
    command(message) {
      if (child.stdin && !child.stdin.destroyed && !gone) child.stdin.write(`${JSON.stringify(message)}\n`);
    },
    onEvent: (listener) => void events.add(listener),
    onOutput: (listener) => void outputs.add(listener),
    exited,
    stop() {
      stopping ??= (async () => {
        child.stdin?.end();
        const grace = setTimeout(() => abort.abort(), 1000);
        await exited;
        clearTimeout(grace);
      })();
      return stopping;
    },
  };
}

/**
 * Run a short Python command (an interpreter probe); its output, `timedOut` when it did not end
 * in time (importing Flask on a busy machine can take seconds), or undefined when it cannot run.
 */
export async function probePython(python: string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string; timedOut?: boolean } | undefined> {
  try {
    const result = await execa(python, [...args], { reject: false, timeout: timeoutMs, stdin: 'ignore', encoding: 'utf8' });
    if (result.timedOut) return { code: 1, stdout: '', stderr: '', timedOut: true };
    if (result.failed && result.exitCode === undefined) return undefined;
    return { code: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) };
  } catch {
    return undefined;
  }
}
