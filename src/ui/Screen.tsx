import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import KeyBar, { type KeyHint } from './KeyBar.tsx';
import NoticeLine from './NoticeLine.tsx';
import type { Notice } from './lesson-state.ts';
import { useScreenSize } from './use-screen-size.ts';

export type Props = {
  /** Bold, on the left of the top line. */
  readonly title: string;
  /** Dim, after the title. */
  readonly subtitle?: string;
  /** On the right of the top line: state badges (passed, watching). */
  readonly badges?: ReactNode;
  readonly notice?: Notice;
  readonly keys: readonly KeyHint[];
  readonly children: ReactNode;
};

/** The full-screen frame every screen shares: a title line, the body, news, the key bar. */
export default function Screen({ title, subtitle, badges, notice, keys, children }: Props) {
  const { columns, rows } = useScreenSize();
  return (
    <Box flexDirection="column" width={columns} height={Math.max(8, rows)}>
      <Box justifyContent="space-between" flexShrink={0}>
        <Text wrap="truncate-end">
          <Text bold>{title}</Text>
          {subtitle ? <Text dimColor>{`  ${subtitle}`}</Text> : null}
        </Text>
        {badges ? <Box flexShrink={0} marginLeft={1}>{badges}</Box> : null}
      </Box>
      <Box flexDirection="column" flexGrow={1} flexShrink={1} overflow="hidden" marginTop={1}>
        {children}
      </Box>
      <Box flexDirection="column" flexShrink={0}>
        <NoticeLine notice={notice} />
        <KeyBar keys={keys} />
      </Box>
    </Box>
  );
}
