// The playground's other host: the lesson's app on Node's own node:cluster (ClusterHost), with
// the same worker panels and request log as on the course's host. A restart (r, R, a new worker
// count) stops every cluster worker and starts fresh ones on the same data and the same port.
import { seedRun, type SeededRun } from '../check/scratch.ts';
import { jobsFileFor } from '../lessons/catalogue.ts';
import type { Lesson } from '../lessons/types.ts';
import type { ClusterHost } from '../runtime/cluster-host.ts';
import type { AppProblem } from '../runtime/protocol.ts';
import type { PlaygroundAction } from './playground-state.ts';
import type { Resources } from './resources.ts';

export interface ClusterRunning {
  readonly kind: 'cluster';
  readonly env: Record<string, string>;
  readonly stop: () => Promise<void>;
  /** Stop every cluster worker and start `count` fresh ones on the same data and port. */
  readonly restart: (count: number) => Promise<void>;
}

export interface ClusterStart {
  readonly lesson: Lesson;
  readonly appFile: string;
  readonly count: number;
  /** The session's port: kept when it can be, updated when the app moves. */
  readonly port: { current: number };
  readonly resources: Resources;
  /** False once the playground is gone. */
  readonly live: () => boolean;
  readonly dispatch: (action: PlaygroundAction) => void;
  readonly setRunning: (running: ClusterRunning | undefined) => void;
  /** Stop whatever runs (the playground left while the workers started). */
  readonly stopNow: () => Promise<void>;
}

const clock = () => new Date().toLocaleTimeString('en-GB', { hour12: false });

export async function startOnCluster({ lesson, appFile, count, port, resources, live, dispatch, setRunning, stopNow }: ClusterStart): Promise<void> {
  const { ClusterHost } = await import('../runtime/cluster-host.ts');
  if (!live()) return;
  let run: SeededRun;
  try {
    run = await seedRun(lesson);
  } catch (error) {
    dispatch({ type: 'start-failed', message: (error as Error).message, at: clock() });
    return;
  }
  const jobsFile = jobsFileFor(lesson, appFile);
  let host: ClusterHost | undefined;
  let off = () => {};
  const launch = async (workers: number, at: number) => {
    const next = new ClusterHost({ appFile, jobsFile, workers, port: at, cwd: run.dir, env: run.env });
    host = next;
    off = next.events.on((event) => dispatch({ type: 'host', event, at: clock() }));
    await next.start();
    port.current = next.port;
    return next;
  };
  const launchOnPort = async (workers: number) => {
    try {
      return await launch(workers, port.current);
    } catch (error) {
      // Another program took the session's port while the app was stopped: take a new one, and say so.
      if (port.current === 0 || !/EADDRINUSE/.test((error as Error).message)) throw error;
      off();
      dispatch({ type: 'note', text: `Port ${port.current} was taken by another program meanwhile: the app moves to a new URL.`, tone: 'error', at: clock() });
      return launch(workers, 0);
    }
  };
  const halt = async () => {
    await host?.stop();
    off();
  };
  let unregister = () => {};
  const stop = async () => {
    unregister();
    await halt();
    await run.remove();
  };
  unregister = resources.add(stop);
  const restart = async (workers: number) => {
    dispatch({ type: 'host', event: { type: 'reload-start' }, at: clock() });
    await halt();
    await launchOnPort(workers);
    dispatch({ type: 'host', event: { type: 'reload-end' }, at: clock() });
  };
  setRunning({ kind: 'cluster', env: run.env, stop, restart });
  try {
    const started = await launchOnPort(count);
    if (live()) dispatch({ type: 'started', url: `${started.url}/` });
    else await stopNow();
  } catch (error) {
    setRunning(undefined);
    await stop();
    const problem = (error as { problem?: AppProblem }).problem;
    dispatch({ type: 'start-failed', problem, message: problem?.message ?? (error as Error).message, at: clock() });
  }
}
