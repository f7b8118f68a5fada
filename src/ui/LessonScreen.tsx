import { existsSync } from 'node:fs';
import path from 'node:path';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { Box, useInput, type DOMElement } from 'ink';
import type { CheckResult } from '../check/engine.ts';
import { fileSystemMessage, isFileSystemError } from '../fs-message.ts';
import { solutionFile } from '../lessons/catalogue.ts';
import type { Lesson } from '../lessons/types.ts';
import Badge from './Badge.tsx';
import CheckStory from './CheckStory.tsx';
import CompareRuns from './CompareRuns.tsx';
import type { DiffLine } from './diff-lines.ts';
import HintBox from './HintBox.tsx';
import type { KeyHint } from './KeyBar.tsx';
import { isRunning } from './check-state.ts';
import { checkedNotice, initialLessonUi, keyCommand, lessonReducer, type LessonCommand, type Notice } from './lesson-state.ts';
import LessonText from './LessonText.tsx';
import PassedPanel from './PassedPanel.tsx';
import Playground from './Playground.tsx';
import Screen from './Screen.tsx';
import ScrollView from './ScrollView.tsx';
import SolutionDiff from './SolutionDiff.tsx';
import { useCheckRun } from './use-check-run.ts';
import { useCourse, useSession } from './use-course.ts';
import { useScreenSize } from './use-screen-size.ts';
import { useWatch } from './use-watch.ts';

export type Props = {
  readonly lesson: Lesson;
  /** Back to the home screen. */
  readonly onBack: () => void;
  /** Open another lesson (the next one, after a pass). */
  readonly onOpen: (lesson: number) => void;
};

