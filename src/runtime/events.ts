// The host's typed event stream: checks record it, the UI draws it.
import type { AppProblem } from './protocol.ts';

export type WorkerState = 'starting' | 'idle' | 'busy' | 'crashed' | 'stopped';

export type HostEvent =
  | { readonly type: 'worker-starting'; readonly worker: number; readonly pid: number }
  | { readonly type: 'worker-ready'; readonly worker: number; readonly pid: number; readonly port: number }
  | { readonly type: 'worker-crashed'; readonly worker: number; readonly pid: number; readonly problem: AppProblem }
  | {
      readonly type: 'worker-exited';
      readonly worker: number;
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly expected: boolean;
    }
  | { readonly type: 'worker-output'; readonly worker: number; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  | { readonly type: 'request-start'; readonly id: number; readonly visitor?: string; readonly method: string; readonly path: string; readonly worker: number }
  | {
      readonly type: 'request-end';
      readonly id: number;
      readonly visitor?: string;
      readonly method: string;
      readonly path: string;
      readonly worker: number;
      readonly status: number;
      readonly latencyMs: number;
      /** The first bytes of the response body, as text. */
      readonly body: string;
      /** Set when the worker gave no proper answer: it crashed, hung or refused. */
      readonly error?: string;
    }
  // `rolling`: the workers are replaced one at a time (Host.reload({ rolling: true })).
  | { readonly type: 'reload-start'; readonly rolling?: boolean }
  | { readonly type: 'reload-end'; readonly rolling?: boolean }
  // The host's one scheduled-task process (HostOptions.jobsFile), which serves no requests.
  | { readonly type: 'jobs-starting'; readonly pid: number }
  | { readonly type: 'jobs-ready'; readonly pid: number }
  | { readonly type: 'jobs-output'; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  | { readonly type: 'jobs-crashed'; readonly pid: number; readonly problem: AppProblem }
  | {
      readonly type: 'jobs-exited';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly expected: boolean;
    };

export type Listener<E> = (event: E) => void;

/** A small typed event emitter; `on` returns the function that unsubscribes. */
export class EventStream<E> {
  readonly #listeners = new Set<Listener<E>>();

  on(listener: Listener<E>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: E): void {
    for (const listener of this.#listeners) listener(event);
  }
}
