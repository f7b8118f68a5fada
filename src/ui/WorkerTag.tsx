import { Text } from 'ink';
import { workerColour } from './theme.ts';

export type Props = {
  /** Numbered from 1; null when no worker answered. */
  readonly worker: number | null;
};

/** "worker 2", in worker 2's colour wherever it appears. */
export default function WorkerTag({ worker }: Props) {
  if (worker === null) return <Text color="red">no worker</Text>;
  return (
    <Text color={workerColour(worker)} bold>
      worker {worker}
    </Text>
  );
}
