import { Box, Text } from 'ink';
import type { Lesson } from '../lessons/types.ts';
import Markdown from './Markdown.tsx';

export type Props = {
  readonly lesson: Lesson;
  /** The lesson this pass opened, if it opened one. */
  readonly unlocked?: Lesson;
  readonly next?: Lesson;
  readonly width: number;
};

/** A short celebration, what the lesson was about, and where to go next. */
export default function PassedPanel({ lesson, unlocked, next, width }: Props) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Box borderStyle="double" borderColor="green" paddingX={1} flexDirection="column">
        <Text color="green" bold>
          {`✓ Lesson ${lesson.number} passed: ${lesson.title}`}
        </Text>
        {unlocked ? <Text>{`Lesson ${unlocked.number}, ${unlocked.title}, is now open. Press n to go on.`}</Text> : null}
        {!unlocked && next ? <Text>{`Press n for lesson ${next.number}, ${next.title}.`}</Text> : null}
        {!next ? <Text>That was the last lesson of the course.</Text> : null}
        <Text dimColor>Press s to compare your fix with the reference fix.</Text>
      </Box>
      <Box marginTop={1}>
        <Markdown text={lesson.why()} width={width} />
      </Box>
    </Box>
  );
}
