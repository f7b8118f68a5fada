// `check`: run a lesson's check on the learner's app (or the reference fix), show the story,
// and record the attempt. A verdict that could not be saved says so in its last lines and exits
// 2: nothing claims a lesson is open when the pass was not recorded.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { runCheck, type CheckResult } from '../../check/engine.ts';
import { lessonsFor } from '../../lessons/catalogue.ts';
import type { AppTrack, Lesson } from '../../lessons/types.ts';
import { PythonMissingError } from '../../runtime/python/find.ts';
import { MAX_WORKERS } from '../../limits.ts';
import { command } from '../../invocation.ts';
import { attemptOf, passCounts } from '../../progress/attempt.ts';
import { POLICIES, type Policy } from '../../runtime/dispatcher.ts';
import { appFileFor, resolveWorkspace, type Workspace } from '../../workspace.ts';
import { startupCollector } from '../../startup-output.ts';
import { expectedMessage } from '../errors.ts';
import { checkText } from '../format.ts';
import { lessonOrHere, positiveInt, seedNumber, trackFor, trackOption, withProgress, workspaceOption, type Context, type Io } from '../io.ts';

interface CheckOptions {
  json?: boolean;
  solution?: boolean;
  workers?: number;
  seed?: number;
  policy?: Policy;
  workspace?: string;
  track?: string;
}

/** What recording the attempt came to: saved (and whether the lesson was passed before), or why not. */
type Saved = { readonly saved: true; readonly wasPassed: boolean } | { readonly saved: false; readonly why?: string };

export function registerCheckCommand(program: Command, { io, act }: Context): void {
  program
    .command('check')
    .description("run a lesson's check on your app (or the reference fix) with several workers")
    .argument('[lesson]', "lesson number or name (default: the lesson whose folder you are in)")
    .option('--json', 'machine-readable output')
    .option('--solution', 'check the reference fix instead of your file')
    .option('--workers <n>', "number of worker processes (default: the lesson's)", positiveInt('--workers', MAX_WORKERS))
    .option('--seed <seed>', 'route requests at random with this seed (printed with each run)', seedNumber)
    .addOption(new Option('--policy <policy>', 'how the balancer picks a worker').choices([...POLICIES]))
    .addOption(workspaceOption())
    .addOption(trackOption())
    .action(act((key: string | undefined, options: CheckOptions) => check(key, options, io)));
}

async function check(key: string | undefined, options: CheckOptions, io: Io): Promise<number> {
  const workspace = resolveWorkspace(options.workspace);
  const lesson = lessonOrHere(key, workspace, 'check', trackFor(workspace, options.track));
  const solution = options.solution ?? false;
  const appFile = appFileFor(lesson, workspace, solution);
  const policy: Policy = options.policy ?? (options.seed !== undefined ? 'random' : 'round-robin');
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: CheckResult;
  const startup = startupCollector();
  try {
    result = await runCheck(lesson, { appFile, workers: options.workers, seed: options.seed, policy, signal: abort.signal, onEvent: startup.onEvent });
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
    if (options.json) io.out(JSON.stringify({ error: 'The check was stopped before it finished.' }, null, 2));
    io.err('Check stopped.');
    return 130;
  }
  const saved = save(workspace, lesson, result, solution, io);
  // A learner's result that was not saved is an environment error: exit 2, said last.
  const lost = !saved.saved && saved.why !== undefined && !solution;
  if (options.json) {
    const json = { ...jsonResult(result, appFile), ...(startup.lines().length ? { startupOutput: startup.lines() } : {}) };
    const notSaved = !saved.saved && saved.why ? { saved: false, notSaved: saved.why } : { saved: saved.saved };
    io.out(JSON.stringify({ ...json, ...notSaved, ...(lost && !json.error ? { error: `The result could not be saved: ${saved.why}` } : {}) }, null, 2));
  } else {
    io.out(checkText(result, lesson.title, result.passed ? [] : startup.lines()));
    io.out('');
    const next = followUp(lesson, result, solution, appFile, saved, trackFor(workspace, options.track));
    if (next) io.out(next);
    if (!saved.saved && saved.why) {
      io.out('');
      io.out(
        solution
          ? `Not recorded: ${saved.why}`
          : `NOT SAVED: this ${result.passed ? 'pass' : 'attempt'} could not be recorded, so your progress is unchanged${result.passed && passCounts(lesson, result) ? ' and the next lesson stays locked' : ''}.\n${saved.why}`,
      );
    }
  }
  if (lost) return 2;
  return result.passed ? 0 : 1;
}

function save(workspace: Workspace | undefined, lesson: Lesson, result: CheckResult, solution: boolean, io: Io): Saved {
  if (!workspace) return { saved: false };
  try {
    return withProgress(
      workspace,
      (store) => {
        const wasPassed = store.summary().get(lesson.slug)?.passed ?? false;
        store.record(attemptOf(lesson, result, solution));
        return { saved: true, wasPassed };
      },
      io,
    );
  } catch (error) {
    const why = expectedMessage(error);
    if (why === undefined) throw error;
    return { saved: false, why };
  }
}

function followUp(lesson: Lesson, result: CheckResult, solution: boolean, appFile: string, saved: Saved, track: AppTrack): string {
  if (solution) return '';
  if (result.passed && !passCounts(lesson, result)) {
    return `Passed with ${result.workers} worker${result.workers === 1 ? '' : 's'}, as a laptop's dev server runs it. The lesson counts a pass on ${lesson.workers}: ${command('check', lesson.number)}`;
  }
  if (result.passed) {
    const next = lessonsFor(track).find((l) => l.number === lesson.number + 1);
    const opened = next && saved.saved && !saved.wasPassed ? `\n\nLesson ${next.number}, ${next.title}, is now open: ${command('check', next.number)} when you are ready.` : '';
    return lesson.why().trim() + opened;
  }
  return `Edit ${path.relative(process.cwd(), appFile)}, then check again. Stuck? ${command('hint', lesson.number)}`;
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
