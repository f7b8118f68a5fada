// The lesson contract: what a lesson is (data: text, hints, where the exercise lives; plus a
// scripted check) and what its steps may ask of the engine. It sits below the engine that runs it:
// lessons import it, the engine never imports a lesson.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Reply, Visitor, VisitorOptions } from './visitor.ts';
import type { WorkerMode } from '../runtime/dispatcher.ts';
import type { ClockState } from '../runtime/host.ts';
import type { CrashPoint } from './crash-at.ts';

export type Track = 'core' | 'advanced';

/** The framework a workspace's apps are written in: Express on Node, or Flask on Python. */
export type AppTrack = 'node' | 'flask';

/**
 * What a lesson says differently on the Flask track: its files, text and hints. The story, the
 * seed data and the check's steps are the same (one HTTP contract for both tracks).
 */
export interface TrackVariant {
  readonly file: string;
  readonly jobs?: string;
  readonly summary?: string;
  readonly text: () => string;
  readonly why: () => string;
  readonly hints: readonly string[];
  /** How the Python host loads the app for this lesson: once, then fork (the default), or in each worker. */
  readonly load?: 'preload' | 'lazy';
  /** Python: threads per worker (gunicorn's gthread, `--threads N`); absent, a worker serves one request at a time. */
  readonly threads?: number;
  /**
   * Steps (by title) to leave out on this track, saying why: a forced race the track's workers
   * cannot hold (a data operation its workers do not report).
   */
  readonly forcedRaces?: readonly string[];
  /** Set while the track's files lag behind the lesson's check: the lesson is left out of the track. */
  readonly pending?: string;
}

