import { Box, Text } from 'ink';
import type { RequestRecord } from '../check/visitor.ts';
import { MARK } from './theme.ts';
import WorkerTag from './WorkerTag.tsx';

export type Props = {
  readonly record: RequestRecord;
};

/** One request of a check: visitor, method and path, → the worker that served it, status, body. */
export default function RequestRow({ record }: Props) {
  const failed = record.status === 0 || record.status >= 400;
  return (
    <Box paddingLeft={4}>
      <Text wrap="truncate-end">
        <Text bold>{record.visitor.padEnd(6)}</Text> {record.method.padEnd(4)} {record.path} <Text aria-label="served by">{MARK.arrow}</Text> <WorkerTag worker={record.worker} />{' '}
        <Text color={failed ? 'red' : 'green'}>{record.status === 0 ? '---' : String(record.status)}</Text> <Text dimColor>{record.body}</Text>
      </Text>
    </Box>
  );
}
