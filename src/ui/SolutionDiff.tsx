import { Box, Text } from 'ink';
import type { DiffLine } from './diff-lines.ts';

export type Props = {
  readonly lines: readonly DiffLine[];
  /** The learner's file, as shown in the heading. */
  readonly file: string;
};

/** The reference fix as a coloured diff against the learner's file: - yours, + the fix. */
export default function SolutionDiff({ lines, file }: Props) {
  if (lines.length === 0) return <Text color="green">{`${file} is the same as the reference fix.`}</Text>;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>The reference fix</Text> <Text dimColor>as changes to {file}:</Text> <Text color="red">- yours</Text> <Text color="green">+ the fix</Text>
      </Text>
      {lines.map((line, i) => {
        switch (line.kind) {
          case 'hunk':
            return (
              <Text key={i} color="cyan" dimColor>
                {line.text}
              </Text>
            );
          case 'add':
            return (
              <Text key={i} color="green">
                {`+ ${line.text}`}
              </Text>
            );
          case 'remove':
            return (
              <Text key={i} color="red">
                {`- ${line.text}`}
              </Text>
            );
          default:
            return <Text key={i} dimColor>{`  ${line.text}`}</Text>;
        }
      })}
    </Box>
  );
}
