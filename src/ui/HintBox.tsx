import { Box, Text } from 'ink';
import Markdown from './Markdown.tsx';

export type Props = {
  /** Numbered from 1. */
  readonly number: number;
  readonly total: number;
  readonly text: string;
  readonly width: number;
};

/** One hint, gentlest first, with how many there are. */
export default function HintBox({ number, total, text, width }: Props) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="yellow" paddingX={1} flexShrink={0}>
      <Text color="yellow" bold>
        {`Hint ${number} of ${total}`}
        {number < total ? <Text dimColor>{'  (h: the next one)'}</Text> : <Text dimColor>{'  (the last one; s shows the reference fix)'}</Text>}
      </Text>
      <Markdown text={text} width={width - 4} />
    </Box>
  );
}
