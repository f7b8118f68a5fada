// Run a lesson's check from a screen: the engine's events are folded into view state as they
// arrive, the run is registered so quitting stops it, and leaving the screen aborts it.
import { useCallback, useEffect, useReducer, useRef } from 'react';
import type { CheckResult } from '../check/engine.ts';
import type { Lesson } from '../lessons/types.ts';
import { checkReducer, idleCheck, type CheckView, type Trigger } from './check-state.ts';
import type { Resources } from './resources.ts';

export interface CheckRequest {
  readonly appFile: string;
  readonly workers?: number;
  readonly trigger: Trigger;
}

export interface CheckRun {
  readonly view: CheckView;
  /** Resolves with the result, or undefined when the run was stopped or could not start. */
  readonly start: (request: CheckRequest) => Promise<CheckResult | undefined>;
  readonly stop: () => Promise<void>;
}

export function useCheckRun(lesson: Lesson, resources: Resources): CheckRun {
  const [view, dispatch] = useReducer(checkReducer, idleCheck);
  // `ended`: the verdict is in (the screen shows it) while the engine still stops its workers.
  const current = useRef<{ abort: AbortController; done: Promise<unknown>; ended: boolean } | undefined>(undefined);

  const stop = useCallback(async () => {
    const run = current.current;
    if (!run) return;
    run.abort.abort();
    await run.done.catch(() => {});
  }, []);

  const start = useCallback(
    async (request: CheckRequest): Promise<CheckResult | undefined> => {
      const previous = current.current;
      if (previous) {
        // A run whose verdict is shown may still be stopping its workers: start once it has.
        if (!previous.ended) return undefined;
        await previous.done.catch(() => {});
        if (current.current) return undefined;
      }
      const abort = new AbortController();
      dispatch({ type: 'requested', workers: request.workers ?? lesson.workers, trigger: request.trigger });
      const run: { abort: AbortController; done: Promise<unknown>; ended: boolean } = { abort, done: Promise.resolve(), ended: false };
      const work = (async () => {
        const { runCheck } = await import('../check/engine.ts');
        return runCheck(lesson, {
          appFile: request.appFile,
          workers: request.workers,
          signal: abort.signal,
          // The next save's check starts from processes booted meanwhile.
          warmPool: true,
          onEvent: (event) => {
            if (event.type === 'check-end') run.ended = true;
            if (!abort.signal.aborted) dispatch({ type: 'engine', event });
          },
        });
      })();
      run.done = work;
      current.current = run;
      const unregister = resources.add(async () => {
        abort.abort();
        await work.catch(() => {});
      });
      try {
        const result = await work;
        if (abort.signal.aborted) {
          dispatch({ type: 'stopped' });
          return undefined;
        }
        return result;
      } catch (error) {
        dispatch({ type: 'could-not-run', message: (error as Error).message });
        return undefined;
      } finally {
        unregister();
        if (current.current === run) current.current = undefined;
      }
    },
    [lesson, resources],
  );

  useEffect(
    () => () => {
      void stop();
    },
    [stop],
  );

  return { view, start, stop };
}
