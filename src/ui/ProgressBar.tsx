import { Text } from 'ink';

export type Props = {
  readonly done: number;
  readonly total: number;
};

/** "▰▰▱▱▱ 2 of 5 lessons passed" */
export default function ProgressBar({ done, total }: Props) {
  return (
    <Text>
      <Text color="green" aria-hidden>
        {'▰'.repeat(done)}
      </Text>
      <Text dimColor aria-hidden>
        {'▱'.repeat(Math.max(0, total - done))}
      </Text>
      {` ${done} of ${total} lesson${total === 1 ? '' : 's'} passed`}
    </Text>
  );
}
