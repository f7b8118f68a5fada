// A check run as the screen draws it, folded from the engine's live events by a pure reducer.
import type { CheckEvent, CheckResult, StepResult } from '../check/engine.ts';
import type { RequestRecord } from '../check/visitor.ts';
import type { Policy } from '../runtime/dispatcher.ts';
import type { AppProblem } from '../runtime/protocol.ts';
import { foldStartup } from '../startup-output.ts';

export type StepStatus = 'pending' | 'running' | 'passed' | 'failed' | 'not-run' | 'left-out';

export interface StepView {
  readonly title: string;
  readonly status: StepStatus;
  readonly requests: readonly RequestRecord[];
  /** "Expected ..., got ..." */
  readonly message?: string;
  readonly diagnosis?: string;
  readonly output?: readonly string[];
  /** Why a step was left out of this run. */
  readonly note?: string;
}

export type CheckPhase = 'idle' | 'starting' | 'running' | 'passed' | 'failed' | 'stopped' | 'error';

/** What set a run off: a key, a save in watch mode, or the one-worker/N-worker comparison. */
export type Trigger = 'key' | 'save' | 'compare';

export interface CheckView {
  readonly phase: CheckPhase;
  readonly trigger?: Trigger;
  /** Runs started in this view, counting this one. */
  readonly run: number;
  readonly workers: number;
  readonly policy?: Policy;
  readonly seed?: number;
  /** Workers that have started and listen. */
  readonly ready: number;
  readonly steps: readonly StepView[];
  /** Set when the app could not start at all. */
  readonly problem?: AppProblem;
  /** Set when the check itself could not run (a missing file, seed data that could not be written). */
  readonly error?: string;
  readonly durationMs?: number;
  readonly result?: CheckResult;
  /** What the app printed as it started (at import), labelled by worker: shown with a failing step. */
  readonly startup?: readonly string[];
  /** The first step has begun: later output belongs to the steps. */
  readonly stepsBegan?: boolean;
}

export type CheckAction =
  | { readonly type: 'requested'; readonly workers: number; readonly trigger: Trigger }
  | { readonly type: 'engine'; readonly event: CheckEvent }
  | { readonly type: 'could-not-run'; readonly message: string }
  | { readonly type: 'stopped' };

export const idleCheck: CheckView = { phase: 'idle', run: 0, workers: 0, ready: 0, steps: [], startup: [], stepsBegan: false };

export function isRunning(view: CheckView): boolean {
  return view.phase === 'starting' || view.phase === 'running';
}

function fromResult(step: StepResult): StepView {
  let status: StepStatus;
  if (step.skipped) status = step.passed ? 'left-out' : 'not-run';
  else status = step.passed ? 'passed' : 'failed';
  return {
    title: step.title,
    status,
    requests: step.requests,
    message: step.message,
    diagnosis: step.diagnosis,
    output: step.output,
    note: step.note,
  };
}

function replaceStep(steps: readonly StepView[], index: number, change: (step: StepView) => StepView): StepView[] {
  return steps.map((step, i) => (i === index ? change(step) : step));
}

export function checkReducer(view: CheckView, action: CheckAction): CheckView {
  switch (action.type) {
    case 'requested':
      return { ...idleCheck, phase: 'starting', trigger: action.trigger, run: view.run + 1, workers: action.workers };
    case 'could-not-run':
      return { ...view, phase: 'error', error: action.message };
    case 'stopped':
      return isRunning(view) || view.phase === 'idle' ? { ...view, phase: 'stopped' } : view;
    case 'engine':
      return engineEvent(view, action.event);
  }
}

function engineEvent(before: CheckView, event: CheckEvent): CheckView {
  if (before.phase === 'stopped') return before;
  const folded = foldStartup(before.startup ?? [], before.stepsBegan ?? false, event);
  const view = folded.lines === before.startup && folded.started === before.stepsBegan ? before : { ...before, startup: folded.lines, stepsBegan: folded.started };
  switch (event.type) {
    case 'check-start':
      return {
        ...view,
        phase: 'starting',
        workers: event.workers,
        policy: event.policy,
        seed: event.seed,
        ready: 0,
        steps: event.steps.map((title) => ({ title, status: 'pending', requests: [] })),
      };
    case 'host':
      if (event.event.type === 'worker-ready' && view.phase === 'starting') return { ...view, ready: Math.min(view.ready + 1, view.workers) };
      return view;
    case 'step-start':
      return { ...view, phase: 'running', steps: replaceStep(view.steps, event.index, (s) => ({ ...s, status: 'running', requests: [] })) };
    case 'request':
      return { ...view, steps: replaceStep(view.steps, event.step, (s) => ({ ...s, requests: [...s.requests, event.record] })) };
    case 'step-end':
      return { ...view, steps: replaceStep(view.steps, event.index, () => fromResult(event.result)) };
    case 'check-end': {
      const { result } = event;
      return {
        ...view,
        phase: result.passed ? 'passed' : 'failed',
        workers: result.workers,
        seed: result.seed,
        problem: result.problem,
        durationMs: result.durationMs,
        steps: result.steps.length ? result.steps.map(fromResult) : view.steps.map((s) => ({ ...s, status: 'not-run' })),
        result,
      };
    }
  }
}
