import { Box, Text } from 'ink';
import type { WorkerView } from './playground-state.ts';
import { workerColour } from './theme.ts';

export type Props = {
  readonly worker: WorkerView;
};

const STATE_COLOUR: Record<WorkerView['state'], string | undefined> = {
  starting: 'yellow',
  idle: 'green',
  busy: 'cyan',
  crashed: 'red',
  stopped: 'gray',
};

/** One worker process: its pid, idle or busy, requests served, restarts after a crash. */
export default function WorkerPanel({ worker }: Props) {
  const colour = workerColour(worker.index);
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={colour} width={19} paddingX={1} flexShrink={0}>
      <Text color={colour} bold>
        worker {worker.index}
      </Text>
      <Text>pid {worker.pid > 0 ? worker.pid : '—'}</Text>
      <Text color={STATE_COLOUR[worker.state]} aria-label={worker.state}>● {worker.state}</Text>
      <Text>
        served {worker.served}
        {worker.restarts > 0 ? (
          <Text color="red" aria-label={`, restarted ${worker.restarts} time${worker.restarts === 1 ? '' : 's'}`}>{` ↻${worker.restarts}`}</Text>
        ) : (
          <Text dimColor aria-hidden>
            {' ↻0'}
          </Text>
        )}
      </Text>
    </Box>
  );
}
