// `serve`: a lesson's app on several workers behind a local URL, each request logged with the
// worker that served it, as the playground shows it; stops cleanly on q, Ctrl-C or SIGTERM.
import { Option, type Command } from 'commander';
import { seedRun } from '../../check/scratch.ts';
import { jobsFileFor } from '../../lessons/catalogue.ts';
import type { Lesson } from '../../lessons/types.ts';
import { MAX_WORKERS } from '../../limits.ts';
import { POLICIES, type Policy, type WorkerMode } from '../../runtime/dispatcher.ts';
import { Host } from '../../runtime/host.ts';
import { AppStartError } from '../../runtime/processes.ts';
import { appFileFor, resolveWorkspace } from '../../workspace.ts';
import { serveOnCluster } from './serve-cluster.ts';
import { stopControls } from '../stop-controls.ts';
import { bodyLine, clockTime, problemText, requestLine } from '../format.ts';
import { UsageError, lessonOrHere, portNumber, positiveInt, trackFor, trackOption, workspaceOption, type Context, type Io } from '../io.ts';

export function registerServeCommand(program: Command, { io, act }: Context): void {
  program
    .command('serve')
    .description("run a lesson's app on several workers behind a local URL and log each request")
    .argument('[lesson]', "lesson number or name (default: the lesson whose folder you are in)")
    .option('--workers <n>', "number of worker processes (default: the lesson's)", positiveInt('--workers', MAX_WORKERS))
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', portNumber, 8080)
    .option('--solution', 'serve the reference fix instead of your file')
    .addOption(new Option('--policy <policy>', 'how the balancer picks a worker').choices([...POLICIES]).default('round-robin'))
    .addOption(new Option('--mode <mode>', 'one request at a time per worker, or many').choices(['sequential', 'concurrent']))
    .addOption(
      new Option('--host <host>', "course: the course's simulated host (its dispatcher); cluster: Node's own node:cluster, as PM2's cluster mode").choices(['course', 'cluster']).default('course'),
    )
    .addOption(workspaceOption())
    .addOption(trackOption())
    .action(
      act(async (key: string | undefined, options: { workers?: number; port: number; solution?: boolean; policy: Policy; mode?: WorkerMode; host: 'course' | 'cluster'; workspace?: string; track?: string }) => {
        const workspace = resolveWorkspace(options.workspace);
        const track = trackFor(workspace, options.track);
        const lesson = lessonOrHere(key, workspace, 'serve', track);
        if (options.host === 'cluster' && track !== 'node') {
          throw new UsageError(
            '--host cluster runs a Node app on node:cluster; a Flask app runs on the course host (a preforking host like gunicorn --preload). Leave --host out.',
          );
        }
        const appFile = appFileFor(lesson, workspace, options.solution ?? false);
        if (options.host === 'cluster') return serveOnCluster(lesson, appFile, options, io);
        return serve(lesson, appFile, options, io);
      }),
    );
}

async function serve(
  lesson: Lesson,
  appFile: string,
  options: { workers?: number; port: number; policy: Policy; mode?: WorkerMode },
  io: Io,
): Promise<number> {
  const run = await seedRun(lesson);
  const { dir: dataDir, env } = run;
  const host = new Host({
    // The lesson's own clock, flowing with real time: the app runs on the same timers as in a check.
    clock: lesson.clock === 'manual' ? ('flowing' as const) : lesson.clock,
    appFile,
    jobsFile: jobsFileFor(lesson, appFile),
    workers: options.workers ?? lesson.workers,
    policy: options.policy,
    mode: options.mode ?? lesson.mode,
    load: lesson.load,
    threads: lesson.threads,
    env,
    cwd: dataDir,
    port: options.port,
    restartCrashed: true,
    spares: true,
    requestTimeoutMs: 30_000,
  });
  host.events.on((event) => {
    if (event.type === 'request-end') {
      io.out(`${clockTime()}  ${requestLine({ visitor: 'browser', method: event.method, path: event.path, worker: event.worker, status: event.status, body: bodyLine(event.error ?? event.body) })}  ${event.latencyMs.toFixed(0)} ms`);
    } else if (event.type === 'worker-crashed') {
      io.err(`Worker ${event.worker} crashed:\n${problemText(event.problem)}`);
    } else if (event.type === 'worker-output') {
      io.out(`  [worker ${event.worker}] ${event.line}`);
    } else if (event.type === 'reload-start' && event.rolling) {
      io.out('Rolling reload: workers are replaced one at a time; old and new code answer side by side meanwhile.');
    } else if (event.type === 'reload-end') {
      io.out(event.rolling ? 'Reloaded one at a time: every worker started afresh.' : 'Reloaded all at once: every worker started afresh.');
    }
  });
  const cleanup = () => run.remove();
  const controls = stopControls((command) => {
    const action = lesson.playground?.find((a) => a.key === command);
    if (command === 'r' || command === 'R') void host.reload({ rolling: command === 'R' }).catch((error: Error) => io.err(`Reload failed: ${error.message}`));
    else if (action) io.out(action.run(env));
  });
  const finish = async (code: number) => {
    controls.close();
    await host.stop();
    await cleanup();
    return code;
  };

  const started = host.start().then(
    () => true,
    (error: unknown) => error,
  );
  const outcome = await Promise.race([started, controls.stopped.then(() => 'stop' as const)]);
  if (outcome === 'stop') {
    io.out('Stopped before the workers were ready.');
    return finish(0);
  }
  if (outcome !== true) {
    await finish(1);
    if (outcome instanceof AppStartError) {
      io.err(`The app did not start:\n${problemText(outcome.problem)}`);
      return 1;
    }
    throw outcome;
  }
  io.out(`Lesson ${lesson.number} · ${lesson.title}: ${host.workerCount} worker${host.workerCount === 1 ? '' : 's'} (${host.workers().map((w) => `pid ${w.pid}`).join(', ')})`);
  io.out(`Open ${host.url}/ — a private window is a second visitor.`);
  io.out(`Data for this run: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`);
  const actions = (lesson.playground ?? []).map((a) => `${a.key} and Enter to ${a.label}, `).join('');
  io.out(controls.interactive ? `Type ${actions}r and Enter to reload every worker at once, R and Enter to reload them one at a time, q and Enter (or Ctrl-C) to stop.` : 'Stop with Ctrl-C.');
  await controls.stopped;
  await finish(0);
  io.out('Stopped; every worker has exited.');
  return 0;
}

