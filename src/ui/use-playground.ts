// Run a lesson's app on a local URL with 1..N workers, as the plain `serve` command does, and
// fold the host's events into the playground's view. The host is registered so quitting stops
// it, and leaving the playground stops it and removes its scratch data.
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { seedRun, type SeededRun } from '../check/scratch.ts';
import { jobsFileFor } from '../lessons/catalogue.ts';
import type { Lesson } from '../lessons/types.ts';
import type { Host } from '../runtime/host.ts';
import { startOnCluster, type ClusterRunning } from './playground-cluster.ts';
import { initialPlayground, playgroundReducer, type HostKind, type PlaygroundView, type Source } from './playground-state.ts';
import type { Resources } from './resources.ts';

export { MAX_WORKERS } from '../limits.ts';
import { MAX_WORKERS } from '../limits.ts';

/** The playground's clock keys, for lessons on a manual clock: t moves it an hour, T a day. */
export const CLOCK_STEPS: Readonly<Record<string, { readonly ms: number; readonly label: string }>> = {
  t: { ms: 60 * 60 * 1000, label: '1 hour' },
  T: { ms: 24 * 60 * 60 * 1000, label: '1 day' },
};

export interface PlaygroundControls {
  readonly view: PlaygroundView;
  /** Start (or restart) the app from `source` on `count` workers, on `host` (the last one used by default). */
  readonly start: (source: Source, count: number, host?: HostKind) => Promise<void>;
  /**
   * Restart every worker, as a host's reload button does: all at once, or (`rolling`) one at a
   * time as PM2's `reload` does, old and new code serving side by side meanwhile.
   */
  readonly reload: (rolling?: boolean) => Promise<void>;
  readonly setWorkers: (count: number) => Promise<void>;
  readonly stop: () => Promise<void>;
  /** Run one of the lesson's playground actions on the running app's data. */
  readonly act: (key: string) => void;
  /** Move the app's clock forward (lessons on a manual clock): every worker and the jobs process. */
  readonly advanceClock: (ms: number, label: string) => Promise<void>;
}

export interface PlaygroundFiles {
  readonly mine: string;
  readonly reference: string;
}

/** What runs the app: the course's host, or node:cluster (which has no clock to move and no rolling reload). */
type Running = { readonly kind: 'course'; readonly host: Host; readonly env: Record<string, string>; readonly stop: () => Promise<void> } | ClusterRunning;

const clock = () => new Date().toLocaleTimeString('en-GB', { hour12: false });