/** What a step of a check can do: send requests as visitors, reload the host, move its clock. */
export interface CheckContext {
  /**
   * The visitor with this name; the same name gives the same visitor (and cookie jar) within a run.
   * Each visitor is a plausible person drawn from the run's seed: a browser (pages, forms, the
   * page's own API calls) or an API client, with a real User-Agent and a client address. Options
   * apply when the visitor is first met: `like: 'alice'` puts the new visitor on alice's network
   * and browser build (an office colleague), so keying by address or User-Agent fails.
   */
  visitor(name: string, options?: VisitorOptions): Visitor;
  /**
   * The run's seeded random source (0 <= x < 1): the same seed gives the same run. Use it to vary
   * what must not matter (which worker goes first, names, amounts) so that hard-coded answers fail.
   */
  random(): number;
  /** The run's seed, printed with every result so that a run can be replayed with --seed. */
  readonly seed: number;
  /**
   * Force the classic race between two requests on two different workers, the same way every
   * run: `first` runs until it has done the data operation `first.holdAfter` picks (by default its
   * first read of a database or file), and is held there; `second` runs to its end (or until it
   * waits for a lock `first` holds); then `first` goes on. Returns both answers.
   *
   * Both on ONE worker: `first` is held at the first asynchronous operation `holdAfter` picks (by
   * default its first one: a promise it awaits, the worker free meanwhile) while `second` runs on
   * the same worker. A synchronous operation cannot be held there without blocking `second`: when
   * `first` has no asynchronous one (an app that never awaits, a Flask worker), nothing overlaps
   * it, and `second` simply runs after it.
   */
  race(first: RaceRunner, second: RaceRunner): Promise<readonly [Reply, Reply]>;
  /**
   * Watch worker k's data operations: `waitingToWrite()` tells, at any moment, that the worker is
   * blocked inside a write (or BEGIN IMMEDIATE) on a lock, as when the check holds the database's
   * write lock while a crowd arrives. An event, not a guess from quiet time. Stop when done.
   */
  watchData(worker: number): Promise<{ waitingToWrite(): boolean; stop(): Promise<void> }>;
  /** How many workers serve this run. */
  readonly workers: number;
  /**
   * Worker k of this run, wrapping around: with 3 workers, 4 is worker 1; with one worker,
   * every k is worker 1. Steps address "another worker" this way, so they run with any count.
   */
  workerAt(k: number): number;
  /**
   * The track of the app under check: the steps are the same on both, but a diagnosis that names
   * a library or a call can say it in the app's own language.
   */
  readonly track: AppTrack;
  /**
   * The app's main file, as the learner wrote it. A check reads it only as an attacker would who
   * has seen the shop's code (published, or leaked): never to recognise one fix or another.
   */
  readonly appFile: string;
  /** The scratch folder holding this run's seed data. */
  readonly dataDir: string;
  /** The environment the app was given (paths of its data). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Restart every worker, as a host's reload button does: all at once, or (`startFirst`, a
   * deploy as gunicorn's HUP makes it) every new worker started while the old ones still serve,
   * and the old ones stopped once the new ones serve.
   */
  reload(options?: { readonly startFirst?: boolean }): Promise<void>;
  /**
   * Kill worker k at once (SIGKILL, as an out-of-memory kill or a lost machine does: requests it
   * is serving are cut off, no handler runs) and start a fresh worker in its place, as a host
   * does. Resolves once the new worker serves.
   */
  crash(worker: number): Promise<void>;
  /**
   * Arm a kill on worker k between two commits: just before a write that begins a new
   * transaction once an earlier write of its has committed; a fresh worker starts in its place
   * (crash-at.ts).
   */
  killBetweenCommits(worker: number, options?: { readonly after?: number }): Promise<CrashPoint>;
  /** Move the workers' clock forward (lessons with a manual clock). */
  advanceClock(ms: number): Promise<void>;
  /**
   * Run `visits` with the date held still on every worker (lessons with a manual clock, whose
   * date otherwise goes on with real time): everyone who arrives meanwhile arrives in the same
   * millisecond, as two people do on a busy site. Timers are not touched.
   */
  sameMoment<T>(visits: () => Promise<T>): Promise<T>;
  /**
   * Worker k's time and how many timers wait on its manual clock: lets a step see that a
   * request is waiting (on a simulated network call) before it sends the next one.
   */
  clockState(worker: number): Promise<ClockState | undefined>;
  /**
   * The next `count` requests to reach worker k arrive at the same moment, as on a busy site.
   * A threaded worker (gunicorn's gthread) then serves them as the GIL would: one thread at a
   * time, handing over between the app's request callbacks, the same way every run. A Node
   * worker serves them as it always does, one at a time up to its first await.
   */
  arriveTogether(worker: number, count: number): Promise<void>;
  /**
   * How many of the app's processes are still running what the clock's last move woke (the
   * timers due, and the database calls they made): the others have nothing more to do until the
   * next move. An event-like view of "who may still come", for a step that waits on the database.
   */
  clockMoving(): number;
  /**
   * Spread the workers over this many machines, each running as many as one runs now. With
   * `clockBehindMs`, the date of every machine but the first runs that far behind the first's
   * (real machines' clocks differ): its timers set for a time of day fire that much later as
   * the clock moves. clockState(worker) gives each worker's own date.
   */
  setMachines(machines: number, options?: { clockBehindMs?: number }): Promise<void>;
  /**
   * The environment machine k's processes are given: machine 1's is `env`; another machine's
   * names the files on its own disk (and shares what lives outside it, such as DATABASE_URL).
   */
  machineEnv(machine: number): Readonly<Record<string, string>>;
}

/** One data operation an app's worker made, as the host sees it when it holds the worker there. */
export type DataOperation =
  | { readonly kind: 'sql'; readonly sql: string; readonly write: boolean }
  | { readonly kind: 'file'; readonly file: string; readonly write: boolean };

/** One side of a forced race. */
export interface RaceRunner {
  /** The worker (1-based) that serves this side's request. */
  readonly worker: number;
  /** Send the request, pinned to `worker` (`{ worker }` in the visitor's options). */
  send(): Promise<Reply>;
  /** Hold this side after the operation this picks; default: its first read of shared data. */
  readonly holdAfter?: (operation: DataOperation) => boolean;
}

export interface CheckStep {
  readonly title: string;
  /** The step reloads the host or starts more workers: the engine keeps warm spare workers ready for it. */
  readonly reloads?: boolean;
  run(ctx: CheckContext): Promise<void>;
  /**
   * When this returns a reason, the step is left out of this run (it passes, with the reason as
   * its note): a step about reloads with several workers means nothing with one.
   */
  skip?(ctx: CheckContext): string | undefined;
  /** Milliseconds the step may take; the check's default otherwise. */
  readonly timeoutMs?: number;
}