/** A lesson: its text, and from here its check, watch mode, playground, hints, solution and reset. */
export default function LessonScreen({ lesson, onBack, onOpen }: Props) {
  const { resources, quit, cwd } = useCourse();
  const session = useSession();
  const { columns } = useScreenSize();
  const [ui, dispatch] = useReducer(lessonReducer, initialLessonUi);
  const check = useCheckRun(lesson, resources);
  const one = useCheckRun(lesson, resources);
  const many = useCheckRun(lesson, resources);
  const [status, setStatus] = useState(() => session.status(lesson));
  const [unlocked, setUnlocked] = useState<Lesson>();
  const [diff, setDiff] = useState<readonly { readonly file: string; readonly lines: readonly DiffLine[] }[]>([]);
  const verdict = useRef<DOMElement>(null);
  // The comparison is two runs in a row: keys wait between them too.
  const [comparing, setComparing] = useState(false);

  const file = session.fileOf(lesson);
  const shownFile = session.displayPath(lesson);
  const next = session.lessons.find((l) => l.number === lesson.number + 1);
  const running = comparing || isRunning(check.view) || isRunning(one.view) || isRunning(many.view);
  const passed = status.state === 'passed';
  const say = (text: string, tone: Notice['tone'] = 'info') => dispatch({ type: 'notice', notice: { text, tone } });

  const fileIsThere = useCallback((): boolean => {
    if (existsSync(file)) return true;
    dispatch({ type: 'notice', notice: { text: `${shownFile} is missing: press r to put the starter back.`, tone: 'bad' } });
    return false;
  }, [file, shownFile]);

  /** Record a run of the lesson's check on the learner's file and say what it means. */
  const recorded = (result: CheckResult) => {
    let outcome;
    try {
      outcome = session.recordCheck(lesson, result);
    } catch (error) {
      return say(notSaved(result.passed, error), 'bad');
    }
    setStatus(session.status(lesson));
    if (outcome.unlocked) setUnlocked(outcome.unlocked);
    say(...checkedNotice({ passed: result.passed, started: !result.problem, unlocked: outcome.unlocked, next, file: shownFile, watching: ui.watching }));
  };

  const runCheck = async (trigger: 'key' | 'save') => {
    if (!fileIsThere()) return;
    dispatch({ type: 'show', panel: 'check' });
    dispatch({ type: 'notice', notice: undefined });
    const result = await check.start({ appFile: file, trigger });
    if (result) recorded(result);
  };

  const compare = async () => {
    if (!fileIsThere()) return;
    dispatch({ type: 'show', panel: 'compare' });
    dispatch({ type: 'notice', notice: undefined });
    setComparing(true);
    let result: CheckResult | undefined;
    try {
      const single = await one.start({ appFile: file, workers: 1, trigger: 'compare' });
      if (single) result = await many.start({ appFile: file, workers: lesson.workers, trigger: 'compare' });
    } finally {
      setComparing(false);
    }
    // The run on the lesson's own worker count is the real check: it counts, as pressing c does.
    if (result) recorded(result);
  };

  useWatch(
    path.dirname(file),
    ui.watching,
    () => {
      if (running) dispatch({ type: 'saved-while-running' });
      else void runCheck('save');
    },
    () => say(`Watching ${path.dirname(shownFile)}: every save runs the check.`),
  );

  // A save that arrived during a run is checked as soon as the run ends.
  useEffect(() => {
    if (!running && ui.rerun && ui.watching) {
      dispatch({ type: 'rerun-started' });
      void runCheck('save');
    }
  });

  const act = (command: LessonCommand) => {
    switch (command) {
      case 'quit':
        return quit();
      case 'check':
        return void runCheck('key');
      case 'compare':
        return void compare();
      case 'toggle-watch':
        dispatch({ type: 'watch', on: !ui.watching });
        return say(ui.watching ? 'Watch is off.' : `Starting to watch ${path.dirname(shownFile)}…`);
      case 'playground':
        dispatch({ type: 'notice', notice: undefined });
        return dispatch({ type: 'show', panel: 'playground' });
      case 'hint': {
        let number: number;
        let unsaved: unknown;
        try {
          number = session.revealHint(lesson);
        } catch (error) {
          // The hint is shown all the same; only its count could not be kept.
          number = Math.min(session.hintsShown(lesson) + 1, lesson.hints.length);
          unsaved = error;
        }
        dispatch({ type: 'notice', notice: unsaved ? { text: `This hint could not be counted as seen: ${errorText(unsaved)}`, tone: 'warn' } : undefined });
        return dispatch({ type: 'hint', number });
      }
      case 'solution':
        if (passed) return showSolution();
        dispatch({ type: 'ask', question: 'solution' });
        return say("You have not passed this lesson yet. Show the reference fix anyway? (y/n)", 'warn');
      case 'reset':
        dispatch({ type: 'ask', question: 'reset' });
        return say(`Put the starter back in ${shownFile}? Your version is kept as a backup. (y/n)`, 'warn');
      case 'text':
        return dispatch(ui.panel === 'text' ? { type: 'hide-hint' } : { type: 'show', panel: 'text' });
      case 'next':
        if (next) onOpen(next.number);
        return;
      case 'back':
        return onBack();
      case 'yes':
        dispatch({ type: 'answered' });
        if (ui.question === 'solution') return showSolution();
        if (ui.question === 'reset') {
          let backups: string[];
          try {
            backups = session.reset(lesson);
          } catch (error) {
            return say(`${shownFile} was not reset: ${errorText(error)} Your file is as it was.`, 'bad');
          }
          dispatch({ type: 'show', panel: 'text' });
          return say(`${shownFile} is the starter again.${backups.length ? ` Your version: ${backups.map((b) => path.relative(cwd, b)).join(', ')}` : ''}`, 'good');
        }
        return;
      case 'no':
        dispatch({ type: 'answered' });
        return dispatch({ type: 'notice', notice: undefined });
    }
  };

  function showSolution() {
    setDiff(session.solutionDiffs(lesson));
    dispatch({ type: 'notice', notice: undefined });
    dispatch({ type: 'show', panel: 'solution' });
  }

  const keyContext = { running, passed, worksLocally: lesson.worksLocally === true, hasNext: next !== undefined };
  useInput(
    (input, key) => {
      const command = keyCommand(ui, keyContext, input, key);
      if (command) act(command);
    },
    { isActive: ui.panel !== 'playground' },
  );

  if (ui.panel === 'playground') {
    return <Playground lesson={lesson} files={{ mine: file, reference: solutionFile(lesson) }} onBack={() => dispatch({ type: 'show', panel: 'text' })} />;
  }

  const width = Math.max(20, columns - 1);
  const badges = (
    <Box>
      {ui.watching ? <Badge label="● watching" colour="cyan" /> : null}
      {passed ? <Badge label="✓ passed" colour="green" /> : status.state === 'locked' ? <Badge label="locked" colour="gray" /> : null}
    </Box>
  );

  return (
    <Screen
      title={`Lesson ${lesson.number} · ${lesson.title}`}
      subtitle={panelTitle(ui.panel, lesson)}
      badges={badges}
      notice={running ? { text: 'Checking… keys wait until the run ends (q quits).', tone: 'info' } : ui.notice}
      keys={keyHints(ui.question !== undefined, running, ui.panel, ui.hint !== undefined, ui.watching, keyContext, lesson)}
    >
      {ui.panel === 'text' ? (
        <>
          <ScrollView key="text" active={!ui.question}>
            <LessonText lesson={lesson} file={shownFile} width={width} />
          </ScrollView>
          {ui.hint !== undefined ? <HintBox number={ui.hint} total={lesson.hints.length} text={lesson.hints[ui.hint - 1]} width={width} /> : null}
        </>
      ) : null}
      {ui.panel === 'check' ? (
        <ScrollView key={`check-${check.view.run}`} follow anchor={verdict} lead={6} active={!ui.question}>
          <CheckStory view={check.view} subject="your app" cwd={cwd} />
          {check.view.phase === 'passed' ? (
            <Box ref={verdict} flexDirection="column">
              <PassedPanel lesson={lesson} unlocked={unlocked} next={next} width={width} />
            </Box>
          ) : null}
        </ScrollView>
      ) : null}
      {ui.panel === 'compare' ? (
        <ScrollView key={`compare-${one.view.run}`} follow active={!ui.question}>
          <CompareRuns one={one.view} many={many.view} cwd={cwd} />
        </ScrollView>
      ) : null}
      {ui.panel === 'solution' ? (
        <ScrollView key="solution" active={!ui.question}>
          <Box flexDirection="column" gap={1}>
            {diff.map(({ file: shown, lines }) => (
              <SolutionDiff key={shown} lines={lines} file={shown} />
            ))}
          </Box>
        </ScrollView>
      ) : null}
    </Screen>
  );
}

