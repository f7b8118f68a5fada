import { Text } from 'ink';
import Spinner from 'ink-spinner';
import type { StepStatus } from './check-state.ts';
import { MARK } from './theme.ts';

export type Props = {
  readonly status: StepStatus;
};

/** ✓ passed, ✗ failed, a spinner while it runs, · not yet (or not run), ○ left out; said in words to a screen reader. */
export default function StepMark({ status }: Props) {
  switch (status) {
    case 'running':
      return (
        <Text color="cyan" aria-label="running:">
          <Spinner type="dots" />
        </Text>
      );
    case 'passed':
      return <Text color="green" aria-label="passed:">{MARK.passed}</Text>;
    case 'failed':
      return <Text color="red" aria-label="failed:">{MARK.failed}</Text>;
    case 'left-out':
      return <Text dimColor aria-label="left out:">{MARK.leftOut}</Text>;
    case 'not-run':
      return <Text dimColor aria-label="not run:">{MARK.pending}</Text>;
    default:
      return <Text dimColor aria-label="to come:">{MARK.pending}</Text>;
  }
}
