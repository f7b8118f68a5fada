import path from 'node:path';
import { Box, Text } from 'ink';
import type { AppProblem } from '../runtime/protocol.ts';

export type Props = {
  readonly problem: AppProblem;
  /** Where the course was started, to shorten the file's path. */
  readonly cwd: string;
};

/** Why the app could not start or crashed: the error, its file and line, what the app printed. */
export default function ProblemBox({ problem, cwd }: Props) {
  const where = problem.file ? path.relative(cwd, problem.file) || problem.file : undefined;
  return (
    <Box flexDirection="column">
      <Text color="red">{problem.message}</Text>
      {where ? <Text>{`  in ${where}${problem.line ? `:${problem.line}${problem.column ? `:${problem.column}` : ''}` : ''}`}</Text> : null}
      {problem.output?.length ? (
        <Box flexDirection="column">
          <Text dimColor>  The app printed:</Text>
          {problem.output.slice(-10).map((line, i) => (
            <Text key={i} dimColor wrap="truncate-end">{`  │ ${line}`}</Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
