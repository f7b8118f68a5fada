// Messages of `serve --host cluster`: between the course and the node:cluster primary it starts
// (cluster-primary.ts), and between that primary and its cluster workers (cluster-worker.ts).
import type { AppProblem } from './protocol.ts';

/** What the course tells the primary once it has started (its only message). */
export interface ClusterAssignment {
  readonly type: 'assign';
  readonly appFile: string;
  readonly workers: number;
  /** The one port every worker shares (0: a free one, the same for all). */
  readonly port: number;
  readonly cwd: string;
  /** The app's settings, the same for every worker. */
  readonly env: Readonly<Record<string, string>>;
  /** Each worker's own variables (NODE_APP_INSTANCE, HOSTNAME…), one entry per worker. */
  readonly instances: readonly Readonly<Record<string, string>>[];
}

/** One finished request, as a cluster worker reports it. */
export interface ClusterRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  /** The first characters of the response body. */
  readonly body: string;
}

export type ClusterWorkerToPrimary =
  | ({ readonly type: 'request' } & ClusterRequest)
  | { readonly type: 'fatal'; readonly problem: AppProblem }
  /** The app called listen() itself: on a real cluster that call would compete for the port. */
  | { readonly type: 'own-listen'; readonly call: string };

export type PrimaryToCourse =
  | { readonly type: 'listening'; readonly port: number; readonly workers: readonly { readonly id: number; readonly pid: number }[] }
  | ({ readonly type: 'request'; readonly worker: number } & ClusterRequest)
  | { readonly type: 'output'; readonly worker: number; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  | { readonly type: 'own-listen'; readonly worker: number; readonly call: string }
  | { readonly type: 'fatal'; readonly worker: number; readonly problem: AppProblem }
  | { readonly type: 'worker-exit'; readonly worker: number; readonly pid: number; readonly code: number | null; readonly signal: string | null };
