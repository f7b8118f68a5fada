// The plain commands: the same engine as the interactive course, with text or JSON output.
// Exit codes: 0 passed / done, 1 failed, 2 usage or environment error.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { runCheck, type CheckResult } from '../check/engine.ts';
import { EnvironmentError, seedRun } from '../check/scratch.ts';
import { findLesson, jobsFileFor, lessonFiles, lessonsFor, solutionFile } from '../lessons/catalogue.ts';
import type { AppTrack, Lesson } from '../lessons/types.ts';
import { PythonMissingError } from '../runtime/python/find.ts';
import { runtimeFor } from '../runtime/worker-runtime.ts';
import { attemptOf, passCounts } from '../progress/attempt.ts';
import { lessonStates } from '../progress/states.ts';
import { ProgressError, ProgressStore } from '../progress/store.ts';
import { POLICIES, PortBusyError, type Policy, type WorkerMode } from '../runtime/dispatcher.ts';
import { Host } from '../runtime/host.ts';
import { AppStartError, packageRoot } from '../runtime/processes.ts';
import { appFileFor, DEFAULT_WORKSPACE, initWorkspace, learnerFile, resetLesson, resolveWorkspace, WorkspaceError, type Workspace } from '../workspace.ts';
import { runDoctor } from '../doctor.ts';
import { checkText, doctorText, listText, problemText, requestLine } from './format.ts';

/** An error the user can fix by calling differently: exit code 2 with this message. */
export class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

// --- Tracks (Node or Flask): the workspace's, or --track for runs without one (--solution).
const trackOption = () => new Option('--track <track>', "the lessons' framework when there is no workspace (default: the workspace's, else node)").choices(['node', 'flask']);

function trackFor(workspace: Workspace | undefined, flag?: string): AppTrack {
  if (flag === 'node' || flag === 'flask') return flag;
  return workspace?.track ?? 'node';
}
// --- end of tracks

function lessonArg(key: string, track: AppTrack = 'node'): Lesson {
  const lesson = findLesson(key, track);
  const lessons = lessonsFor(track);
  if (!lesson) {
    const known = lessons.map((l) => `${l.number} (${l.slug.replace(/^\d+-/, '')})`).join(', ');
    throw new UsageError(`There is no lesson "${key}". Lessons: ${known}.`);
  }
  return lesson;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return n;
  };
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('the port must be a whole number from 0 to 65535 (0 picks a free port).');
  return n;
}

function seedNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new InvalidArgumentError('the seed must be a whole number from 0 to 4294967295.');
  return n;
}

function withProgress<T>(workspace: Workspace | undefined, use: (store: ProgressStore | undefined) => T, io: Io): T {
  if (!workspace) return use(undefined);
  const store = ProgressStore.open(workspace.progressFile);
  if (store.recovered) io.err(store.recovered);
  try {
    return use(store);
  } finally {
    store.close();
  }
}

const workspaceOption = () => new Option('--workspace <dir>', 'the course workspace (default: found from the current folder upward)');