/** Something the learner can do to the running app's data from the playground, as the lesson's story does. */
export interface PlaygroundAction {
  /** One key, not one the playground already uses (+ - = 1-8 r R s m b q, and t T with a manual clock). */
  readonly key: string;
  readonly label: string;
  /** Change the data the app was given (`env` points at it); returns what happened, in a sentence. */
  run(env: Readonly<Record<string, string>>): string;
}

export interface Lesson {
  readonly number: number;
  /** Folder name in exercises/, solutions/ and the workspace: "01-frozen-at-startup". */
  readonly slug: string;
  readonly title: string;
  readonly track: Track;
  /** One line for lists. */
  readonly summary: string;
  /** The file the learner edits, relative to the lesson's folder. */
  readonly file: string;
  /** Markdown: story, symptom, what to edit, what the check does. */
  readonly text: () => string;
  /** Markdown shown after passing. */
  readonly why: () => string;
  /** Progressive hints, gentlest first. */
  readonly hints: readonly string[];
  /** Workers the check runs by default. */
  readonly workers: number;
  readonly mode: WorkerMode;
  readonly clock?: 'real' | 'manual';
  /**
   * A file beside the app (say "jobs.js") that the host runs, when it exists, in one process of
   * its own next to the workers: the place for a scheduled task.
   */
  readonly jobs?: string;
  /** True when running the check with one worker teaches something (the "works locally" moment). */
  readonly worksLocally?: boolean;
  /** A short summary of a JSON answer for transcripts, when the lesson can say it better than raw JSON. */
  brief?(json: unknown): string | undefined;
  /** What the playground offers to do to the data (lesson 1: change a price behind the app's back). */
  readonly playground?: readonly PlaygroundAction[];
  /**
   * Write fresh seed data into `dir`; returns the environment that tells the app where it is.
   * `random` is the run's seeded source: vary names, prices and amounts with it (replayable).
   */
  seed(dir: string, random: () => number): Record<string, string>;
  /**
   * A database every machine shares, as an app that outgrows one machine has: SQL that creates
   * and fills it. The course starts its PostgreSQL server on demand; each run gets a fresh copy,
   * named to the app by DATABASE_URL (seed data on disk stays per machine).
   */
  readonly database?: { readonly sql: string };
  /**
   * The most machines a step spreads the workers over (ctx.setMachines), when more than one:
   * each machine's processes then see a disk of their own from the start of the check.
   */
  readonly machines?: number;
  readonly steps: readonly CheckStep[];
  /** Python apps: load once and fork the workers (the default), or import in each worker (gunicorn without --preload). */
  readonly load?: 'preload' | 'lazy';
  /** Python apps: threads per worker (gunicorn's gthread); absent, each worker serves one request at a time (sync). */
  readonly threads?: number;
  /** The lesson on the Flask track, once written (exercises/<slug>/app.py and its text). */
  readonly flask?: TrackVariant;
}

/** The lesson as the track presents it: the Node lesson itself, or its Flask variant over the same steps. */
export function onTrack(lesson: Lesson, track: AppTrack): Lesson | undefined {
  if (track === 'node') return lesson;
  const variant = lesson.flask;
  if (!variant || variant.pending) return undefined;
  const { flask: _flask, ...common } = lesson;
  const { forcedRaces = [], pending: _pending, ...presented } = variant;
  const steps = lesson.steps.map((step) =>
    forcedRaces.includes(step.title) ? { ...step, skip: () => "this forced race needs a data operation that this track's workers do not report" } : step,
  );
  return { ...common, ...presented, steps, jobs: variant.jobs, summary: variant.summary ?? lesson.summary };
}

/** The lesson's jobs module beside `appFile`, when the lesson has one and it exists. */
export function jobsFileFor(lesson: Lesson, appFile: string): string | undefined {
  if (!lesson.jobs) return undefined;
  const file = path.join(path.dirname(appFile), lesson.jobs);
  return existsSync(file) ? file : undefined;
}
