// The lesson screen's own state (which panel shows, watch mode, a pending question, the hint on
// screen) and the mapping from keys to commands, both pure so they are tested without a terminal.
export type Panel = 'text' | 'check' | 'compare' | 'playground' | 'solution';
export type Question = 'reset' | 'solution';
export type Tone = 'info' | 'good' | 'warn' | 'bad';

export interface Notice {
  readonly text: string;
  readonly tone: Tone;
}

export interface LessonUi {
  readonly panel: Panel;
  readonly watching: boolean;
  readonly question?: Question;
  /** The hint on screen, numbered from 1. */
  readonly hint?: number;
  readonly notice?: Notice;
  /** A save arrived while a check ran: check again when it ends. */
  readonly rerun: boolean;
}

export type LessonAction =
  | { readonly type: 'show'; readonly panel: Panel }
  | { readonly type: 'watch'; readonly on: boolean }
  | { readonly type: 'ask'; readonly question: Question }
  | { readonly type: 'answered' }
  | { readonly type: 'hint'; readonly number: number }
  | { readonly type: 'hide-hint' }
  | { readonly type: 'notice'; readonly notice?: Notice }
  | { readonly type: 'saved-while-running' }
  | { readonly type: 'rerun-started' };

export const initialLessonUi: LessonUi = { panel: 'text', watching: false, rerun: false };

export function lessonReducer(ui: LessonUi, action: LessonAction): LessonUi {
  switch (action.type) {
    case 'show':
      return { ...ui, panel: action.panel, hint: action.panel === 'text' ? ui.hint : undefined };
    case 'watch':
      return { ...ui, watching: action.on, rerun: action.on ? ui.rerun : false };
    case 'ask':
      return { ...ui, question: action.question };
    case 'answered':
      return { ...ui, question: undefined };
    case 'hint':
      return { ...ui, panel: 'text', hint: action.number };
    case 'hide-hint':
      return { ...ui, hint: undefined };
    case 'notice':
      return { ...ui, notice: action.notice };
    case 'saved-while-running':
      return { ...ui, rerun: true };
    case 'rerun-started':
      return { ...ui, rerun: false };
  }
}

export type LessonCommand =
  | 'check'
  | 'toggle-watch'
  | 'playground'
  | 'hint'
  | 'solution'
  | 'reset'
  | 'compare'
  | 'text'
  | 'next'
  | 'back'
  | 'quit'
  | 'yes'
  | 'no';

/** What the keys depend on besides the screen's own state. */
export interface KeyContext {
  readonly running: boolean;
  readonly passed: boolean;
  readonly worksLocally: boolean;
  readonly hasNext: boolean;
}

export interface KeyInfo {
  readonly escape?: boolean;
  readonly ctrl?: boolean;
  readonly return?: boolean;
}

/**
 * What a key press asks for. While a check runs only quitting works (scrolling is handled by the
 * scroll view); while a question is open only its answers do.
 */
export function keyCommand(ui: LessonUi, context: KeyContext, input: string, key: KeyInfo): LessonCommand | undefined {
  if (key.ctrl && input === 'c') return 'quit';
  if (ui.question) {
    if (input === 'y' || input === 'Y') return 'yes';
    if (input === 'n' || input === 'N' || key.escape) return 'no';
    return undefined;
  }
  if (input === 'q') return 'quit';
  if (context.running) return undefined;
  if (key.escape || input === 'b') return ui.panel === 'text' && ui.hint === undefined ? 'back' : 'text';
  switch (input) {
    case 'c':
      return 'check';
    case 'w':
      return 'toggle-watch';
    case 'p':
      return 'playground';
    case 'h':
      return 'hint';
    case 's':
      return 'solution';
    case 'r':
      return 'reset';
    case 't':
      return 'text';
    case 'l':
      return context.worksLocally ? 'compare' : undefined;
    case 'n':
      return context.passed && context.hasNext ? 'next' : undefined;
    default:
      return undefined;
  }
}

/** What the notice line says after a recorded check: the verdict, and the next thing to do. */
export function checkedNotice(c: {
  readonly passed: boolean;
  /** False when the app did not start at all. */
  readonly started: boolean;
  readonly unlocked?: { readonly number: number; readonly title: string };
  readonly next?: { readonly number: number };
  /** The learner's file, as they can type it. */
  readonly file: string;
  readonly watching: boolean;
}): [string, Tone] {
  if (c.passed) {
    if (c.unlocked) return [`Passed! Lesson ${c.unlocked.number}, ${c.unlocked.title}, is now open: press n to go on.`, 'good'];
    return [c.next ? `Passed. Press n for lesson ${c.next.number}.` : 'Passed. That was the last lesson.', 'good'];
  }
  if (!c.started) return [`Your app did not start: fix ${c.file}, then ${c.watching ? 'save it (watch is on: saving checks again)' : 'press c again'}.`, 'bad'];
  return [`Not yet: edit ${c.file}, then ${c.watching ? 'save it (watch is on: saving checks again)' : 'press c, or w to check on every save'}. h for a hint.`, 'bad'];
}
