// `serve --host cluster`: the lesson's app on Node's own node:cluster, as PM2's cluster mode runs
// it: one primary that accepts every connection on one port and hands each to a worker in turn,
// no course dispatcher in between, no pinning. Each request is logged with the worker that
// served it, as `serve` logs them; a lesson's jobs.js runs once, as its own process. Stops
// cleanly on q, Ctrl-C, SIGTERM (the primary also exits if the course dies).
import { seedRun } from '../../check/scratch.ts';
import { jobsFileFor } from '../../lessons/catalogue.ts';
import type { Lesson } from '../../lessons/types.ts';
import type { PrimaryToCourse } from '../../runtime/cluster-protocol.ts';
import { appSettings, instanceVariables, machineHostname } from '../../runtime/host-env.ts';
import { spawnClusterPrimary, spawnWorker, type WorkerProcess } from '../../runtime/processes.ts';
import { stopControls } from '../stop-controls.ts';
import { bodyLine, clockTime, problemText, requestLine } from '../format.ts';
import type { Io } from '../io.ts';

export async function serveOnCluster(lesson: Lesson, appFile: string, options: { workers?: number; port: number }, io: Io): Promise<number> {
  const run = await seedRun(lesson);
  const settings = appSettings(run.env);
  const workers = options.workers ?? lesson.workers;
  const hostname = machineHostname(Math.floor(Math.random() * 2 ** 31), 1);
  const toldListen = new Set<number>();
  let listening: ((message: Extract<PrimaryToCourse, { type: 'listening' }>) => void) | undefined;
  let failed: ((message: string) => void) | undefined;
  const onMessage = (message: PrimaryToCourse) => {
    switch (message.type) {
      case 'listening':
        listening?.(message);
        break;
      case 'request':
        io.out(`${clockTime()}  ${requestLine({ visitor: 'browser', method: message.method, path: message.path, worker: message.worker, status: message.status, body: bodyLine(message.body) })}  ${message.ms.toFixed(0)} ms`);
        break;
      case 'output':
        io.out(`  [worker ${message.worker}] ${message.line}`);
        break;
      case 'own-listen':
        if (toldListen.has(message.worker)) break;
        toldListen.add(message.worker);
        if (toldListen.size === 1) {
          io.err(
            `Your app calls ${message.call} itself. On node:cluster the cluster worker listens for it (the course serves the default export on the shared port), so that call was ignored here; on a real cluster every worker's own listen() would compete for the port. You can remove it.`,
          );
        }
        break;
      case 'fatal':
        failed?.(`The app did not start (cluster worker ${message.worker}):\n${problemText(message.problem)}`);
        break;
      case 'worker-exit':
        io.err(`Cluster worker ${message.worker} (pid ${message.pid}) exited (${message.signal ?? `code ${message.code}`}); node:cluster does not start another by itself (PM2 would).`);
        failed?.(`A cluster worker exited before the app was listening.`);
        break;
    }
  };

  let jobs: WorkerProcess | undefined;
  const jobsFile = jobsFileFor(lesson, appFile);
  if (jobsFile) {
    jobs = spawnWorker({
      appFile: jobsFile,
      role: 'jobs',
      env: { ...settings, ...instanceVariables(0, hostname, workers) },
      cwd: run.dir,
      onOutput: (stream, line) => io.out(`  [jobs] ${line}`),
    });
    jobs.ready.catch(() => {});
  }
  const primary = spawnClusterPrimary({
    appFile,
    workers,
    port: options.port,
    cwd: run.dir,
    env: settings,
    instances: Array.from({ length: workers }, (_, i) => instanceVariables(i, hostname)),
    onMessage,
    onOutput: (stream, line) => (stream === 'stderr' ? io.err(line) : io.out(line)),
  });

  const controls = stopControls((command) => {
    const action = lesson.playground?.find((a) => a.key === command);
    if (action) io.out(action.run(run.env));
  });
  const finish = async (code: number) => {
    controls.close();
    await Promise.all([primary.stop(), jobs?.stop()]);
    await run.remove();
    return code;
  };

  const started = new Promise<Extract<PrimaryToCourse, { type: 'listening' }> | string>((resolve) => {
    listening = resolve;
    failed = resolve;
    void primary.exited.then((info) => resolve(`The node:cluster primary exited before the app was listening (${info.signal ?? `code ${info.code}`}).`));
    jobs?.ready.catch((error: Error & { problem?: Parameters<typeof problemText>[0] }) => resolve(`jobs.js did not start:\n${error.problem ? problemText(error.problem) : error.message}`));
  });
  const outcome = await Promise.race([started, controls.stopped.then(() => 'stop' as const)]);
  listening = undefined;
  failed = undefined;
  if (outcome === 'stop') {
    io.out('Stopped before the workers were ready.');
    return finish(0);
  }
  if (typeof outcome === 'string') {
    await finish(1);
    io.err(outcome);
    return 1;
  }
  const url = `http://127.0.0.1:${outcome.port}`;
  io.out(
    `Lesson ${lesson.number} · ${lesson.title} on node:cluster: ${outcome.workers.length} cluster worker${outcome.workers.length === 1 ? '' : 's'} (${outcome.workers.map((w) => `pid ${w.pid}`).join(', ')}) behind the primary (pid ${primary.pid})`,
  );
  io.out(`Open ${url}/ — the primary hands each new connection to the next worker; a browser keeps its connection, so it may stay on one worker.`);
  if (jobs) io.out(`jobs.js runs once, as its own process (pid ${jobs.pid}), as a PM2 ecosystem entry with one instance would: on a cluster every worker imports app.js, so a schedule started there would run ${workers} times.`);
  io.out(`Data for this run: ${Object.entries(run.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`);
  const actions = (lesson.playground ?? []).map((a) => `${a.key} and Enter to ${a.label}, `).join('');
  io.out(controls.interactive ? `Type ${actions}q and Enter (or Ctrl-C) to stop.` : 'Stop with Ctrl-C.');
  const died = primary.exited.then(() => 'died' as const);
  const end = await Promise.race([controls.stopped.then(() => 'stop' as const), died]);
  if (end === 'died') {
    io.err('The node:cluster primary exited; stopping.');
    await finish(1);
    return 1;
  }
  await finish(0);
  io.out('Stopped; the primary and every cluster worker have exited.');
  return 0;
}
