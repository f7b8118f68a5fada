import { Box, Text } from 'ink';
import type { StepView } from './check-state.ts';
import RequestRow from './RequestRow.tsx';
import Prose from './Prose.tsx';
import StepMark from './StepMark.tsx';

export type Props = {
  readonly step: StepView;
  /** Hide the requests of steps that passed (the side-by-side comparison). */
  readonly compact?: boolean;
  /** What the app printed as it started, labelled by worker: shown under a failed step. */
  readonly startup?: readonly string[];
};

/** A step of a check: its mark, its title, its requests as they happen, and why it failed. */
export default function StepRow({ step, compact = false, startup = [] }: Props) {
  const showRequests = !compact || step.status === 'failed';
  return (
    <Box flexDirection="column">
      <Box>
        <Box width={2} flexShrink={0}>
          <StepMark status={step.status} />
        </Box>
        <Text wrap="wrap">
          <Text dimColor={step.status === 'pending' || step.status === 'not-run'}>{step.title}</Text>
          {step.status === 'not-run' ? <Text dimColor> (not run)</Text> : null}
          {step.status === 'left-out' ? <Text dimColor>{` (left out: ${step.note ?? ''})`}</Text> : null}
        </Text>
      </Box>
      {showRequests ? step.requests.map((record, i) => <RequestRow key={i} record={record} />) : null}
      {step.status === 'failed' ? (
        <Box flexDirection="column" paddingLeft={2}>
          {startup.length ? (
            <Box flexDirection="column">
              <Text dimColor>The app printed as it started (module-level code, at import):</Text>
              {startup.slice(-12).map((line, i) => (
                <Text key={i} dimColor wrap="truncate-end">{`│ ${line}`}</Text>
              ))}
            </Box>
          ) : null}
          {step.output?.length ? (
            <Box flexDirection="column">
              <Text dimColor>{startup.length ? 'And during this step:' : 'The app printed:'}</Text>
              {step.output.slice(-8).map((line, i) => (
                <Text key={i} dimColor wrap="truncate-end">{`│ ${line}`}</Text>
              ))}
            </Box>
          ) : null}
          {step.message ? <Prose color="red">{step.message}</Prose> : null}
          {step.diagnosis ? <Prose color="yellow">{step.diagnosis}</Prose> : null}
        </Box>
      ) : null}
    </Box>
  );
}
