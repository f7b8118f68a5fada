import { Box, Text } from 'ink';
import type { LessonStatus } from '../progress/states.ts';
import { MARK } from './theme.ts';

export type Props = {
  readonly status: LessonStatus;
  readonly selected: boolean;
  /** A track's name, shown above its first lesson. */
  readonly heading?: string;
};

const STATE = {
  passed: { mark: MARK.passed, colour: 'green', label: 'passed' },
  current: { mark: MARK.current, colour: 'cyan', label: 'current' },
  open: { mark: MARK.open, colour: undefined, label: 'open' },
  locked: { mark: MARK.locked, colour: 'gray', label: 'locked' },
} as const;

/** A lesson in the home list: pointer, state mark, number and title, state and attempts. */
export default function LessonRow({ status, selected, heading }: Props) {
  const { lesson, state, attempts } = status;
  const look = STATE[state];
  return (
    <Box flexDirection="column">
      {heading ? (
        <Box marginTop={lesson.number === 1 ? 0 : 1}>
          <Text bold underline>
            {heading}
          </Text>
        </Box>
      ) : null}
      <Text wrap="truncate-end">
        <Text color="cyan" aria-label={selected ? 'selected: ' : ''}>{selected ? `${MARK.pointer} ` : '  '}</Text>
        <Text color={look.colour} aria-hidden>{look.mark}</Text>{' '}
        <Text bold={selected} dimColor={state === 'locked' && !selected}>{`${String(lesson.number).padStart(2)}. ${lesson.title}`}</Text>
        <Text dimColor>{`  ${look.label}${attempts ? ` · ${attempts} attempt${attempts === 1 ? '' : 's'}` : ''}`}</Text>
      </Text>
    </Box>
  );
}
