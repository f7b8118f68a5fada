import { useEffect, useRef } from 'react';
import { Box, Text, useBoxMetrics, useInput, type DOMElement } from 'ink';
import type { Lesson } from '../lessons/types.ts';
import type { KeyHint } from './KeyBar.tsx';
import ProblemBox from './ProblemBox.tsx';
import RequestLog from './RequestLog.tsx';
import Screen from './Screen.tsx';
import { CLOCK_STEPS, MAX_WORKERS, usePlayground, type PlaygroundFiles } from './use-playground.ts';
import { useCourse } from './use-course.ts';
import WorkerPanel from './WorkerPanel.tsx';

export type Props = {
  readonly lesson: Lesson;
  readonly files: PlaygroundFiles;
  /** Leave the playground (its workers stop). */
  readonly onBack: () => void;
  /** Workers to start with; the lesson's own count otherwise. */
  readonly workers?: number;
};

/** The learner's app (or the reference fix) on a local URL: a panel per worker and a live request log. */
export default function Playground({ lesson, files, onBack, workers }: Props) {
  const { resources, quit, cwd } = useCourse();
  const { view, start, reload, setWorkers, stop, act, advanceClock } = usePlayground(lesson, files, resources, workers ?? lesson.workers);
  const logBox = useRef<DOMElement>(null);
  const { height: logRows } = useBoxMetrics(logBox);

  useEffect(() => {
    void start('mine', workers ?? lesson.workers);
    // Start once, when the playground opens; keys restart it after.
  }, []);

  const onCluster = view.host === 'cluster';
  // node:cluster runs Node apps; a Flask app stays on the course's (preforking) host.
  const canCluster = !files.mine.endsWith('.py');
  const manualClock = lesson.clock === 'manual' && !onCluster;
  useInput((input, key) => {
    if ((key.ctrl && input === 'c') || input === 'q') return quit();
    if (key.escape || input === 'b') {
      void stop();
      return onBack();
    }
    if (input === '+' || input === '=' || key.rightArrow) void setWorkers(view.count + 1);
    else if (input === '-' || key.leftArrow) void setWorkers(view.count - 1);
    else if (/^[1-8]$/.test(input)) void setWorkers(Number(input));
    else if (input === 'r') void reload();
    else if (input === 'R') void reload(true);
    else if (input === 'm') void start(view.source === 'mine' ? 'reference' : 'mine', view.count);
    else if (input === 'h' && canCluster) void start(view.source, view.count, onCluster ? 'course' : 'cluster');
    else if (input === 's') void (view.phase === 'stopped' ? start(view.source, view.count) : stop());
    else if (manualClock && CLOCK_STEPS[input] && view.phase === 'running') void advanceClock(CLOCK_STEPS[input].ms, CLOCK_STEPS[input].label);
    else if (view.phase === 'running') act(input);
  });

  const keys: KeyHint[] = [
    { key: '+/-', label: `workers (1-${MAX_WORKERS})` },
    ...(view.phase === 'stopped' ? [{ key: 'r', label: 'start' }] : [{ key: 'r/R', label: 'reload all at once/one by one' }]),
    { key: 's', label: view.phase === 'stopped' ? 'start' : 'stop' },
    { key: 'm', label: view.source === 'mine' ? 'run the reference fix' : 'run your app' },
    ...(canCluster ? [{ key: 'h', label: onCluster ? "the course's host" : 'node:cluster' }] : []),
    ...(manualClock ? [{ key: 't/T', label: 'clock +1 hour/day' }] : []),
    ...(lesson.playground ?? []).map((a) => ({ key: a.key, label: a.label })),
    { key: 'b', label: 'back' },
    { key: 'q', label: 'quit' },
  ];
  const who = view.source === 'mine' ? 'your app' : 'the reference fix';

  return (
    <Screen title={`Lesson ${lesson.number} · ${lesson.title}`} subtitle="playground" keys={keys}>
      {view.url ? (
        <Text wrap="wrap">
          Open <Text color="cyan" bold>{view.url}</Text> in a browser. A private window is a second visitor.
        </Text>
      ) : (
        <Text dimColor>{view.phase === 'stopped' ? 'Stopped. Press s to start again.' : view.phase === 'failed' ? 'The app did not start.' : 'Starting…'}</Text>
      )}
      <Text dimColor wrap="truncate-end">
        {onCluster
          ? `${who} on node:cluster, ${view.count} worker${view.count === 1 ? '' : 's'}: each new connection goes to the next one`
          : view.count === 1
            ? `${who} on 1 worker: one process, as your laptop's dev server runs it`
            : `${who} on ${view.count} workers: each a process of its own, with its own memory`}
      </Text>
      {onCluster ? (
        <Text dimColor wrap="truncate-end">
          A browser keeps its connection, so it stays on one worker; a private window or a reconnect moves.
        </Text>
      ) : null}
      {view.problem ? <ProblemBox problem={view.problem} cwd={cwd} /> : view.error ? <Text color="red" wrap="wrap">{view.error}</Text> : null}
      <Box flexWrap="wrap" flexShrink={0}>
        {view.workers.map((worker) => (
          <WorkerPanel key={worker.index} worker={worker} />
        ))}
      </Box>
      <Text bold>Requests</Text>
      <Box ref={logBox} flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden">
        <RequestLog entries={view.log} rows={logRows || 1} />
      </Box>
    </Screen>
  );
}
