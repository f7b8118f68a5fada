// The playground as the screen draws it: one panel per worker and a log of what happened,
// folded from the host's events by a pure reducer.
import type { HostEvent, WorkerState } from '../runtime/events.ts';
import type { AppProblem } from '../runtime/protocol.ts';

export type Source = 'mine' | 'reference';

/** Where the app runs: the course's host (its dispatcher), or Node's own node:cluster. */
export type HostKind = 'course' | 'cluster';

export interface WorkerView {
  readonly index: number;
  readonly pid: number;
  readonly state: WorkerState;
  /** Requests sent to this worker and not answered yet. */
  readonly inFlight: number;
  readonly served: number;
  /** Times the host started a fresh process after this worker crashed. */
  readonly restarts: number;
}

export type LogEntry =
  | {
      readonly kind: 'request';
      readonly id: number;
      readonly at: string;
      readonly visitor: string;
      readonly method: string;
      readonly path: string;
      readonly worker: number;
      readonly status: number;
      readonly latencyMs: number;
      readonly body: string;
    }
  | { readonly kind: 'output'; readonly id: number; readonly at: string; readonly worker: number; readonly line: string }
  | { readonly kind: 'note'; readonly id: number; readonly at: string; readonly text: string; readonly tone: 'info' | 'error' };

export type PlaygroundPhase = 'starting' | 'running' | 'reloading' | 'failed' | 'stopped';

export interface PlaygroundView {
  readonly phase: PlaygroundPhase;
  readonly source: Source;
  readonly host: HostKind;
  /** Workers asked for. */
  readonly count: number;
  readonly url?: string;
  readonly workers: readonly WorkerView[];
  readonly log: readonly LogEntry[];
  /** Why the app could not start. */
  readonly problem?: AppProblem;
  readonly error?: string;
  readonly nextId: number;
}

export type PlaygroundAction =
  | { readonly type: 'starting'; readonly source: Source; readonly count: number; readonly host?: HostKind; readonly at: string }
  | { readonly type: 'started'; readonly url: string }
  | { readonly type: 'resizing'; readonly count: number }
  | { readonly type: 'host'; readonly event: HostEvent; readonly at: string }
  | { readonly type: 'start-failed'; readonly problem?: AppProblem; readonly message: string; readonly at: string }
  | { readonly type: 'stopped'; readonly at: string }
  | { readonly type: 'note'; readonly text: string; readonly tone: 'info' | 'error'; readonly at: string };

export const LOG_LIMIT = 200;

export function initialPlayground(source: Source, count: number, host: HostKind = 'course'): PlaygroundView {
  return { phase: 'stopped', source, host, count, workers: [], log: [], nextId: 1 };
}

type NewEntry = LogEntry extends infer E ? (E extends LogEntry ? Omit<E, 'id'> : never) : never;

function append(view: PlaygroundView, entry: NewEntry): Pick<PlaygroundView, 'log' | 'nextId'> {
  const log = [...view.log, { ...entry, id: view.nextId } as LogEntry];
  return { log: log.length > LOG_LIMIT ? log.slice(log.length - LOG_LIMIT) : log, nextId: view.nextId + 1 };
}

function updateWorker(workers: readonly WorkerView[], index: number, change: (w: WorkerView) => WorkerView): WorkerView[] {
  return workers.map((w) => (w.index === index ? change(w) : w));
}

export function playgroundReducer(view: PlaygroundView, action: PlaygroundAction): PlaygroundView {
  switch (action.type) {
    case 'note':
      return { ...view, ...append(view, { kind: 'note', at: action.at, text: action.text, tone: action.tone }) };
    case 'starting': {
      const who = action.source === 'mine' ? 'your app' : 'the reference fix';
      const host = action.host ?? view.host;
      const where = host === 'cluster' ? ' on node:cluster' : '';
      return {
        ...view,
        phase: 'starting',
        source: action.source,
        host,
        count: action.count,
        url: undefined,
        workers: [],
        problem: undefined,
        error: undefined,
        ...append(view, { kind: 'note', at: action.at, text: `Starting ${who} on ${action.count} worker${action.count === 1 ? '' : 's'}${where}…`, tone: 'info' }),
      };
    }
    case 'started':
      return { ...view, phase: 'running', url: action.url };
    case 'resizing':
      return { ...view, count: action.count };
    case 'start-failed':
      return {
        ...view,
        phase: 'failed',
        problem: action.problem,
        error: action.message,
        ...append(view, { kind: 'note', at: action.at, text: `The app did not start: ${action.message}`, tone: 'error' }),
      };
    case 'stopped':
      return {
        ...view,
        phase: 'stopped',
        url: undefined,
        workers: view.workers.map((w) => ({ ...w, state: 'stopped', inFlight: 0 })),
        ...append(view, { kind: 'note', at: action.at, text: 'Stopped: every worker has exited.', tone: 'info' }),
      };
    case 'host':
      return hostEvent(view, action.event, action.at);
  }
}

