import { Text } from 'ink';

export type Props = {
  readonly label: string;
  readonly colour?: string;
};

/** A short state on the title line: "✓ passed", "● watching". */
export default function Badge({ label, colour }: Props) {
  return (
    <Text color={colour} bold>
      {` ${label} `}
    </Text>
  );
}
