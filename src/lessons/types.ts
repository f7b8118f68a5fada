// What a lesson is: data (text, hints, where the exercise lives) plus a scripted check.
import type { Visitor } from '../check/visitor.ts';
import type { WorkerMode } from '../runtime/dispatcher.ts';
import type { ClockState } from '../runtime/host.ts';

export type Track = 'core' | 'advanced';

/** What a step of a check can do: send requests as visitors, reload the host, move its clock. */
export interface CheckContext {
  /** The visitor with this name; the same name gives the same visitor (and cookie jar) within a run. */
  visitor(name: string): Visitor;
  /** How many workers serve this run. */
  readonly workers: number;
  /**
   * Worker k of this run, wrapping around: with 3 workers, 4 is worker 1; with one worker,
   * every k is worker 1. Steps address "another worker" this way, so they run with any count.
   */
  workerAt(k: number): number;
  /** The scratch folder holding this run's seed data. */
  readonly dataDir: string;
  /** The environment the app was given (paths of its data). */
  readonly env: Readonly<Record<string, string>>;
  /** Restart every worker, as a host's reload button does. */
  reload(): Promise<void>;
  /** Move the workers' clock forward (lessons with a manual clock). */
  advanceClock(ms: number): Promise<void>;
  /**
   * Worker k's time and how many timers wait on its manual clock: lets a step see that a
   * request is waiting (on a simulated network call) before it sends the next one.
   */
  clockState(worker: number): Promise<ClockState | undefined>;
  /** Spread the workers over this many machines, each running as many as one runs now (all restart). */
  setMachines(machines: number): Promise<void>;
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
  /** One key, not one the playground already uses (+ - 1-8 r s m b q). */
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
  /** Write fresh seed data into `dir`; returns the environment that tells the app where it is. */
  seed(dir: string): Record<string, string>;
  readonly steps: readonly CheckStep[];
}
