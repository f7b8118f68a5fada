import { Box, Text } from 'ink';

export interface KeyHint {
  /** What to press, as shown: "c", "enter", "↑↓". */
  readonly key: string;
  readonly label: string;
}

export type Props = {
  /** The keys that work on this screen now, most used first. */
  readonly keys: readonly KeyHint[];
};

/** The keys of the screen, one line (two on a narrow terminal). */
export default function KeyBar({ keys }: Props) {
  return (
    <Box flexWrap="wrap" columnGap={2}>
      {keys.map((hint) => (
        <Text key={hint.key + hint.label}>
          <Text bold color="cyan">
            {hint.key}
          </Text>{' '}
          {hint.label}
        </Text>
      ))}
    </Box>
  );
}