export function buildProgram(io: Io = defaultIo, setCode: (code: number) => void = () => {}): Command {
  const act = <A extends unknown[]>(fn: (...args: A) => number | Promise<number>) => async (...args: A) => setCode(await fn(...args));
  const program = new Command('global-state-course')
    .description('An interactive course: why module-level state breaks a web app served by several worker processes, and how to fix it.')
    .version(readVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .option('--python <path>', 'the Python interpreter for the Flask track (default: $PYTHON, then python3, then /usr/bin/python3)')
    .hook('preSubcommand', (command) => {
      const python = command.opts<{ python?: string }>().python;
      if (python) process.env.PYTHON = python;
    });

  program
    .command('init')
    .description(`create a workspace holding the lessons' apps and your progress (default ./${DEFAULT_WORKSPACE})`)
    .argument('[dir]', 'where to create it', DEFAULT_WORKSPACE)
    .addOption(new Option('--track <track>', "the lessons' framework: node (Express) or flask (Python)").choices(['node', 'flask']))
    .action(act(async (dir: string, options: { track?: AppTrack }) => {
      if (options.track === 'flask') await runtimeFor('app.py').available();
      const { workspace, created, added } = initWorkspace(dir, options.track ?? 'node', options.track !== undefined);
      withProgress(workspace, () => undefined, io);
      io.out(created ? `Created the workspace ${workspace.dir}` : `${workspace.dir} is already a workspace${added.length ? `; added ${added.join(', ')}` : ''}.`);
      io.out(`Next: cd ${path.relative(process.cwd(), workspace.dir) || '.'} && npx global-state-course`);
      return 0;
    }));

  program
    .command('list')
    .description('the lessons, in order, with your progress')
    .option('--json', 'machine-readable output')
    .addOption(workspaceOption())
    .addOption(trackOption())
    .action(act((options: { json?: boolean; workspace?: string; track?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      const lessons = lessonsFor(trackFor(workspace, options.track));
      const statuses = withProgress(workspace, (store) => lessonStates(lessons, store?.summary() ?? new Map()), io);
      if (options.json) {
        io.out(
          JSON.stringify(
            statuses.map(({ lesson, state, attempts }) => ({
              number: lesson.number,
              slug: lesson.slug,
              title: lesson.title,
              track: lesson.track,
              summary: lesson.summary,
              state,
              attempts,
              file: workspace ? learnerFile(workspace, lesson) : undefined,
            })),
            null,
            2,
          ),
        );
      } else {
        io.out(listText(statuses));
        if (!workspace) io.out(`\nNo workspace yet: create one with \`global-state-course init\`.`);
      }
      return 0;
    }));

  program
    .command('check')
    .description("run a lesson's check on your app (or the reference fix) with several workers")
    .argument('<lesson>', 'lesson number or name')
    .addOption(trackOption())
    .option('--json', 'machine-readable output')
    .option('--solution', 'check the reference fix instead of your file')
    .option('--workers <n>', 'number of worker processes (default: the lesson\'s)', positiveInt('--workers', 16))
    .option('--seed <seed>', 'route requests at random with this seed (printed with each run)', seedNumber)
    .addOption(new Option('--policy <policy>', 'how the balancer picks a worker').choices([...POLICIES]))
    .addOption(workspaceOption())
    .action(act(async (key: string, options: { track?: string; json?: boolean; solution?: boolean; workers?: number; seed?: number; policy?: Policy; workspace?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      const lesson = lessonArg(key, trackFor(workspace, options.track));
      const appFile = appFileFor(lesson, workspace, options.solution ?? false);
      const policy: Policy = options.policy ?? (options.seed !== undefined ? 'random' : 'round-robin');
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let result: CheckResult;
      try {
        result = await runCheck(lesson, { appFile, workers: options.workers, seed: options.seed, policy, signal: abort.signal });
      } catch (error) {
        // No Python with Flask for a Flask lesson: exit 2 with the install command, as JSON too.
        if (!(error instanceof PythonMissingError) || !options.json) throw error;
        io.out(JSON.stringify({ lesson: lesson.slug, number: lesson.number, passed: false, error: { kind: 'environment', message: error.message } }, null, 2));
        return 2;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (abort.signal.aborted) {
        io.err('Check stopped.');
        return 130;
      }
      // The verdict is shown even when it cannot be recorded (a locked or damaged database).
      let wasPassed = false;
      try {
        wasPassed = withProgress(workspace, (store) => {
          const before = store?.summary().get(lesson.slug)?.passed ?? false;
          store?.record(attemptOf(lesson, result, options.solution ?? false));
          return before;
        }, io);
      } catch (error) {
        if (!(error instanceof ProgressError)) throw error;
        io.err(error.message);
      }
      if (options.json) {
        io.out(JSON.stringify(jsonResult(result, appFile), null, 2));
      } else {
        io.out(checkText(result, lesson.title));
        io.out('');
        if (result.passed && !options.solution && !passCounts(lesson, result)) {
          io.out(
            `Passed with ${result.workers} worker${result.workers === 1 ? '' : 's'}, as a laptop's dev server runs it. The lesson counts a pass on ${lesson.workers}: global-state-course check ${lesson.number}`,
          );
        } else if (result.passed && !options.solution) {
          io.out(lesson.why().trim());
          const next = lessonsFor(trackFor(workspace, options.track)).find((l) => l.number === lesson.number + 1);
          if (next && !wasPassed) io.out(`\nLesson ${next.number}, ${next.title}, is now open: global-state-course check ${next.number} when you are ready.`);
        } else if (!result.passed && !options.solution) {
          io.out(`Edit ${path.relative(process.cwd(), appFile)}, then check again. Stuck? global-state-course hint ${lesson.number}`);
        }
      }
      return result.passed ? 0 : 1;
    }));

  program
    .command('serve')
    .description('run a lesson\'s app on several workers behind a local URL and log each request')
    .argument('<lesson>', 'lesson number or name')
    .addOption(trackOption())
    .option('--workers <n>', "number of worker processes (default: the lesson's)", positiveInt('--workers', 16))
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', portNumber, 8080)
    .option('--solution', 'serve the reference fix instead of your file')
    .addOption(new Option('--policy <policy>', 'how the balancer picks a worker').choices([...POLICIES]).default('round-robin'))
    .addOption(new Option('--mode <mode>', 'one request at a time per worker, or many').choices(['sequential', 'concurrent']))
    .addOption(workspaceOption())
    .action(act(async (key: string, options: { track?: string; workers?: number; port: number; solution?: boolean; policy: Policy; mode?: WorkerMode; workspace?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      const lesson = lessonArg(key, trackFor(workspace, options.track));
      const appFile = appFileFor(lesson, workspace, options.solution ?? false);
      return serve(lesson, appFile, options, io);
    }));

  program
    .command('hint')
    .description('the next hint for a lesson (all hints seen so far with --all)')
    .argument('<lesson>', 'lesson number or name')
    .addOption(trackOption())
    .option('--all', 'every hint seen so far, and the next one')
    .addOption(workspaceOption())
    .action(act((key: string, options: { track?: string; all?: boolean; workspace?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      const lesson = lessonArg(key, trackFor(workspace, options.track));
      withProgress(workspace, (store) => {
        const seen = store?.hintsShown(lesson.slug) ?? 0;
        const next = Math.min(seen + 1, lesson.hints.length);
        const from = options.all ? 1 : next;
        for (let n = from; n <= next; n++) io.out(`Hint ${n} of ${lesson.hints.length}: ${lesson.hints[n - 1]}\n`);
        store?.markHintShown(lesson.slug, next);
        if (next === lesson.hints.length) io.out('That was the last hint. The reference fix: global-state-course solution ' + lesson.number);
      }, io);
      return 0;
    }));

  program
    .command('solution')
    .description('the reference fix, as a diff against your file')
    .argument('<lesson>', 'lesson number or name')
    .addOption(trackOption())
    .addOption(workspaceOption())
    .action(act((key: string, options: { track?: string; workspace?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      const lesson = lessonArg(key, trackFor(workspace, options.track));
      for (const name of lessonFiles(lesson)) {
        const reference = readFileSync(path.join(path.dirname(solutionFile(lesson)), name), 'utf8');
        const mine = workspace ? path.join(workspace.dir, lesson.slug, name) : undefined;
        if (!mine || !existsSync(mine)) {
          io.out(`// ${lesson.slug}/${name}, the reference fix\n${reference}`);
          continue;
        }
        const patch = createTwoFilesPatch(path.relative(process.cwd(), mine), `reference ${name}`, readFileSync(mine, 'utf8'), reference, undefined, undefined, { context: 3 });
        io.out(patch.includes('@@') ? patch : `${path.relative(process.cwd(), mine)} is the same as the reference fix.`);
      }
      return 0;
    }));

  program
    .command('reset')
    .description("put a lesson's starter app back (your file is kept in .course/backups)")
    .argument('<lesson>', 'lesson number or name')
    .addOption(trackOption())
    .addOption(workspaceOption())
    .action(act((key: string, options: { track?: string; workspace?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      const lesson = lessonArg(key, trackFor(workspace, options.track));
      if (!workspace) throw new WorkspaceError('No course workspace here. Create one with `global-state-course init` or pass --workspace DIR.');
      const backups = resetLesson(workspace, lesson);
      io.out(`Reset ${path.relative(process.cwd(), path.join(workspace.dir, lesson.slug)) || '.'} to the starter.${backups.length ? ` Your version is kept as ${backups.join(', ')}` : ''}`);
      return 0;
    }));

  program
    .command('progress')
    .description('your progress: each lesson, its state and attempts')
    .option('--json', 'machine-readable output')
    .addOption(workspaceOption())
    .action(act((options: { json?: boolean; workspace?: string }) => {
      const workspace = resolveWorkspace(options.workspace);
      if (!workspace) throw new WorkspaceError('No course workspace here. Create one with `global-state-course init` or pass --workspace DIR.');
      const lessons = lessonsFor(workspace.track);
      withProgress(workspace, (store) => {
        const summary = store!.summary();
        const statuses = lessonStates(lessons, summary);
        const passed = statuses.filter((s) => s.state === 'passed').length;
        if (options.json) {
          io.out(
            JSON.stringify(
              {
                workspace: workspace.dir,
                passed,
                total: lessons.length,
                lessons: statuses.map(({ lesson, state }) => ({ number: lesson.number, slug: lesson.slug, state, ...summary.get(lesson.slug) })),
              },
              null,
              2,
            ),
          );
        } else {
          io.out(`${passed} of ${lessons.length} lessons passed (${workspace.dir})\n`);
          io.out(listText(statuses));
        }
      }, io);
      return 0;
    }));

  program
    .command('doctor')
    .description('check this machine and workspace: Node, workspace, progress, libraries, loopback, leftover workers, terminal')
    .option('--json', 'machine-readable output')
    .addOption(workspaceOption())
    .action(act(async (options: { json?: boolean; workspace?: string }) => {
      const report = await runDoctor({ workspace: options.workspace });
      if (options.json) io.out(JSON.stringify(report, null, 2));
      else io.out(doctorText(report));
      return report.healthy ? 0 : 1;
    }));

  return program;
}

function jsonResult(result: CheckResult, appFile: string) {
  return {
    lesson: result.lesson,
    number: result.number,
    passed: result.passed,
    file: appFile,
    workers: result.workers,
    policy: result.policy,
    seed: result.seed,
    durationMs: result.durationMs,
    ...(result.problem ? { error: result.problem } : {}),
    steps: result.steps.map((s) => ({
      title: s.title,
      passed: s.passed,
      ...(s.skipped ? { skipped: true } : {}),
      ...(s.note ? { note: s.note } : {}),
      ...(s.message ? { message: s.message } : {}),
      ...(s.diagnosis ? { diagnosis: s.diagnosis } : {}),
      ...(s.problem ? { problem: s.problem } : {}),
      ...(s.output ? { output: s.output } : {}),
      requests: s.requests,
    })),
  };
}

async function serve(
  lesson: Lesson,
  appFile: string,
  options: { workers?: number; port: number; policy: Policy; mode?: WorkerMode },
  io: Io,
): Promise<number> {
  const run = seedRun(lesson);
  const { dir: dataDir, env } = run;
  const host = new Host({
    appFile,
    jobsFile: jobsFileFor(lesson, appFile),
    workers: options.workers ?? lesson.workers,
    policy: options.policy,
    mode: options.mode ?? lesson.mode,
    load: lesson.load,
    env,
    cwd: dataDir,
    port: options.port,
    restartCrashed: true,
    spares: true,
    requestTimeoutMs: 30_000,
  });
  host.events.on((event) => {
    if (event.type === 'request-end') {
      const time = new Date().toLocaleTimeString();
      io.out(`${time}  ${requestLine({ visitor: 'browser', method: event.method, path: event.path, worker: event.worker, status: event.status, body: event.body.replace(/\s+/g, ' ').slice(0, 100) })}  ${event.latencyMs.toFixed(0)} ms`);
    } else if (event.type === 'worker-crashed') {
      io.err(`Worker ${event.worker} crashed:\n${problemText(event.problem)}`);
    } else if (event.type === 'worker-output') {
      io.out(`  [worker ${event.worker}] ${event.line}`);
    } else if (event.type === 'reload-end') {
      io.out('Reloaded: every worker started afresh.');
    }
  });
  const cleanup = () => run.remove();
  // Signals are handled from the start, so Ctrl-C while the workers boot also stops cleanly;
  // a second Ctrl-C while stopping quits at once (the workers still exit with the course).
  let stopRequested: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  let signalled = false;
  const onSignal = () => {
    if (signalled) process.exit(130);
    signalled = true;
    stopRequested();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const rl = process.stdin.isTTY ? createInterface({ input: process.stdin }) : undefined;
  rl?.on('line', (line) => {
    const command = line.trim().toLowerCase();
    const action = lesson.playground?.find((a) => a.key === command);
    if (command === 'r') void host.reload().catch((error: Error) => io.err(`Reload failed: ${error.message}`));
    else if (command === 'q') stopRequested();
    else if (action) io.out(action.run(env));
  });
  const finish = async (code: number) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rl?.close();
    await host.stop();
    cleanup();
    return code;
  };

  const started = host.start().then(
    () => true,
    (error: unknown) => error,
  );
  const outcome = await Promise.race([started, stopSignal.then(() => 'stop' as const)]);
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
  io.out(rl ? `Type ${actions}r and Enter to reload every worker, q and Enter (or Ctrl-C) to stop.` : 'Stop with Ctrl-C.');
  await stopSignal;
  await finish(0);
  io.out('Stopped; every worker has exited.');
  return 0;
}

function readVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Run the plain commands; returns the exit code instead of exiting, so tests can call it. */
export async function runCommand(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: Io): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    return 2;
  }
  if (
    error instanceof UsageError ||
    error instanceof WorkspaceError ||
    error instanceof ProgressError ||
    error instanceof PortBusyError ||
    error instanceof EnvironmentError ||
    error instanceof PythonMissingError
  ) {
    io.err(error.message);
    return 2;
  }
  io.err(`Unexpected error: ${(error as Error).stack ?? String(error)}`);
  return 2;
}
