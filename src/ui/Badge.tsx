import { Text } from 'ink';

export type Props = {
  readonly label: string;
  readonly colour?: string;
};

/** The words of a label, without its mark: "✓ passed" is read as "passed". */
const spoken = (label: string) => label.replace(/^[^\p{L}\p{N}]+/u, '');

/** A short state on the title line: "✓ passed", "● watching". */
export default function Badge({ label, colour }: Props) {
  return (
    <Text color={colour} bold aria-label={` ${spoken(label)} `}>
      {` ${label} `}
    </Text>
  );
}
