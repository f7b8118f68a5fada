import { Text } from 'ink';
import type { Notice } from './lesson-state.ts';

export type Props = {
  readonly notice?: Notice;
};

const COLOUR = { info: undefined, good: 'green', warn: 'yellow', bad: 'red' } as const;

/** One line of news above the key bar: what just happened, or the question being asked. */
export default function NoticeLine({ notice }: Props) {
  if (!notice) return null;
  return (
    <Text color={COLOUR[notice.tone]} wrap="wrap">
      {notice.text}
    </Text>
  );
}
