// The check engine: start the learner's app on a fresh host with fresh data, run the lesson's
// steps as simulated visitors, and record a transcript. Teardown always runs.
import { Host } from '../runtime/host.ts';
import { seededRandom, type Policy, type WorkerMode } from '../runtime/dispatcher.ts';
import type { HostEvent } from '../runtime/events.ts';
import { AppStartError } from '../runtime/processes.ts';
import { runtimeFor } from '../runtime/worker-runtime.ts';
import type { AppProblem } from '../runtime/protocol.ts';
import { jobsFileFor, type CheckContext, type Lesson } from './lesson.ts';
import { CheckFailure } from './expect.ts';
import { seedRun } from './scratch.ts';
import { drawSiteDomain, siteUrl } from './site.ts';
import { race, watchData } from './race.ts';
import { killBetweenCommits } from './crash-at.ts';
import { Visitor, type Reply, type RequestRecord } from './visitor.ts';
import { drawAddress, drawApiClient, drawBrowser } from './people.ts';
import { problemLine } from './problem-line.ts';
import { HttpCache, withCacheNote } from './http-cache.ts';

export { problemLine };

export interface StepResult {
  readonly title: string;
  readonly passed: boolean;
  /** "Expected ..., got ..." when the step failed. */
  readonly message?: string;
  /** What the failure means, in the lesson's terms. */
  readonly diagnosis?: string;
  /** The app's crash or error, with file and line, when it caused the failure. */
  readonly problem?: AppProblem;
  /** The last lines the workers printed while the step ran, when it failed. */
  readonly output?: readonly string[];
  /** True for steps not run: an earlier one failed, or the step does not apply to this run. */
  readonly skipped?: boolean;
  /** Why a step that passed was left out of this run. */
  readonly note?: string;
  readonly requests: readonly RequestRecord[];
}

export interface CheckResult {
  readonly lesson: string;
  readonly number: number;
  readonly passed: boolean;
  readonly workers: number;
  readonly policy: Policy;
  readonly seed: number;
  /** Set when the app could not start at all. */
  readonly problem?: AppProblem;
  readonly steps: readonly StepResult[];
  readonly durationMs: number;
}

export type CheckEvent =
  | { readonly type: 'check-start'; readonly lesson: string; readonly workers: number; readonly policy: Policy; readonly seed: number; readonly steps: readonly string[] }
  | { readonly type: 'host'; readonly event: HostEvent }
  | { readonly type: 'step-start'; readonly index: number; readonly title: string }
  | { readonly type: 'request'; readonly step: number; readonly record: RequestRecord }
  | { readonly type: 'step-end'; readonly index: number; readonly result: StepResult }
  | { readonly type: 'check-end'; readonly result: CheckResult };

export interface CheckOptions {
  /** Absolute path of the app module to check. */
  readonly appFile: string;
  readonly workers?: number;
  readonly policy?: Policy;
  readonly mode?: WorkerMode;
  readonly seed?: number;
  readonly onEvent?: (event: CheckEvent) => void;
  /** Default time limit of a step. */
  readonly stepTimeoutMs?: number;
  /** A request with no answer by then counts as a hang. */
  readonly requestTimeoutMs?: number;
  /** Aborting stops the run and its workers; the result marks the current step failed. */
  readonly signal?: AbortSignal;
  /**
   * Start from the warm pool of spare processes and keep it filled (the interactive course:
   * the next save starts warm). Otherwise (a one-shot `check`) the run boots exactly the
   * processes its steps need: its workers, and spares only for the steps that reload, ended
   * with the run.
   */
  readonly warmPool?: boolean;
}

const DEFAULT_STEP_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;

