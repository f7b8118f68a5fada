import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import type { CheckView } from './check-state.ts';
import ProblemBox from './ProblemBox.tsx';
import StepRow from './StepRow.tsx';

export type Props = {
  readonly view: CheckView;
  /** Whose app: "your app", "the reference fix". */
  readonly subject: string;
  readonly cwd: string;
  /** Only the steps' marks and the failure (the side-by-side comparison). */
  readonly compact?: boolean;
};

/** A check run as it happens: each step, each request to the worker that served it, the verdict. */
export default function CheckStory({ view, subject, cwd, compact = false }: Props) {
  if (view.phase === 'idle') return <Text dimColor>No check has run yet.</Text>;
  const workers = `${view.workers} worker${view.workers === 1 ? '' : 's'}`;
  const routing = view.policy === 'random' ? `random routing, seed ${view.seed}` : view.policy ? view.policy : '';
  const passedSteps = view.steps.filter((s) => s.status === 'passed').length;
  const leftOut = view.steps.filter((s) => s.status === 'left-out').length;
  const count = leftOut
    ? `${passedSteps} passed, ${leftOut} left out, of ${view.steps.length} steps`
    : `${passedSteps} of ${view.steps.length} steps${view.phase === 'failed' ? ' passed' : ''}`;
  const failing = view.steps.findIndex((s) => s.status === 'failed');
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{`Checking ${subject} on ${workers}`}</Text>
        {routing ? <Text dimColor>{` · ${routing}`}</Text> : null}
        {view.trigger === 'save' ? <Text dimColor> · you saved</Text> : null}
        {view.run > 1 ? <Text dimColor>{` · run ${view.run}`}</Text> : null}
      </Text>
      {view.phase === 'starting' ? (
        <Text>
          <Text color="cyan" aria-hidden>
            <Spinner type="dots" />
          </Text>
          {` Starting ${workers}… ${view.ready} of ${view.workers} ready`}
        </Text>
      ) : null}
      {view.problem ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color="red">✗ The app did not start.</Text>
          <ProblemBox problem={view.problem} cwd={cwd} />
        </Box>
      ) : null}
      {view.error ? <Text color="red">{`The check could not run: ${view.error}`}</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        {view.steps.map((step, i) => (
          <StepRow key={i} step={step} compact={compact} startup={i === failing ? view.startup : undefined} />
        ))}
      </Box>
      {view.phase === 'passed' ? (
        <Text>{'\n'}
          <Text color="green" bold>
            PASSED
          </Text>
          {`  ${count} · ${seconds(view.durationMs)}`}
        </Text>
      ) : null}
      {view.phase === 'failed' ? (
        <Text>{'\n'}
          <Text color="red" bold>
            FAILED
          </Text>
          {view.problem ? `  the app did not start, so no step ran · ${seconds(view.durationMs)}` : `  ${count} · ${seconds(view.durationMs)}`}
        </Text>
      ) : null}
      {view.phase === 'stopped' ? <Text color="yellow">Stopped.</Text> : null}
    </Box>
  );
}

function seconds(ms: number | undefined): string {
  return `${((ms ?? 0) / 1000).toFixed(1)} s`;
}
