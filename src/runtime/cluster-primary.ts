// The primary process of `serve --host cluster`: the learner's app on Node's own node:cluster,
// as PM2's cluster mode runs it. It forks N cluster workers (cluster-worker.ts) that all listen
// on one port; the primary accepts each connection and hands it to the workers in turn
// (SCHED_RR), with no course dispatcher in between and no pinning. Each worker reports its
// finished requests; the primary forwards them, and the workers' output, to the course.
//
// Started by the course through processes.ts (spawnClusterPrimary) with an IPC channel. It exits
// when that channel closes, however the course ends (even SIGKILL), after stopping its
// workers; a cluster worker exits when its own channel to the primary closes.
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClusterAssignment, ClusterWorkerToPrimary, PrimaryToCourse } from './cluster-protocol.ts';

const ownExtension = path.extname(fileURLToPath(import.meta.url));
const workerFile = fileURLToPath(new URL(`./cluster-worker${ownExtension}`, import.meta.url));

function tell(message: PrimaryToCourse): void {
  if (process.connected) process.send?.(message);
}

let stopping = false;
/** Stop every worker (SIGTERM, SIGKILL after a second), then exit. */
function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  if (workers.length === 0) process.exit(code);
  let left = workers.length;
  for (const worker of workers) {
    worker.once('exit', () => {
      if (--left === 0) process.exit(code);
    });
    worker.process.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const worker of workers) worker.process.kill('SIGKILL');
    process.exit(code);
  }, 1000).unref();
}

process.on('disconnect', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

const assignment = await new Promise<ClusterAssignment>((resolve) => {
  process.once('message', (message) => resolve(message as ClusterAssignment));
});

cluster.schedulingPolicy = cluster.SCHED_RR;
cluster.setupPrimary({
  exec: workerFile,
  args: [assignment.appFile, String(assignment.port)],
  cwd: assignment.cwd,
  silent: true,
});

const listening = new Map<number, number>();
let port = 0;
for (let i = 0; i < assignment.workers; i++) {
  const worker = cluster.fork({ ...assignment.env, ...assignment.instances[i] });
  const pid = worker.process.pid ?? 0;
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = worker.process[stream];
    if (source) createInterface({ input: source }).on('line', (line) => tell({ type: 'output', worker: worker.id, stream, line }));
  }
  worker.on('message', (message: ClusterWorkerToPrimary) => {
    if (message.type === 'request') tell({ ...message, worker: worker.id });
    else if (message.type === 'own-listen') tell({ type: 'own-listen', worker: worker.id, call: message.call });
    else if (message.type === 'fatal') tell({ type: 'fatal', worker: worker.id, problem: message.problem });
  });
  worker.on('listening', (address) => {
    listening.set(worker.id, pid);
    port = address.port;
    if (listening.size === assignment.workers) {
      tell({ type: 'listening', port, workers: [...listening].map(([id, p]) => ({ id, pid: p })).sort((a, b) => a.id - b.id) });
    }
  });
  worker.on('exit', (code, signal) => {
    if (stopping) return;
    tell({ type: 'worker-exit', worker: worker.id, pid, code, signal });
    // A worker that never listened: the app cannot start, and the deployment fails.
    if (!listening.has(worker.id)) shutdown(1);
  });
}
