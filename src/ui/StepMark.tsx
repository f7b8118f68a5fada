import { Text } from 'ink';
import Spinner from 'ink-spinner';
import type { StepStatus } from './check-state.ts';
import { MARK } from './theme.ts';

export type Props = {
  readonly status: StepStatus;
};

/** ✓ passed, ✗ failed, a spinner while it runs, · not yet (or not run), ○ left out. */
export default function StepMark({ status }: Props) {
  switch (status) {
    case 'running':
      return (
        <Text color="cyan">
          <Spinner type="dots" />
        </Text>
      );
    case 'passed':
      return <Text color="green">{MARK.passed}</Text>;
    case 'failed':
      return <Text color="red">{MARK.failed}</Text>;
    case 'left-out':
      return <Text dimColor>{MARK.leftOut}</Text>;
    default:
      return <Text dimColor>{MARK.pending}</Text>;
  }
}
