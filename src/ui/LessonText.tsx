import { Box, Text } from 'ink';
import { COURSE_NAME, courseInvocation } from '../invocation.ts';
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
      <Text dimColor>{`in your own editor; the check runs it on ${lesson.workers} worker${lesson.workers === 1 ? '' : 's'}.`}</Text>
      <Box marginTop={1}>
        <Markdown text={runnable(lesson.text())} width={width} />
      </Box>
    </Box>
  );
}

/** Commands in the text, written the way this learner starts the course (`npx global-state-course …` under npx). */
export function runnable(text: string, invocation: string = courseInvocation()): string {
  return invocation === COURSE_NAME ? text : text.replaceAll(`\`${COURSE_NAME} `, `\`${invocation} `);
}