export function usePlayground(lesson: Lesson, files: PlaygroundFiles, resources: Resources, initialCount: number): PlaygroundControls {
  const [view, dispatch] = useReducer(playgroundReducer, undefined, () => initialPlayground('mine', initialCount));
  const running = useRef<Running | undefined>(undefined);
  const busy = useRef<Promise<unknown>>(Promise.resolve());
  const mounted = useRef(true);
  /** What runs (or last ran): a reload with no host up starts this again. */
  const last = useRef<{ source: Source; count: number; host: HostKind }>({ source: 'mine', count: initialCount, host: 'course' });
  /** The port of the session's URL: kept across m and s, so an open browser tab keeps working. */
  const port = useRef(0);

  /** One operation at a time: a key pressed during a reload waits for it. */
  const serial = useCallback(<T,>(work: () => Promise<T>): Promise<T> => {
    const next = busy.current.then(work, work);
    busy.current = next.catch(() => {});
    return next;
  }, []);

  const stopNow = useCallback(async () => {
    const current = running.current;
    running.current = undefined;
    if (current) {
      await current.stop();
      if (mounted.current) dispatch({ type: 'stopped', at: clock() });
    }
  }, []);

  /** The app on node:cluster (called inside `start`, one operation at a time). */
  const startCluster = useCallback(
    (source: Source, count: number) =>
      startOnCluster({
        lesson,
        appFile: source === 'mine' ? files.mine : files.reference,
        count,
        port,
        resources,
        live: () => mounted.current,
        dispatch: (action) => mounted.current && dispatch(action),
        setRunning: (next) => (running.current = next),
        stopNow,
      }),
    [files.mine, files.reference, lesson, resources, stopNow],
  );

  const start = useCallback(
    (source: Source, count: number, kind: HostKind = last.current.host) =>
      serial(async () => {
        await stopNow();
        last.current = { source, count, host: kind };
        dispatch({ type: 'starting', source, count, host: kind, at: clock() });
        if (kind === 'cluster') return startCluster(source, count);
        const [{ Host }, { AppStartError }, { PortBusyError }] = await Promise.all([
          import('../runtime/host.ts'),
          import('../runtime/processes.ts'),
          import('../runtime/dispatcher.ts'),
        ]);
        // The learner left (or the course quit) while the modules loaded: start nothing.
        if (!mounted.current) return;
        let run: SeededRun;
        try {
          run = await seedRun(lesson);
        } catch (error) {
          if (mounted.current) dispatch({ type: 'start-failed', message: (error as Error).message, at: clock() });
          return;
        }
        const { dir: dataDir, env } = run;
        const appFile = source === 'mine' ? files.mine : files.reference;
        const options = {
          appFile,
          jobsFile: jobsFileFor(lesson, appFile),
          workers: count,
          mode: lesson.mode,
          load: lesson.load,
          threads: lesson.threads,
          // People use the app on the lesson's own clock, flowing with real time (t/T jump ahead).
          clock: lesson.clock === 'manual' ? ('flowing' as const) : lesson.clock,
          env,
          cwd: dataDir,
          restartCrashed: true,
          spares: true,
          requestTimeoutMs: 30_000,
        };
        const watch = (h: Host) =>
          h.events.on((event) => {
            if (mounted.current) dispatch({ type: 'host', event, at: clock() });
          });
        let host = new Host({ ...options, port: port.current });
        let off = watch(host);
        let unregister = () => {};
        const stop = async () => {
          unregister();
          await host.stop();
          off();
          await run.remove();
        };
        unregister = resources.add(stop);
        running.current = { kind: 'course', host, env, stop };
        try {
          try {
            await host.start();
          } catch (error) {
            // Another program took the session's port while the app was stopped: take a new one, and say so.
            if (!(error instanceof PortBusyError) || port.current === 0) throw error;
            if (mounted.current) dispatch({ type: 'note', text: `Port ${port.current} was taken by another program meanwhile: the app moves to a new URL.`, tone: 'error', at: clock() });
            off();
            host = new Host({ ...options, port: 0 });
            off = watch(host);
            running.current = { kind: 'course', host, env, stop };
            await host.start();
          }
          port.current = host.port;
          if (mounted.current) dispatch({ type: 'started', url: `${host.url}/` });
          // The learner left while the workers were starting: stop them now.
          else await stopNow();
        } catch (error) {
          // The app did not start, but the URL is the session's from now on.
          if (host.port) port.current = host.port;
          running.current = undefined;
          await stop();
          const problem = error instanceof AppStartError ? error.problem : undefined;
          if (mounted.current) dispatch({ type: 'start-failed', problem, message: problem?.message ?? (error as Error).message, at: clock() });
        }
      }),
    [files.mine, files.reference, lesson, resources, serial, startCluster, stopNow],
  );

  /** A reload or a new count whose fresh workers cannot start leaves the host up, to be reloaded once fixed. */
  const restartFailed = useCallback(async (error: unknown) => {
    const { AppStartError } = await import('../runtime/processes.ts');
    const problem = error instanceof AppStartError ? error.problem : undefined;
    if (mounted.current) dispatch({ type: 'start-failed', problem, message: problem?.message ?? (error as Error).message, at: clock() });
  }, []);

  const reload = useCallback(async (rolling = false) => {
    // The app could not start (nothing runs): after a fix, a reload starts it afresh.
    if (!running.current) return start(last.current.source, last.current.count);
    return serial(async () => {
      const current = running.current;
      if (current?.kind === 'cluster') {
        if (rolling && mounted.current) {
          dispatch({ type: 'note', text: "node:cluster itself only restarts every worker at once (PM2's reload replaces them one at a time).", tone: 'info', at: clock() });
        }
        await current.restart(last.current.count).catch(restartFailed);
      } else await current?.host.reload({ rolling }).catch(restartFailed);
    });
  }, [serial, restartFailed, start]);

  const setWorkers = useCallback(
    (count: number) =>
      serial(async () => {
        const n = Math.max(1, Math.min(MAX_WORKERS, count));
        last.current = { ...last.current, count: n };
        dispatch({ type: 'resizing', count: n });
        const current = running.current;
        if (current?.kind === 'cluster') await current.restart(n).catch(restartFailed);
        else await current?.host.setWorkerCount(n).catch(restartFailed);
      }),
    [serial, restartFailed],
  );

  const stop = useCallback(() => serial(stopNow), [serial, stopNow]);

  const act = useCallback(
    (key: string) => {
      const action = lesson.playground?.find((a) => a.key === key);
      const current = running.current;
      if (!action || !current) return;
      try {
        dispatch({ type: 'note', text: action.run(current.env), tone: 'info', at: clock() });
      } catch (error) {
        dispatch({ type: 'note', text: `Could not ${action.label}: ${(error as Error).message}`, tone: 'error', at: clock() });
      }
    },
    [lesson],
  );

  const advanceClock = useCallback(
    (ms: number, label: string) =>
      serial(async () => {
        const current = running.current;
        if (!current || lesson.clock !== 'manual') return;
        if (current.kind === 'cluster') {
          const text = "On node:cluster the app keeps the machine's own clock: t and T move the course's host only.";
          if (mounted.current) dispatch({ type: 'note', text, tone: 'info', at: clock() });
          return;
        }
        try {
          await current.host.advanceClock(ms);
          const now = (await current.host.clockState(1))?.now;
          const shown = now === undefined ? '' : `: it is now ${new Date(now).toLocaleString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false })} for the app`;
          if (mounted.current) dispatch({ type: 'note', text: `Clock moved forward ${label}${shown}.`, tone: 'info', at: clock() });
        } catch (error) {
          if (mounted.current) dispatch({ type: 'note', text: `Could not move the clock: ${(error as Error).message}`, tone: 'error', at: clock() });
        }
      }),
    [lesson, serial],
  );

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      void stopNow();
    };
  }, [stopNow]);

  return { view, start, reload, setWorkers, stop, act, advanceClock };
}
