import { Box, Text } from 'ink';
import type { Lesson } from '../lessons/types.ts';
import Markdown from './Markdown.tsx';

export type Props = {
  readonly lesson: Lesson;
  /** The file to edit, as the learner can copy it. */
  readonly file: string;
  readonly width: number;
};

/** The lesson's story and task, with the file to edit on a line of its own, easy to copy. */
export default function LessonText({ lesson, file, width }: Props) {
  return (
    <Box flexDirection="column">
      <Text>
        Edit <Text color="cyan" bold>{file}</Text>
      </Text>
      <Text dimColor>{`in your own editor; the check runs it on ${lesson.workers} workers.`}</Text>
      <Box marginTop={1}>
        <Markdown text={lesson.text()} width={width} />
      </Box>
    </Box>
  );
}