/** A file-system error in words; other errors by their message. */
function errorText(error: unknown): string {
  return isFileSystemError(error) ? fileSystemMessage(error) : (error as Error).message;
}

/** A verdict that could not be saved: said plainly, with what still works. */
export function notSaved(passed: boolean, error: unknown): string {
  return `NOT SAVED: the check ${passed ? 'passed' : 'failed'}, but it could not be recorded, so your progress is unchanged${passed ? ' and the next lesson stays locked' : ''}. ${errorText(error)} Checks, watch, the playground and hints still work; passes count once the workspace can be written to again.`;
}

function panelTitle(panel: string, lesson: Lesson): string {
  switch (panel) {
    case 'check':
      return 'check';
    case 'compare':
      return `1 worker vs ${lesson.workers}`;
    case 'solution':
      return 'solution';
    default:
      return lesson.track === 'core' ? 'core track' : 'advanced track';
  }
}

function keyHints(
  asking: boolean,
  running: boolean,
  panel: string,
  hintShown: boolean,
  watching: boolean,
  context: { readonly passed: boolean; readonly worksLocally: boolean; readonly hasNext: boolean },
  lesson: Lesson,
): KeyHint[] {
  if (asking) return [{ key: 'y', label: 'yes' }, { key: 'n', label: 'no' }];
  if (running) return [{ key: 'q', label: 'quit' }];
  const keys: KeyHint[] = [
    { key: 'c', label: 'check' },
    { key: 'w', label: watching ? 'watch: on' : 'watch: off' },
    { key: 'p', label: 'playground' },
    { key: 'h', label: 'hint' },
    { key: 's', label: 'solution' },
    { key: 'r', label: 'reset' },
  ];
  if (context.worksLocally) keys.push({ key: 'l', label: `1 vs ${lesson.workers} workers` });
  if (context.passed && context.hasNext) keys.push({ key: 'n', label: 'next lesson' });
  if (panel !== 'text' || hintShown) keys.push({ key: 't', label: 'lesson text' });
  keys.push({ key: 'b', label: 'back' }, { key: 'q', label: 'quit' });
  return keys;
}
