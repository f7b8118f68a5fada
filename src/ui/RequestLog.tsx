import { Box, Text } from 'ink';
import type { LogEntry } from './playground-state.ts';
import LogRow from './LogRow.tsx';

export type Props = {
  readonly entries: readonly LogEntry[];
  /** Rows available: the newest entries that fit are shown. */
  readonly rows: number;
};

/** The newest requests and news, newest last, as a terminal log reads. */
export default function RequestLog({ entries, rows }: Props) {
  const shown = entries.slice(-Math.max(1, rows));
  return (
    <Box flexDirection="column">
      {shown.length === 0 ? <Text dimColor>No requests yet.</Text> : shown.map((entry) => <LogRow key={entry.id} entry={entry} />)}
    </Box>
  );
}