export async function runCheck(lesson: Lesson, options: CheckOptions): Promise<CheckResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const workers = options.workers ?? lesson.workers;
  const policy = options.policy ?? 'round-robin';
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  // One seeded stream for the run's data, another for its visitors: the same seed replays both.
  const runRandom = seededRandom(seed ^ 0x7a11);
  // The warm pool holds a start's worth of spares, and a reload's more when a step reloads: the
  // next save starts warm, and so does its reload. When it holds them all, it refills after the
  // run, not while the run's workers need the CPU.
  const warmPool = options.warmPool ? workers * (lesson.steps.some((step) => step.reloads) ? 2 : 1) : 0;
  const run = await seedRun(lesson, seed ^ 0x5eed);
  const { dir: dataDir, env } = run;
  const host = new Host({
    appFile: options.appFile,
    jobsFile: jobsFileFor(lesson, options.appFile),
    workers,
    policy,
    seed,
    mode: options.mode ?? lesson.mode,
    clock: lesson.clock,
    load: lesson.load,
    threads: lesson.threads,
    env,
    cwd: dataDir,
    machineDisk: (machine) => run.machineDisk(machine),
    isolatedMachines: lesson.machines,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    spares: warmPool || false,
  });
  const finish = (result: Omit<CheckResult, 'durationMs' | 'lesson' | 'number' | 'workers' | 'policy' | 'seed'>): CheckResult => {
    const full: CheckResult = {
      lesson: lesson.slug,
      number: lesson.number,
      workers,
      policy,
      seed: host.seed,
      ...result,
      durationMs: Math.round(performance.now() - started),
    };
    emit({ type: 'check-end', result: full });
    return full;
  };
  emit({ type: 'check-start', lesson: lesson.slug, workers, policy, seed: host.seed, steps: lesson.steps.map((s) => s.title) });

  const output: string[] = [];
  const offHost = host.events.on((event) => {
    if (event.type === 'worker-output' || event.type === 'jobs-output') {
      output.push(`[${event.type === 'jobs-output' ? 'jobs' : `worker ${event.worker}`}] ${event.line}`);
      if (output.length > 400) output.splice(0, output.length - 400);
    }
    emit({ type: 'host', event });
  });
  const stopHost = () => void host.stop();
  let visitorsOfRun: Iterable<Visitor> = [];
  options.signal?.addEventListener('abort', stopHost, { once: true });
  const releaseRefill = warmPool > 0 ? runtimeFor(options.appFile).holdRefill?.(warmPool) : undefined;

  try {
    try {
      await host.start();
    } catch (error) {
      if (error instanceof AppStartError) return finish({ passed: false, problem: error.problem, steps: [] });
      throw error;
    }

    const visitors = new Map<string, Visitor>();
    // The cache in front of the host (a CDN, a proxy): one for the run's visitors, as for a site's.
    const sharedCache = new HttpCache<Reply>('shared');
    visitorsOfRun = visitors.values();
    // The run's people: drawn from their own seeded stream, in the order the steps meet them.
    const peopleRandom = seededRandom(seed ^ 0x9e3779b9);
    // The site's own address, from a stream of its own (the people drawn for a seed stay the same).
    const site = siteUrl(drawSiteDomain(seededRandom(seed ^ 0x517e)));
    let records: RequestRecord[] = [];
    let stepIndex = 0;
    const record = (reply: Reply) => {
      const { visitor, method, path: p, worker, status } = reply;
      let body = reply.body;
      if (reply.json !== undefined && lesson.brief && status < 400) {
        try {
          body = lesson.brief(reply.json) ?? body;
        } catch {
          /* keep the raw summary */
        }
      }
      const entry: RequestRecord = { visitor, method, path: p, worker, status, body, ...(reply.kind ? { kind: reply.kind } : {}), ...(reply.cache ? { cache: reply.cache } : {}), ...(reply.revalidated ? { revalidated: true } : {}) };
      records.push(entry);
      emit({ type: 'request', step: stepIndex, record: entry });
    };
    const ctx: CheckContext = {
      visitor(name, visitorOptions = {}) {
        let v = visitors.get(name);
        if (!v) {
          const colleague = visitorOptions.like === undefined ? undefined : visitors.get(visitorOptions.like);
          if (visitorOptions.like !== undefined && !colleague) throw new Error(`visitor ${name} is like ${visitorOptions.like}, who has not visited yet`);
          const kind = visitorOptions.kind ?? colleague?.kind ?? 'browser';
          const profile = colleague && colleague.kind === kind ? colleague.profile : kind === 'api' ? drawApiClient(peopleRandom) : drawBrowser(peopleRandom);
          v = new Visitor(name, {
            baseUrl: site,
            balancerUrl: host.url,
            profile,
            address: colleague?.address ?? drawAddress(peopleRandom),
            record,
            sharedCache,
            timeoutMs: (options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) + 2000,
            // Someone who arrives after the check moved the clock (days later) lives on that date.
            dateAheadMs: host.clockAheadMs,
          });
          visitors.set(name, v);
        }
        return v;
      },
      workers,
      random: runRandom,
      seed,
      race: (first, second) => race(host, first, second),
      watchData: (worker) => watchData(host, worker),
      workerAt: (k) => ((k - 1) % workers) + 1,
      track: runtimeFor(options.appFile).language === 'python' ? 'flask' : 'node',
      appFile: options.appFile,
      dataDir,
      env,
      reload: (options) => host.reload(options),
      crash: (worker) => host.crash(worker),
      killBetweenCommits: (worker, options) => killBetweenCommits(host, worker, options),
      advanceClock: (ms) => host.advanceClock(ms),
      sameMoment: async (visits) => {
        await host.holdClock(true);
        try {
          return await visits();
        } finally {
          await host.holdClock(false);
        }
      },
      clockState: (worker) => host.clockState(worker),
      arriveTogether: (worker, count) => host.arriveTogether(worker, count),
      clockMoving: () => host.clockMoving,
      setMachines: (machines, options) => host.setMachines(machines, options),
      machineEnv: (machine) => (machine <= 1 ? env : run.machineDisk(machine).env),
    };

    // Spares for the steps that reload (or add workers), booting while the first steps run.
    if (!options.warmPool) host.reserveSpares(lesson.steps.filter((step) => step.reloads && !step.skip?.(ctx)).length * workers);

    // What the workers printed as they imported the app is read before the first step starts:
    // their output and their "ready" come on two channels, and the output may come second.
    await host.settle();

    const steps: StepResult[] = [];
    let failed = false;
    for (const [index, step] of lesson.steps.entries()) {
      if (failed) {
        steps.push({ title: step.title, passed: false, skipped: true, requests: [] });
        continue;
      }
      const skipReason = step.skip?.(ctx);
      if (skipReason) {
        const result: StepResult = { title: step.title, passed: true, skipped: true, note: skipReason, requests: [] };
        steps.push(result);
        emit({ type: 'step-end', index, result });
        continue;
      }
      stepIndex = index;
      records = [];
      const problemsBefore = host.problems.length;
      const outputBefore = output.length;
      emit({ type: 'step-start', index, title: step.title });
      let result: StepResult;
      try {
        await withTimeout(step.run(ctx), step.timeoutMs ?? options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS, options.signal);
        result = { title: step.title, passed: true, requests: records };
      } catch (error) {
        failed = true;
        await host.settle();
        const problem = host.problems[problemsBefore];
        const tail = output.slice(Math.max(outputBefore, output.length - 15));
        if (error instanceof CheckFailure) {
          result = {
            title: step.title,
            passed: false,
            message: error.message,
            diagnosis: withCacheNote(problem ? `${problemLine(problem)}${error.diagnosis ? `\n${error.diagnosis}` : ''}` : error.diagnosis, records),
            problem,
            output: tail.length ? tail : undefined,
            requests: records,
          };
        } else {
          result = {
            title: step.title,
            passed: false,
            message: (error as Error).message,
            problem,
            output: tail.length ? tail : undefined,
            requests: records,
          };
        }
      }
      steps.push(result);
      emit({ type: 'step-end', index, result });
    }
    return finish({ passed: !failed, steps });
  } finally {
    for (const v of visitorsOfRun) v.close();
    offHost();
    options.signal?.removeEventListener('abort', stopHost);
    await host.stop();
    releaseRefill?.();
    await run.remove();
  }
}

class StepTimeout extends Error {}

async function withTimeout<T>(work: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`The step did not finish within ${ms / 1000} s.`)), ms);
    onAbort = () => reject(new Error('The check was stopped.'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
