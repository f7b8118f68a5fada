import { useMemo, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import SelectInput from 'ink-select-input';
import type { LessonStatus } from '../progress/states.ts';
import type { Notice } from './lesson-state.ts';
import LessonRow from './LessonRow.tsx';
import ProgressBar from './ProgressBar.tsx';
import Screen from './Screen.tsx';
import { useCourse } from './use-course.ts';

export type Props = {
  readonly statuses: readonly LessonStatus[];
  /** The workspace folder, shown so the learner knows where their files are. */
  readonly workspace: string;
  /** The lesson to highlight first (the one just left); the current lesson otherwise. */
  readonly highlight?: number;
  readonly notice?: Notice;
  readonly onOpen: (lesson: number) => void;
};

const TRACK_NAME = { core: 'Core track', advanced: 'Advanced track' } as const;

/** Progress and the lessons by track; any lesson can be opened, a locked one after a question. */
export default function Home({ statuses, workspace, highlight, notice, onOpen }: Props) {
  const { quit } = useCourse();
  const initial = Math.max(
    0,
    statuses.findIndex((s) => (highlight === undefined ? s.state === 'current' : s.lesson.number === highlight)),
  );
  const [selected, setSelected] = useState(statuses[initial]?.lesson.number ?? 1);
  const [asking, setAsking] = useState<LessonStatus>();

  const items = useMemo(() => statuses.map((s) => ({ key: s.lesson.slug, label: s.lesson.slug, value: s.lesson.number })), [statuses]);
  const Item = useMemo(() => {
    const bySlug = new Map(statuses.map((s, i) => [s.lesson.slug, { status: s, heading: i === 0 || statuses[i - 1].lesson.track !== s.lesson.track }]));
    return function Item({ label, isSelected = false }: { readonly label: string; readonly isSelected?: boolean }) {
      const row = bySlug.get(label)!;
      return <LessonRow status={row.status} selected={isSelected} heading={row.heading ? TRACK_NAME[row.status.lesson.track] : undefined} />;
    };
  }, [statuses]);

  useInput((input, key) => {
    if ((key.ctrl && input === 'c') || input === 'q') return quit();
    if (!asking) return;
    if (input === 'y' || input === 'Y') {
      setAsking(undefined);
      onOpen(asking.lesson.number);
    } else if (input === 'n' || input === 'N' || key.escape) setAsking(undefined);
  });

  const passed = statuses.filter((s) => s.state === 'passed').length;
  const chosen = statuses.find((s) => s.lesson.number === selected);
  const question: Notice | undefined = asking
    ? {
        text: `Lesson ${asking.lesson.number} is locked until lesson ${asking.lesson.number - 1} passes. Open it anyway? (y/n)`,
        tone: 'warn',
      }
    : undefined;

  return (
    <Screen
      title="global-state-course"
      subtitle="module-level state on a multi-worker host"
      notice={question ?? notice}
      keys={
        asking
          ? [
              { key: 'y', label: 'open it' },
              { key: 'n', label: 'no' },
            ]
          : [
              { key: '↑↓', label: 'choose' },
              { key: 'enter', label: 'open' },
              { key: '1-9', label: 'jump to a lesson' },
              { key: 'q', label: 'quit' },
            ]
      }
    >
      <ProgressBar done={passed} total={statuses.length} />
      <Text dimColor wrap="truncate-middle">{`Workspace: ${workspace}`}</Text>
      <Box marginTop={1} flexDirection="column">
        <SelectInput
          items={items}
          initialIndex={initial}
          isFocused={!asking}
          indicatorComponent={NoIndicator}
          itemComponent={Item}
          onHighlight={(item) => setSelected(item.value)}
          onSelect={(item) => {
            const status = statuses.find((s) => s.lesson.number === item.value);
            if (status?.state === 'locked') setAsking(status);
            else onOpen(item.value);
          }}
        />
      </Box>
      {chosen ? (
        <Box marginTop={1}>
          <Text dimColor wrap="wrap">{chosen.lesson.summary}</Text>
        </Box>
      ) : null}
    </Screen>
  );
}

function NoIndicator() {
  return null;
}