function hostEvent(view: PlaygroundView, event: HostEvent, at: string): PlaygroundView {
  switch (event.type) {
    case 'worker-starting': {
      const existing = view.workers.find((w) => w.index === event.worker);
      if (existing && existing.state === 'crashed') {
        // The same place restarted: after a crash, the host's master starts a fresh process.
        return {
          ...view,
          workers: updateWorker(view.workers, event.worker, (w) => ({ ...w, pid: event.pid, state: 'starting', inFlight: 0, restarts: w.restarts + 1 })),
        };
      }
      if (existing) {
        // A reload or a new worker count: a fresh worker in this place, counting from zero.
        return { ...view, workers: updateWorker(view.workers, event.worker, () => ({ index: event.worker, pid: event.pid, state: 'starting', inFlight: 0, served: 0, restarts: 0 })) };
      }
      const added: WorkerView = { index: event.worker, pid: event.pid, state: 'starting', inFlight: 0, served: 0, restarts: 0 };
      return { ...view, workers: [...view.workers, added].sort((a, b) => a.index - b.index) };
    }
    case 'worker-ready':
      return { ...view, workers: updateWorker(view.workers, event.worker, (w) => (w.pid === event.pid ? { ...w, state: w.inFlight > 0 ? 'busy' : 'idle' } : w)) };
    case 'worker-crashed':
      return {
        ...view,
        workers: updateWorker(view.workers, event.worker, (w) => (w.pid === event.pid ? { ...w, state: 'crashed', inFlight: 0 } : w)),
        ...append(view, { kind: 'note', at, text: `Worker ${event.worker} (pid ${event.pid}) crashed: ${event.problem.message}`, tone: 'error' }),
      };
    case 'worker-exited':
      if (event.expected) {
        return { ...view, workers: updateWorker(view.workers, event.worker, (w) => (w.pid === event.pid ? { ...w, state: 'stopped', inFlight: 0 } : w)) };
      }
      return { ...view, workers: updateWorker(view.workers, event.worker, (w) => (w.pid === event.pid && w.state !== 'crashed' ? { ...w, state: 'crashed', inFlight: 0 } : w)) };
    case 'worker-output':
      return { ...view, ...append(view, { kind: 'output', at, worker: event.worker, line: event.line }) };
    case 'jobs-output':
      return { ...view, ...append(view, { kind: 'note', at, text: `[jobs] ${event.line}`, tone: 'info' }) };
    case 'jobs-crashed':
      return { ...view, ...append(view, { kind: 'note', at, text: `The jobs process (pid ${event.pid}) crashed: ${event.problem.message}`, tone: 'error' }) };
    case 'jobs-starting':
    case 'jobs-ready':
    case 'jobs-exited':
      return view;
    case 'request-start':
      return { ...view, workers: updateWorker(view.workers, event.worker, (w) => ({ ...w, inFlight: w.inFlight + 1, state: w.state === 'idle' ? 'busy' : w.state })) };
    case 'request-end': {
      const workers = updateWorker(view.workers, event.worker, (w) => {
        const inFlight = Math.max(0, w.inFlight - 1);
        return { ...w, inFlight, served: w.served + 1, state: w.state === 'busy' && inFlight === 0 ? 'idle' : w.state };
      });
      return {
        ...view,
        workers,
        ...append(view, {
          kind: 'request',
          at,
          visitor: event.visitor ?? 'browser',
          method: event.method,
          path: event.path,
          worker: event.worker,
          status: event.status,
          latencyMs: event.latencyMs,
          body: event.error ?? event.body,
        }),
      };
    }
    case 'reload-start': {
      // The host stops every worker and starts fresh ones (all at once, or one at a time): counts start again.
      const text = event.rolling
        ? 'Rolling reload: workers are replaced one at a time, the others keep serving; old and new code answer side by side for a moment…'
        : 'Reloading all at once: every worker stops, fresh ones start…';
      return { ...view, phase: 'reloading', problem: undefined, error: undefined, ...append(view, { kind: 'note', at, text, tone: 'info' }) };
    }
    case 'reload-end': {
      const workers = view.workers.filter((w) => w.index <= view.count);
      return {
        ...view,
        workers,
        phase: view.phase === 'reloading' ? 'running' : view.phase,
        ...append(view, {
          kind: 'note',
          at,
          text: `${event.rolling ? 'Rolling reload done' : 'Reloaded all at once'}: ${workers.length} fresh worker${workers.length === 1 ? '' : 's'}; module-level code ran again in each.`,
          tone: 'info',
        }),
      };
    }
  }
}
