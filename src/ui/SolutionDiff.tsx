import { Box, Text } from 'ink';
import type { DiffLine } from './diff-lines.ts';

export type Props = {
  readonly lines: readonly DiffLine[];
  /** The learner's file, as shown in the heading. */
  readonly file: string;
};

const PREFIX: Record<DiffLine['kind'], string> = { add: '+ ', remove: '- ', context: '  ', hunk: '' };
const COLOUR: Record<DiffLine['kind'], string | undefined> = { add: 'green', remove: 'red', context: undefined, hunk: 'cyan' };

/** The reference fix as a coloured diff against the learner's file: - yours, + the fix. */
export default function SolutionDiff({ lines, file }: Props) {
  if (lines.length === 0) return <Text color="green">{`${file} is the same as the reference fix.`}</Text>;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>The reference fix</Text> <Text dimColor>as changes to {file}:</Text> <Text color="red">- yours</Text> <Text color="green">+ the fix</Text>
      </Text>
      {lines.map((line, i) => (
        <Box key={i}>
          {line.kind === 'hunk' ? null : (
            <Box width={2} flexShrink={0}>
              <Text color={COLOUR[line.kind]}>{PREFIX[line.kind]}</Text>
            </Box>
          )}
          <Text color={COLOUR[line.kind]} dimColor={line.kind === 'context' || line.kind === 'hunk'} wrap="wrap">
            {line.text || ' '}
          </Text>
        </Box>
      ))}
    </Box>
  );
}
