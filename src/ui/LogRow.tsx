import { Text } from 'ink';
import type { LogEntry } from './playground-state.ts';
import { MARK } from './theme.ts';
import WorkerTag from './WorkerTag.tsx';

export type Props = {
  readonly entry: LogEntry;
};

/** A line of the playground's log: a request and the worker that served it, a worker's output, or news. */
export default function LogRow({ entry }: Props) {
  switch (entry.kind) {
    case 'request': {
      const failed = entry.status === 0 || entry.status >= 400;
      return (
        <Text wrap="truncate-end">
          <Text dimColor>{entry.at}</Text> <Text bold>{entry.visitor}</Text> {entry.method} {entry.path} {MARK.arrow} <WorkerTag worker={entry.worker} />{' '}
          <Text color={failed ? 'red' : 'green'}>{entry.status}</Text> <Text dimColor>{`${Math.round(entry.latencyMs)} ms ${oneLine(entry.body)}`}</Text>
        </Text>
      );
    }
    case 'output':
      return (
        <Text wrap="truncate-end">
          <Text dimColor>{entry.at}</Text> <WorkerTag worker={entry.worker} /> <Text dimColor>{`│ ${entry.line}`}</Text>
        </Text>
      );
    case 'note':
      return (
        <Text wrap="truncate-end" color={entry.tone === 'error' ? 'red' : 'yellow'}>
          <Text dimColor>{entry.at}</Text> {entry.text}
        </Text>
      );
  }
}

function oneLine(text: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  if (title !== undefined) return `page "${title}"`;
  return text.replace(/\s+/g, ' ').trim();
}
